/**
 * What the HTTP benchmarks share: the benchmark database (its own embedded
 * PostgreSQL in <DATA_DIR>/bench/pg, seeded once by usage.ts's set-based
 * seed), the provider simulator, the production build served by
 * scripts/web.ts exactly as `npm start` runs it, a signed-in member's
 * session cookie, the bare floor servers (floor-server.ts, a process of
 * their own like the web server), and autocannon with 10 connections.
 * Loopback only; every run is bounded in requests and time.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { encode } from "@auth/core/jwt";
import autocannon from "autocannon";
import { startSession } from "../../server/auth/sessions.ts";
import { createDb, type Db } from "../../server/db/client.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../server/db/embedded.ts";
import { applyMigrations } from "../../server/db/migrate.ts";
import { buildIsStale } from "../../server/runtime/launch.ts";
import { startSimulator, type Simulator } from "../../server/simulator/simulator.ts";
import { seed } from "./usage.ts";

export const BENCH_AUTH_SECRET = "bench-only-auth-secret-0123456789abcdef0123456789";
export const SIM_KEY = "bench-simulator-key";
/** Auth.js's session cookie on plain http. */
export const SESSION_COOKIE = "authjs.session-token";

export interface BenchOptions {
  dataDir: string;
  pgPort: number;
  webPort: number;
  simulatorPort: number;
  /** The floor servers' port. */
  floorPort: number;
  clean: boolean;
  /** Seconds of load per measurement. */
  duration: number;
  connections: number;
  /** Write a CPU profile of the web process (node --cpu-prof) into this folder. */
  cpuProfDir?: string;
  log: (line: string) => void;
}

export interface BenchDb {
  pg: EmbeddedDatabase;
  db: Db;
  url: string;
  stop(): Promise<void>;
}

/** The benchmark database, migrated and seeded (1,000,000 tasks across 1,000 people), kept between runs. */
export async function openBenchDb(o: BenchOptions): Promise<BenchDb> {
  if (o.clean) await rm(path.join(o.dataDir, "bench"), { recursive: true, force: true });
  // pg_stat_statements counts the statements (round trips: top-level only, not the foreign-key checks inside them) each request makes.
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(o.dataDir, "bench", "pg"),
    port: o.pgPort,
    password: "bench-only-password",
    database: "wan_bench",
    settings: { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "top" },
  });
  await applyMigrations(pg.url);
  const db = createDb(pg.url);
  await db.$executeRawUnsafe("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  await seed(db, o.log);
  return {
    pg,
    db,
    url: pg.url,
    async stop() {
      await db.$disconnect();
      await pg.stop();
    },
  };
}

/** The simulator; tasks stay pending for `stepMs` per step (long by default: no callbacks during a submit run). */
export function startBenchSimulator(o: BenchOptions, stepMs = 60_000): Promise<Simulator> {
  return startSimulator({ port: o.simulatorPort, host: "127.0.0.1", apiKey: SIM_KEY, stepMs, log: () => {} });
}

/** `next build` when the build is missing or older than the code, as `npm start` does. */
export async function ensureBuild(log: (line: string) => void): Promise<void> {
  const cwd = process.cwd();
  const stale = await buildIsStale(cwd);
  if (!stale) return;
  log(`${stale}: running \`next build\` (once)…`);
  const nextBin = createRequire(path.join(cwd, "package.json")).resolve("next/dist/bin/next");
  await exited(spawn(process.execPath, [nextBin, "build"], { cwd, env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" }, stdio: "inherit" }), "next build");
}

export interface Child {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function webEnv(o: BenchOptions, dbUrl: string, simUrl: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    HOST: "127.0.0.1",
    PORT: String(o.webPort),
    PUBLIC_BASE_URL: `http://127.0.0.1:${o.webPort}`,
    DATABASE_URL: dbUrl,
    AUTH_SECRET: BENCH_AUTH_SECRET,
    EVOLINK_BASE_URL: simUrl,
    EVOLINK_API_KEY: SIM_KEY,
    EVOLINK_SIMULATOR: "1",
    DATA_DIR: path.join(o.dataDir, "bench", "web"),
    RUN_WORKER: "0",
    // The /v1 benchmark's one key makes thousands of requests a minute: the limit is counted (its
    // statement runs) but set out of reach.
    API_REQUESTS_PER_MINUTE: "100000",
  };
}

/** The web process as `npm start` runs it (node --import tsx scripts/web.ts), optionally under --cpu-prof. */
export async function startWeb(o: BenchOptions, dbUrl: string, simUrl: string): Promise<Child> {
  await ensureBuild(o.log);
  const args = ["--import", "tsx"];
  if (o.cpuProfDir) {
    await mkdir(o.cpuProfDir, { recursive: true });
    args.push("--cpu-prof", `--cpu-prof-dir=${o.cpuProfDir}`);
  }
  const child = spawn(process.execPath, [...args, path.join(process.cwd(), "scripts", "web.ts")], {
    env: webEnv(o, dbUrl, simUrl),
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${o.webPort}`;
  await waitForHttp(`${url}/api/health`, child);
  return { url, process: child, stop: () => terminate(child) };
}

/** A floor server (floor-server.ts) in a process of its own, like the web server. */
export async function startFloor(o: BenchOptions, kind: "submit" | "history" | "callbacks", env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(process.cwd(), "scripts", "bench", "floor-server.ts")], {
    env: { ...process.env, FLOOR: kind, FLOOR_PORT: String(o.floorPort), ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${o.floorPort}`;
  await waitForHttp(`${url}/health`, child);
  return { url, process: child, stop: () => terminate(child) };
}

/** A member with a live session row, and the Auth.js cookie a browser would hold for it. */
export async function signedInMember(db: Db, id: string): Promise<{ userId: string; sessionId: string; cookie: string }> {
  await db.user.upsert({
    where: { id },
    create: { id, email: `${id}@bench.test`, name: id, role: "member", status: "active" },
    update: { status: "active" },
  });
  const sessionId = await startSession(db, id, { userAgent: "bench" });
  const token = await encode({
    token: { sub: id, sid: sessionId, email: `${id}@bench.test`, name: id },
    secret: BENCH_AUTH_SECRET,
    salt: SESSION_COOKIE,
    maxAge: 24 * 3600,
  });
  return { userId: id, sessionId, cookie: `${SESSION_COOKIE}=${token}` };
}

export interface LoadResult {
  requests: number;
  ok: number;
  /** Answers other than 2xx, and connection errors or timeouts. */
  failed: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  statuses: Record<string, number>;
  /** CPU time of the server process per request (loadMeasured only). */
  cpuMsPerRequest?: number;
  /** Database statements (BEGIN and COMMIT included) per request (loadMeasured with a db only). */
  statementsPerRequest?: number;
}

export type LoadRequest = autocannon.Request;

/** autocannon with `connections` clients for `duration` s (or `amount` requests), latency percentiles of every answer. */
export async function load(o: BenchOptions, url: string, requests: LoadRequest[], bound: { amount?: number; duration?: number } = {}): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const started = process.hrtime.bigint();
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url,
        connections: o.connections,
        ...(bound.amount ? { amount: bound.amount } : { duration: bound.duration ?? o.duration }),
        timeout: 30,
        requests,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
  // The end is the last answer, not autocannon's own end: with `amount` it ends on its next
  // one-second tick, which made a 1.1 s run count as 2 s.
  let last = started;
  instance.on("response", (_client, status, _bytes, ms) => {
    last = process.hrtime.bigint();
    latencies.push(ms);
    statuses[status] = (statuses[status] ?? 0) + 1;
  });
  const result = await done;
  const seconds = Number((bound.amount ? last : process.hrtime.bigint()) - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  const ok = Object.entries(statuses).reduce((n, [s, c]) => (s.startsWith("2") ? n + c : n), 0);
  const errors = result.errors + result.timeouts;
  if (errors > 0) statuses.errors = errors;
  return { requests: latencies.length, ok, failed: latencies.length - ok + errors, perSecond: ok / seconds, p50: pct(50), p95: pct(95), p99: pct(99), statuses };
}

export function describe(r: LoadResult): string {
  const cpu =
    (r.cpuMsPerRequest === undefined ? "" : `  cpu ${r.cpuMsPerRequest.toFixed(2)} ms/req`) +
    (r.statementsPerRequest === undefined ? "" : `  ${r.statementsPerRequest.toFixed(1)} statements/req`);
  return `${r.perSecond.toFixed(1).padStart(7)}/s  p50 ${r.p50.toFixed(1)} ms  p95 ${r.p95.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms${cpu}  (${r.ok} ok, ${r.failed} not: ${JSON.stringify(r.statuses)})`;
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); undefined elsewhere. */
export function cpuMsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the name), in clock ticks (100 per second).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * `load` against a server process, with that process's CPU time per answered request: a measure
 * that other processes competing for the cores disturb far less than requests per second.
 */
export async function loadMeasured(o: BenchOptions, server: Child, requests: LoadRequest[], bound: { amount?: number; duration?: number } = {}, db?: Db): Promise<LoadResult> {
  // Statements of the benchmark database's user, by every process (the run does nothing else meanwhile).
  if (db) await db.$queryRawUnsafe("SELECT pg_stat_statements_reset()");
  const before = cpuMsOf(server.process.pid);
  const result = await load(o, server.url, requests, bound);
  const after = cpuMsOf(server.process.pid);
  if (before !== undefined && after !== undefined && result.requests > 0) result.cpuMsPerRequest = (after - before) / result.requests;
  if (db && result.requests > 0) {
    const [row] = await db.$queryRawUnsafe<Array<{ calls: bigint }>>(
      "SELECT coalesce(sum(calls), 0)::bigint AS calls FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'",
    );
    result.statementsPerRequest = Number(row!.calls) / result.requests;
    if (process.env.BENCH_STATEMENTS) {
      // Which statements, per request (BENCH_STATEMENTS=1): where the round trips go.
      const rows = await db.$queryRawUnsafe<Array<{ calls: bigint; query: string }>>(
        "SELECT calls, query FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC LIMIT 25",
      );
      for (const r of rows) o.log(`    ${(Number(r.calls) / result.requests).toFixed(2).padStart(6)}/req  ${r.query.replace(/\s+/g, " ").slice(0, 160)}`);
    }
  }
  return result;
}

/** The figure, its floor and the ratio against the target, as one block. */
export function verdict(log: (l: string) => void, name: string, figure: LoadResult, floor: LoadResult, target: number | null, extra: Array<[string, boolean]> = []): boolean {
  const ratio = figure.perSecond / floor.perSecond;
  log(`  ${name.padEnd(10)} ${describe(figure)}`);
  log(`  ${"floor".padEnd(10)} ${describe(floor)}`);
  if (figure.cpuMsPerRequest !== undefined && floor.cpuMsPerRequest !== undefined)
    log(`  ${"cpu ratio".padEnd(10)} floor's CPU per request is ${((floor.cpuMsPerRequest / figure.cpuMsPerRequest) * 100).toFixed(1)} % of the portal's (less sensitive to contention than requests/s)`);
  const checks: Array<[string, boolean]> = [
    ["the floor answered every request 2xx (else the run says nothing)", floor.failed === 0 && floor.ok > 0],
    target === null ? [`ratio ${(ratio * 100).toFixed(1)} % of the floor (reported, no target)`, true] : [`ratio ${(ratio * 100).toFixed(1)} % of the floor (target ≥ ${target * 100} %)`, ratio >= target],
    ...extra,
  ];
  for (const [what, held] of checks) log(`  ${held ? "HOLDS " : "MISSED"} ${what}`);
  return checks.every(([, held]) => held);
}

export const uuid = () => randomUUID();
export const randomId = () => randomBytes(8).toString("hex");

export async function waitForHttp(url: string, child?: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${child.spawnargs.join(" ")} exited with ${child.exitCode} before answering`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

export function terminate(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill(signal);
  });
}

function exited(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited with ${code}`))));
  });
}
