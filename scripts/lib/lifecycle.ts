/** Runs `start`, then stops what it started on Ctrl+C or SIGTERM; exits 1 with the message when starting fails. */
export async function runUntilSignal(start: () => Promise<{ stop(): Promise<void> }>, onStopping?: () => void): Promise<void> {
  try {
    const running = await start();
    let stopping = false;
    const shutdown = async () => {
      if (stopping) return;
      stopping = true;
      onStopping?.();
      await running.stop();
      process.exit(0);
    };
    process.on("SIGINT", shutdown);
    process.on("SIGTERM", shutdown);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
