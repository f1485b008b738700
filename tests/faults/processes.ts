/**
 * The real processes of the fault suite, started and killed by the suite
 * itself (nothing here depends on `npm start` supervising anything):
 * - PostgreSQL: the embedded server (server/db/embedded.ts), in a data folder
 *   of its own, stopped and started again on the same folder and port;
 * - the provider simulator (scripts/simulator.ts), a child process;
 * - the web process (scripts/web.ts, the production build), a child process;
 * - the worker (scripts/worker.ts), a child process.
 * Children log to files under the suite's data folder (appended across
 * restarts), so a failure can be read afterwards.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from "node:fs";
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../server/db/embedded.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");

/** The little of the suite's own environment a child gets (none of the product's settings leak in). */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG"]) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  return env;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Gave up waiting ${Math.round(timeoutMs / 1000)} s for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    await sleep(everyMs);
  }
}

/** A child process that can be killed and started again with the same command and environment. */
export class ManagedProcess {
  private child: ChildProcess | null = null;
  private readonly log: WriteStream;
  /** Every unexpected exit (not one this class asked for): "code 1", "signal SIGSEGV"… */
  readonly unexpectedExits: string[] = [];
  /** How it last ended (code and signal), expected or not. */
  lastExit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private expectingExit = false;
  private output = "";

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: Record<string, string>,
    logDir: string,
    private readonly ready: (proc: ManagedProcess) => Promise<void>,
  ) {
    mkdirSync(logDir, { recursive: true });
    this.log = createWriteStream(path.join(logDir, `${name}.log`), { flags: "a" });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the process printed since it was last started. */
  get printed(): string {
    return this.output;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.output = "";
    this.expectingExit = false;
    this.log.write(`\n===== start ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, this.script)], {
      cwd: ROOT,
      env: { ...baseEnv(), ...this.env } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const take = (chunk: Buffer) => {
      this.log.write(chunk);
      if (this.output.length < 1_000_000) this.output += chunk.toString();
    };
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    child.on("exit", (code, signal) => {
      this.lastExit = { code, signal };
      this.log.write(`===== exit ${new Date().toISOString()} code=${code} signal=${signal}\n`);
      if (!this.expectingExit) this.unexpectedExits.push(signal ? `signal ${signal}` : `code ${code}`);
    });
    await this.ready(this);
  }

  /** SIGKILL, as a crash or the OOM killer would: no shutdown code runs. Resolves once it is gone. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  /** SIGTERM (its graceful shutdown), then SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), 15_000);
    try {
      await this.signal("SIGTERM");
    } finally {
      clearTimeout(timer);
    }
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return Promise.resolve();
    this.expectingExit = true;
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise((r) => this.log.end(r));
  }
}

/** Resolves once `url` answers 200 (or throws when the process exits first). */
export async function waitForHttpOk(proc: ManagedProcess, url: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `${proc.name} to answer ${url}`,
    async () => {
      if (!proc.running) throw new Error(`${proc.name} exited while starting:\n${proc.printed.slice(-3000)}`);
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      return res.ok;
    },
    timeoutMs,
    200,
  );
}

/** The embedded PostgreSQL, restartable on the same data folder and port. */
export class RestartablePostgres {
  private server: EmbeddedDatabase | null = null;
  url = "";

  constructor(
    private readonly dataDir: string,
    private readonly port: number,
    private readonly password: string,
  ) {}

  async start(): Promise<void> {
    if (this.server) throw new Error("PostgreSQL is already running");
    this.server = await startEmbeddedPostgres({ dataDir: this.dataDir, port: this.port, password: this.password });
    this.url = this.server.url;
  }

  /** Stops the server (PostgreSQL's fast shutdown: every connection is cut). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    await s?.stop();
  }

  get running(): boolean {
    return this.server !== null;
  }

  get initialised(): boolean {
    return existsSync(path.join(this.dataDir, "PG_VERSION"));
  }
}
