/**
 * Runs `start`, then stops what it started on Ctrl+C or SIGTERM and exits 0 (a graceful stop: see
 * server/http/graceful.ts and server/jobs/worker.ts); exits 1 with the message when starting fails.
 * Also exits 1, having stopped what it started:
 * - when what it runs gives up by itself (`ended`, e.g. `npm start` could not keep the web server running);
 * - on an error nothing handled (an uncaught exception or rejection, e.g. in the in-process worker or simulator),
 *   so that no child is left running without its parent;
 * - when the process that started this one (over an IPC channel, as `npm start` starts the web server) is gone.
 * What it says goes to the log (server/logging/), as this process's service.
 */
import { logger } from "../../server/logging/logger.ts";

export async function runUntilSignal(
  start: () => Promise<{ stop(): Promise<void>; ended?: Promise<string>; stopWithinMs?: number }>,
  onStopping?: () => void,
): Promise<void> {
  let running: { stop(): Promise<void>; stopWithinMs?: number } | undefined;
  let stopping = false;
  const shutdown = async (code: number, message?: string) => {
    if (stopping) return;
    stopping = true;
    if (message) logger().error(message);
    else onStopping?.();
    // Never hang on the way out: a stop that does not finish in time (the grace period and some) is cut short.
    const limit = setTimeout(() => {
      console.error("Stopping took too long; exiting now.");
      process.exit(code);
    }, running?.stopWithinMs ?? 30_000);
    limit.unref();
    await running?.stop().catch((err: unknown) => logger().error(`While stopping: ${err instanceof Error ? err.message : String(err)}`));
    process.exit(code);
  };
  const unexpected = (kind: string) => (err: unknown) => {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    void shutdown(1, `Unexpected error (${kind}): ${detail}\nStopping everything this process started.`);
  };
  process.on("uncaughtException", unexpected("uncaught exception"));
  process.on("unhandledRejection", unexpected("unhandled rejection"));
  // Started by another process with an IPC channel: go when it goes (even when it was killed with SIGKILL).
  if (process.channel) {
    process.on("disconnect", () => void shutdown(1, "The process that started this one is gone; stopping."));
    process.channel.unref();
  }
  try {
    const started = await start();
    running = started;
    if (stopping) {
      await started.stop();
      return;
    }
    process.on("SIGINT", () => void shutdown(0));
    process.on("SIGTERM", () => void shutdown(0));
    void started.ended?.then((reason) => {
      // Everything is stopped already; say why and fail.
      stopping = true;
      logger().error(`${reason} Everything it started has been stopped.`);
      process.exit(1);
    });
  } catch (err) {
    logger().error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
