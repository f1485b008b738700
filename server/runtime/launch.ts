/**
 * `npm start`: everything on one machine, with no configuration required.
 * Resolves what is missing (embedded Postgres, the provider simulator, a local
 * auth secret), migrates the database, creates the bootstrap admin, builds the
 * Next.js app when no build exists, and runs it behind the portal's own web
 * server (scripts/web.ts). It supervises what it starts (server/runtime/supervisor.ts):
 * the web server and the embedded PostgreSQL are restarted with back-off
 * when they die, and when they cannot be kept running everything is stopped
 * and `ended` says why (scripts/start.ts then exits non-zero).
 * Its lines are the launcher's (server/logging/); the web process writes its
 * own to the same output, passed through untouched (with LOG_FORMAT=json each
 * stays one JSON object per line); with LOG_FORMAT=json, `next build`'s
 * output becomes the launcher's lines too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { loadConfig, loadRuntimeConfig, type Config } from "../config.ts";
import { startWorker } from "../jobs/worker.ts";
import { buildServices } from "../services.ts";
import { createDb } from "../db/client.ts";
import { startEmbeddedPostgres, stopEmbeddedServersOurselves, type EmbeddedDatabase } from "../db/embedded.ts";
import { applyMigrations } from "../db/migrate.ts";
import { loadOrCreateLocalSecrets } from "../local-secrets.ts";
import { startSimulator } from "../simulator/simulator.ts";
import { ensureBootstrapAdmin } from "../users/users.ts";
import { sleepUnlessAborted, supervise, type RestartPolicy, type Running, type Supervised } from "./supervisor.ts";
import { logger, loggingFromEnv } from "../logging/logger.ts";

export interface LaunchOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
  /**
   * The web process's script instead of scripts/web.ts (tests run a small
   * stand-in); no production build is made for it.
   */
  webScript?: string;
  /** The restart policy of the web server and the embedded PostgreSQL (tests use short waits). */
  restartPolicy?: Partial<RestartPolicy>;
}

export interface Launched {
  /**
   * Stops everything it started (idempotent), in order: the web server and the
   * worker first and together (each finishes its work in flight within
   * SHUTDOWN_GRACE_SECONDS), then the simulator, then the embedded PostgreSQL.
   */
  stop(): Promise<void>;
  /** How long `stop()` may take at most (scripts/lib/lifecycle.ts exits anyway after it). */
  stopWithinMs: number;
  /** Resolves with the reason once it gave up keeping the product running, after stopping everything. */
  ended: Promise<string>;
  /** Process ids of the children running now (for tests and diagnostics). */
  pids(): { web?: number; postgres?: number };
}

export async function launch(opts: LaunchOptions = {}): Promise<Launched> {
  const cwd = opts.cwd ?? process.cwd();
  const config: Config = loadConfig(opts.env ?? process.env);
  const json = loggingFromEnv(opts.env ?? process.env).format === "json";
  // An empty line spaces out the text for a person; a JSON log has no use for it.
  const log = opts.log ?? ((l: string) => (json && l.trim() === "" ? undefined : logger("launcher").info(l)));
  const dataDir = path.resolve(cwd, config.dataDir);
  const secrets = await loadOrCreateLocalSecrets(dataDir);
  // What serves people (the web server, the worker) stops first, together; then what they use, last started first.
  const front: Array<() => Promise<void>> = [];
  const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (front.length > 0) {
        await Promise.all(front.map((s) => s().catch((e) => log(`shutdown: ${String(e)}`))));
        log("Stopped the web server and the worker.");
      }
      for (const s of stops.reverse()) {
        await s.stop().catch((e) => log(`shutdown: ${String(e)}`));
        log(`Stopped ${s.name}.`);
      }
    })());
  // Ctrl+C and SIGTERM are the caller's (scripts/lib/lifecycle.ts), which calls stop(): nothing stops on its own first.
  stopEmbeddedServersOurselves();
  let resolveEnded!: (reason: string) => void;
  const ended = new Promise<string>((r) => (resolveEnded = r));
  /** A supervisor gave up: stop everything, then say why. */
  const giveUp = (reason: string) => {
    log(`${reason} Stopping everything.`);
    void stop().then(() => resolveEnded(reason));
  };
  const superviseDeps = { log, now: () => Date.now(), sleep: sleepUnlessAborted, policy: opts.restartPolicy };
  let pgSupervisor: Supervised | undefined;
  let webSupervisor: Supervised | undefined;

  try {
    // 1. Database
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      log(`Starting embedded PostgreSQL (data in ${path.join(dataDir, "pg")}, port ${config.embeddedPgPort})…`);
      const startPg = async (): Promise<Running & { pg: EmbeddedDatabase }> => {
        const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, "pg"), port: config.embeddedPgPort, password: secrets.embeddedPgPassword, notice: log, ownProcessGroup: true });
        return { pg, exited: pg.exited, stop: () => pg.stop() };
      };
      const pg = await startPg();
      pgSupervisor = supervise({ ...superviseDeps, name: "The embedded PostgreSQL", start: startPg }, pg);
      void pgSupervisor.gaveUp.then(giveUp);
      const supervisor = pgSupervisor;
      stops.push({ name: "the embedded PostgreSQL", stop: () => supervisor.stop() });
      databaseUrl = pg.pg.url;
    }
    const { applied } = await applyMigrations(databaseUrl, { log: (m) => log(`  ${m}`) });
    log(applied.length > 0 ? `Applied migrations: ${applied.join(", ")}` : "Database schema is up to date.");

    const db = createDb(databaseUrl);
    const admin = await ensureBootstrapAdmin(db, { email: config.admin.email, password: config.admin.password });
    await db.$disconnect();

    // 2. Provider: the real API when a key is configured, else the local simulator.
    let providerEnv: Record<string, string>;
    if (config.provider.apiKey) {
      providerEnv = { EVOLINK_BASE_URL: config.provider.baseUrl, EVOLINK_API_KEY: config.provider.apiKey, EVOLINK_SIMULATOR: "0" };
    } else {
      const sim = await startSimulator({
        port: config.simulator.port,
        apiKey: secrets.simulatorKey,
        stepMs: config.simulator.stepMs,
        // Accepted tasks survive a restart, as at the provider (server/simulator/store.ts).
        dataDir: path.join(dataDir, "simulator"),
      });
      stops.push({ name: "the provider simulator", stop: () => sim.close() });
      log(`Provider simulator on ${sim.url} (set EVOLINK_API_KEY to use the real provider).`);
      if (sim.tasks.size > 0) log(`  It still knows its ${sim.tasks.size} task(s) from before (kept in ${path.join(dataDir, "simulator")}).`);
      providerEnv = { EVOLINK_BASE_URL: sim.url, EVOLINK_API_KEY: secrets.simulatorKey, EVOLINK_SIMULATOR: "1" };
    }

    // 3. The web app
    const childEnv = {
      ...(opts.env ?? process.env),
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      DATABASE_URL: databaseUrl,
      AUTH_SECRET: config.authSecret ?? secrets.authSecret,
      PUBLIC_BASE_URL: config.publicBaseUrl,
      ...providerEnv,
    } as NodeJS.ProcessEnv;
    if (!opts.webScript) {
      const nextBin = createRequire(path.join(cwd, "package.json")).resolve("next/dist/bin/next");
      const stale = await buildIsStale(cwd);
      if (stale) {
        log(`${stale}: running \`next build\`…`);
        const build = spawn(process.execPath, [nextBin, "build"], { cwd, env: childEnv, stdio: json ? ["ignore", "pipe", "pipe"] : "inherit" });
        // In JSON, each line of the build's output is one of the launcher's lines.
        if (json) for (const stream of [build.stdout!, build.stderr!]) createInterface({ input: stream }).on("line", (line) => line.trim() && log(`next build: ${line}`));
        await run(build);
      }
    }
    // The portal's own server in front of the build (server/http/web-server.ts), run through tsx as this launcher is.
    const webScript = opts.webScript ?? path.join(cwd, "scripts", "web.ts");
    const startWeb = () => startWebProcess({ cwd, env: childEnv, script: webScript, port: config.port, stopWithinMs: config.shutdownGraceMs + 10_000 });
    const web = await startWeb();
    webSupervisor = supervise(
      {
        ...superviseDeps,
        name: "The web server",
        start: startWeb,
        // With the embedded database given up, a web server would only answer errors.
        cannotRestart: async () => (pgSupervisor && !pgSupervisor.current() ? "the embedded PostgreSQL is not running." : null),
      },
      web,
    );
    void webSupervisor.gaveUp.then(giveUp);
    const supervisedWeb = webSupervisor;
    front.push(() => supervisedWeb.stop());

    // 4. The background worker (reconciler, archiver), unless it runs apart (`npm run worker`).
    if (config.worker.runInStart) {
      const services = buildServices(loadRuntimeConfig(childEnv));
      // The worker's lines are its own (service "worker"), not the launcher's.
      const worker = await startWorker(services);
      front.push(async () => {
        await worker.stop();
        await services.db.$disconnect();
      });
      log("Background worker started (polling the provider, archiving results).");
    }

    log("");
    log(`Wan video portal is running: ${config.publicBaseUrl}`);
    if (admin) {
      log(`First start: created the admin account`);
      log(`  email:    ${admin.email}`);
      log(`  password: ${config.admin.password ? "(from ADMIN_PASSWORD)" : admin.password}`);
      log(`  (shown once; sign in and keep it somewhere safe)`);
    }
    return {
      stop,
      // The web server and the worker (the grace period and some), then the simulator and PostgreSQL.
      stopWithinMs: config.shutdownGraceMs + 40_000,
      ended,
      pids: () => ({ web: (webSupervisor?.current() as WebProcess | undefined)?.pid, postgres: (pgSupervisor?.current() as { pg?: EmbeddedDatabase } | undefined)?.pg?.pid }),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Sources whose change calls for a new production build. */
const BUILD_INPUTS = ["app", "server", "next.config.mjs", "package-lock.json", "tsconfig.json"];
const NOT_BUILD_INPUTS = new Set(["generated", "node_modules"]);

/** Why the production build must be (re)made, or null when it is current. */
export async function buildIsStale(cwd: string): Promise<string | null> {
  const buildId = path.join(cwd, ".next", "BUILD_ID");
  if (!existsSync(buildId)) return "No production build yet";
  const builtAt = (await stat(buildId)).mtimeMs;
  const newest = async (p: string): Promise<number> => {
    const info = await stat(p).catch(() => null);
    if (!info) return 0;
    if (!info.isDirectory()) return info.mtimeMs;
    const entries = await readdir(p, { withFileTypes: true });
    const times = await Promise.all(entries.filter((e) => !NOT_BUILD_INPUTS.has(e.name)).map((e) => newest(path.join(p, e.name))));
    return Math.max(0, ...times);
  };
  const changed = Math.max(...(await Promise.all(BUILD_INPUTS.map((p) => newest(path.join(cwd, p))))));
  return changed > builtAt ? "The code changed since the last build" : null;
}

function run(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${child.spawnargs.join(" ")} exited with ${code}`))));
  });
}

/** SIGTERM, then SIGKILL when it has not ended after `withinMs` (its own graceful stop's limit). */
function terminate(child: ChildProcess, withinMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), withinMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

interface WebProcess extends Running {
  pid: number | undefined;
}

/** True when something accepts connections on 127.0.0.1:`port`. */
function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Starts the web process and resolves once it answers /api/health; rejects
 * (having stopped it) when it exits first or does not answer in time. The
 * child gets an IPC channel, so it stops itself when this process disappears
 * (scripts/lib/lifecycle.ts).
 */
async function startWebProcess(o: { cwd: string; env: NodeJS.ProcessEnv; script: string; port: number; stopWithinMs: number }): Promise<WebProcess> {
  // Another server on the port would answer the health check in the child's place.
  if (await portAnswers(o.port)) throw new Error(`Port ${o.port} is already in use by another program; stop it or set PORT.`);
  // A process group of its own: a terminal's Ctrl+C reaches the launcher only, which stops this child in order
  // (were it signalled too, the supervisor would see it end before its stop and start it again).
  const child = spawn(process.execPath, ["--import", "tsx", o.script], { cwd: o.cwd, env: o.env, stdio: ["ignore", "inherit", "inherit", "ipc"], detached: true });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: null, signal: null })); // could not be spawned at all
  });
  try {
    await waitForHttp(`http://127.0.0.1:${o.port}/api/health`, child, exited);
  } catch (err) {
    await terminate(child);
    throw err;
  }
  return { pid: child.pid, exited, stop: () => terminate(child, o.stopWithinMs) };
}

async function waitForHttp(url: string, child: ChildProcess, exited: Promise<unknown>, timeoutMs = 120_000): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`The web server exited before it answered (${child.signalCode ? `killed by ${child.signalCode}` : `exit code ${child.exitCode}`}).`);
    }
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`The web server did not answer ${url} within ${timeoutMs / 1000} s`);
}
