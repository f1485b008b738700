/**
 * The portal's logs, on pino (docs/deploy.md "Logs"). Every process writes
 * one record per event to its standard output:
 * - LOG_FORMAT=json: one JSON object per line: time, level, msg, service
 *   (web, worker, launcher, simulator), pid, hostname, and the context
 *   fields (requestId of the HTTP request being answered; taskId and
 *   taskRequestId on a task's lines; err with its stack);
 * - otherwise (`npm start` with no configuration): one readable line per
 *   event (server/logging/format.ts).
 * LOG_LEVEL (default info) sets the least level written.
 *
 * The context of the work being done (the HTTP request, or the worker) is
 * kept in an AsyncLocalStorage, so every line logged while answering a
 * request carries its id without passing it around. The storage and the
 * loggers live on globalThis (a Symbol.for key): the web server's copy of
 * this module and the production build's bundled copy are two modules in one
 * process, and both must see the same request.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import os from "node:os";
import { format as formatArgs } from "node:util";
import pino, { type DestinationStream, type Logger } from "pino";
import { formatJsonLine } from "./format.ts";

export type LogService = "web" | "worker" | "launcher" | "simulator";
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type { Logger };

/** What is being done: the service doing it, and the fields every line of it carries (requestId…). */
export interface LogContext {
  service?: LogService;
  fields: Record<string, unknown>;
}

export interface LoggingOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Where lines go (tests capture them); standard output (and standard error for warnings, as text) by default. */
  write?: (line: string) => void;
}

interface Shared {
  context: AsyncLocalStorage<LogContext>;
  /** This process's service, for lines written outside any context. */
  service: LogService;
  options: LoggingOptions | null;
  roots: Map<LogService, Logger>;
  strayRouted?: boolean;
}

const SHARED = Symbol.for("wan-video-portal.logging");
function shared(): Shared {
  const g = globalThis as Record<symbol, Shared | undefined>;
  return (g[SHARED] ??= { context: new AsyncLocalStorage<LogContext>(), service: "web", options: null, roots: new Map() });
}

/** LOG_FORMAT and LOG_LEVEL as the environment sets them (server/config.ts refuses other values at start). */
export function loggingFromEnv(env: Record<string, string | undefined> = process.env): { format: LogFormat; level: LogLevel } {
  const format = (LOG_FORMATS as readonly string[]).includes(env.LOG_FORMAT?.trim().toLowerCase() ?? "") ? (env.LOG_FORMAT!.trim().toLowerCase() as LogFormat) : "text";
  const level = (LOG_LEVELS as readonly string[]).includes(env.LOG_LEVEL?.trim().toLowerCase() ?? "") ? (env.LOG_LEVEL!.trim().toLowerCase() as LogLevel) : "info";
  return { format, level };
}

function destination(opts: { format: LogFormat; write?: (line: string) => void }): DestinationStream {
  if (opts.format === "json") {
    if (opts.write) return { write: opts.write };
    // Synchronous: a line written just before the process exits is not lost.
    return pino.destination({ dest: 1, sync: true });
  }
  const write = opts.write;
  return {
    write(line: string) {
      const text = `${formatJsonLine(line)}\n`;
      if (write) write(text);
      else if (/"level":"(warn|error|fatal)"/.test(line)) process.stderr.write(text);
      else process.stdout.write(text);
    },
  };
}

function createRoot(service: LogService, s: Shared): Logger {
  const env = loggingFromEnv();
  const format = s.options?.format ?? env.format;
  const level = s.options?.level ?? env.level;
  return pino(
    {
      level,
      base: { service, pid: process.pid, hostname: os.hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The context's fields (a copy: pino merges the line's own fields into what this returns).
      mixin: () => ({ ...s.context.getStore()?.fields }),
    },
    destination({ format, write: s.options?.write }),
  );
}

/**
 * The logger for the work being done now: the service of the current context
 * (a request: web; a worker job: worker), else `service`, else this process's.
 */
export function logger(service?: LogService): Logger {
  const s = shared();
  const which = service ?? s.context.getStore()?.service ?? s.service;
  let root = s.roots.get(which);
  if (!root) {
    root = createRoot(which, s);
    s.roots.set(which, root);
  }
  return root;
}

/** Names this process's service (scripts/web.ts: web, scripts/worker.ts: worker…), for lines written outside any context. */
export function setLogService(service: LogService): void {
  shared().service = service;
}

/**
 * With LOG_FORMAT=json, what other code prints (Next.js and libraries through
 * console.*, Node's warnings) becomes log lines too, so that the output stays
 * one JSON object per line. Done when this module is first loaded (the entry
 * points import it first, before anything that may print).
 */
function routeStrayOutput(): void {
  const s = shared();
  if (s.strayRouted) return;
  s.strayRouted = true;
  const levels = { log: "info", info: "info", debug: "debug", warn: "warn", error: "error" } as const;
  for (const [method, level] of Object.entries(levels) as Array<[keyof typeof levels, (typeof levels)[keyof typeof levels]]>) {
    console[method] = (...args: unknown[]) => {
      const err = args.find((a) => a instanceof Error);
      const msg = formatArgs(...args.filter((a) => a !== err)).trim() || (err as Error | undefined)?.message || "";
      logger()[level](err ? { err } : {}, msg);
    };
  }
  // Node prints warnings itself (several lines on standard error); one line each instead.
  process.removeAllListeners("warning");
  process.on("warning", (warning) => logger().warn({ warning: warning.name }, warning.message.replace(/\s*\n\s*/g, " ")));
}

/** Replaces the format, level or destination (tests); null goes back to the environment's. */
export function configureLogging(options: LoggingOptions | null): void {
  const s = shared();
  s.options = options;
  s.roots.clear();
}

/** Runs `fn` with `context`: its lines carry the context's fields (added to those of the context it runs in). */
export function withLogContext<T>(context: { service?: LogService; fields?: Record<string, unknown> }, fn: () => T): T {
  const s = shared();
  const outer = s.context.getStore();
  return s.context.run({ service: context.service ?? outer?.service, fields: { ...outer?.fields, ...context.fields } }, fn);
}

/** The id of the HTTP request being answered, when there is one. */
export function currentRequestId(): string | undefined {
  const id = shared().context.getStore()?.fields.requestId;
  return typeof id === "string" ? id : undefined;
}

/** The fields of a task's lines: its id, and the id of the request that submitted it (grep either to follow the task). */
export function taskFields(task: { id: string; requestId?: string | null }): { taskId: string; taskRequestId?: string } {
  return task.requestId ? { taskId: task.id, taskRequestId: task.requestId } : { taskId: task.id };
}

/** An Error's message, for a line's own words (the `err` field keeps the whole error). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

if (loggingFromEnv().format === "json") routeStrayOutput();
