/**
 * The fault suite's world: PostgreSQL, the simulator, the web process and the
 * worker as real processes (tests/faults/processes.ts), a slow-file proxy in
 * front of the simulator's result files, members signed in over HTTP, ten
 * clients submitting through tasks.create, and the checks every scenario ends
 * with (tests/faults/invariants.ts).
 *
 * Ports (all on 127.0.0.1): FAULTS_WEB_PORT (default 3710),
 * FAULTS_SIMULATOR_PORT (4991), FAULTS_PG_PORT (54991); the slow-file proxy
 * takes a free port. Data: <checkout>/.data/faults (emptied at the start).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { rmSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { applyMigrations } from "../../server/db/migrate.ts";
import { baseEnv, ManagedProcess, RestartablePostgres, ROOT, sleep, waitFor, waitForHttpOk } from "./processes.ts";

export const PORTS = {
  web: Number(process.env.FAULTS_WEB_PORT ?? 3710),
  simulator: Number(process.env.FAULTS_SIMULATOR_PORT ?? 4991),
  pg: Number(process.env.FAULTS_PG_PORT ?? 54991),
};

export const DATA_DIR = path.join(ROOT, ".data", "faults");

/** Settings of the web process and the worker: a fast reconciler, a short grace for unknown submissions, no deadline in reach. */
export const TIMING = {
  SIMULATOR_STEP_MS: "300",
  RECONCILE_TICK_MS: "500",
  POLL_INTERVAL_SECONDS: "1",
  POLL_MAX_INTERVAL_SECONDS: "4",
  // A submission whose answer was lost is given up after 30 s unless its callback adopted it first.
  SUBMIT_UNKNOWN_GRACE_MINUTES: "0.5",
  TASK_DEADLINE_MINUTES: "30",
  ARCHIVE_MAX_ATTEMPTS: "8",
  // A copy cut by a killed worker is started again 40 s later (the job's expiry), swept within 30 s.
  ARCHIVE_TIMEOUT_SECONDS: "10",
};

/** Serves the simulator's result files, slowly when asked: a download that takes seconds, to be cut mid-body. */
export class SlowFileProxy {
  private server!: http.Server;
  port = 0;
  /** Milliseconds between 8 KiB chunks; 0 = at once. */
  chunkDelayMs = 0;
  /** Downloads that sent their headers and part of the body, not yet all of it. */
  midBody = 0;
  /** The client-side ports of those downloads (to tell which process is downloading). */
  readonly midBodyPorts = new Set<number>();
  completed = 0;
  cut = 0;

  async start(simulatorOrigin: string): Promise<void> {
    this.server = http.createServer(async (req, res) => {
      try {
        const upstream = await fetch(`${simulatorOrigin}${req.url ?? "/"}`);
        const body = Buffer.from(await upstream.arrayBuffer());
        const headers: Record<string, string> = { "content-type": upstream.headers.get("content-type") ?? "application/octet-stream" };
        if (upstream.ok) headers["content-length"] = String(body.length);
        res.writeHead(upstream.status, headers);
        if (!upstream.ok || this.chunkDelayMs === 0 || req.method === "HEAD") {
          res.end(req.method === "HEAD" ? undefined : body);
          return;
        }
        const delay = this.chunkDelayMs;
        let gone = false;
        res.on("close", () => {
          if (!res.writableFinished) gone = true;
        });
        this.midBody += 1;
        const clientPort = req.socket.remotePort ?? 0;
        this.midBodyPorts.add(clientPort);
        try {
          for (let at = 0; at < body.length && !gone; at += 8192) {
            res.write(body.subarray(at, at + 8192));
            await sleep(delay);
          }
        } finally {
          this.midBody -= 1;
          this.midBodyPorts.delete(clientPort);
        }
        if (gone) this.cut += 1;
        else {
          this.completed += 1;
          res.end();
        }
      } catch {
        res.destroy();
      }
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

export interface Account {
  email: string;
  password: string;
  userId: string;
  cookie: string;
}

export class World {
  readonly pg: RestartablePostgres;
  readonly proxy = new SlowFileProxy();
  readonly simulatorKey = `sim-${randomBytes(16).toString("hex")}`;
  readonly authSecret = randomBytes(32).toString("hex");
  simulator!: ManagedProcess;
  web!: ManagedProcess;
  worker!: ManagedProcess;
  /** The suite's own connection, for the checks (reconnects after a PostgreSQL restart). */
  db!: pg.Pool;
  readonly baseUrl = `http://127.0.0.1:${PORTS.web}`;
  readonly simulatorUrl = `http://127.0.0.1:${PORTS.simulator}`;
  private accounts = 0;

  constructor() {
    this.pg = new RestartablePostgres(path.join(DATA_DIR, "pg"), PORTS.pg, randomBytes(12).toString("hex"));
  }

  async start(): Promise<void> {
    rmSync(DATA_DIR, { recursive: true, force: true });
    const logs = path.join(DATA_DIR, "logs");
    await this.pg.start();
    await applyMigrations(this.pg.url, { log: () => {} });
    this.db = new pg.Pool({ connectionString: this.pg.url, max: 3 });
    this.db.on("error", () => {}); // idle connections cut by a restart; the next query reconnects

    await this.proxy.start(this.simulatorUrl);
    this.simulator = new ManagedProcess(
      "simulator",
      "scripts/simulator.ts",
      {
        SIMULATOR_PORT: String(PORTS.simulator),
        SIMULATOR_STEP_MS: TIMING.SIMULATOR_STEP_MS,
        SIMULATOR_PUBLIC_URL: `http://127.0.0.1:${this.proxy.port}`,
        EVOLINK_API_KEY: this.simulatorKey,
        DATA_DIR: path.join(DATA_DIR, "simulator"),
      },
      logs,
      (p) => waitForHttpOk(p, `${this.simulatorUrl}/health`),
    );
    const portalEnv = {
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      DATABASE_URL: this.pg.url,
      AUTH_SECRET: this.authSecret,
      EVOLINK_BASE_URL: this.simulatorUrl,
      EVOLINK_API_KEY: this.simulatorKey,
      EVOLINK_SIMULATOR: "1",
      HOST: "127.0.0.1",
      PORT: String(PORTS.web),
      PUBLIC_BASE_URL: this.baseUrl,
      DATA_DIR: path.join(DATA_DIR, "portal"),
      STORAGE_DIR: path.join(DATA_DIR, "portal", "media"),
      RUN_WORKER: "0",
      // Below the suite's SIGKILL after a SIGTERM (15 s, processes.ts).
      SHUTDOWN_GRACE_SECONDS: "10",
      ...TIMING,
    };
    this.web = new ManagedProcess("web", "scripts/web.ts", portalEnv, logs, (p) => waitForHttpOk(p, `${this.baseUrl}/api/health`));
    this.worker = new ManagedProcess("worker", "scripts/worker.ts", portalEnv, logs, async (p) => {
      await waitFor(
        "the worker to start",
        () => {
          if (!p.running) throw new Error(`worker exited while starting:\n${p.printed.slice(-3000)}`);
          return p.printed.includes("Worker running");
        },
        60_000,
      );
    });
    await this.simulator.start();
    await Promise.all([this.web.start(), this.worker.start()]);
  }

  async close(): Promise<void> {
    for (const p of [this.web, this.worker, this.simulator]) await p?.close().catch(() => {});
    await this.proxy.close().catch(() => {});
    await this.db?.end().catch(() => {});
    await this.pg.stop().catch(() => {});
  }

  /** Sets simulator fault rules (POST /__sim/faults). */
  async faults(body: unknown): Promise<void> {
    const res = await fetch(`${this.simulatorUrl}/__sim/faults`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.simulatorKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`simulator faults: ${res.status} ${await res.text()}`);
  }

  async clearFaults(): Promise<void> {
    // POST /__sim/reset also forgets tasks; only the rules are to go: apply none and let counted rules run out.
    const res = await fetch(`${this.simulatorUrl}/__sim/faults`, { headers: { authorization: `Bearer ${this.simulatorKey}` } });
    const rules = (await res.json()) as { http: unknown[] };
    if (rules.http.length > 0) throw new Error(`simulator HTTP fault rules left unused: ${JSON.stringify(rules.http)}`);
  }

  /** A simulator task as it knows it, or null when it does not. */
  async simulatorTask(id: string): Promise<{ task: { id: string; status: string }; idempotencyKey?: string; callbackUrl?: string } | null> {
    const res = await fetch(`${this.simulatorUrl}/__sim/tasks/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${this.simulatorKey}` } });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`simulator task ${id}: ${res.status}`);
    return (await res.json()) as never;
  }

  /** Ids of the tasks the simulator says it created (its log lines), since its last start. */
  simulatorCreatedIds(): string[] {
    return [...this.simulator.printed.matchAll(/\[simulator\] task (task-unified-[\w-]+) created/g)].map((m) => m[1]!);
  }

  /** A new member (scripts/add-user.ts), signed in through Auth.js's credentials endpoint. */
  async member(): Promise<Account> {
    this.accounts += 1;
    const email = `faults-${this.accounts}-${randomBytes(3).toString("hex")}@faults.test`;
    const password = `pw-${randomBytes(9).toString("hex")}`;
    execFileSync(process.execPath, ["--import", "tsx", "scripts/add-user.ts", email], {
      cwd: ROOT,
      env: { ...baseEnv(), NODE_ENV: "production", DATABASE_URL: this.pg.url, PASSWORD: password },
      stdio: "pipe",
    });
    const { rows } = await this.db.query<{ id: string }>(`SELECT id FROM "User" WHERE email = $1`, [email]);
    const cookie = await signIn(this.baseUrl, email, password);
    return { email, password, userId: rows[0]!.id, cookie };
  }
}

/** Cookies from Set-Cookie headers, as one Cookie header (later values win). */
function mergeCookies(jar: Map<string, string>, res: Response): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair!.indexOf("=");
    jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
  }
}
const cookieHeader = (jar: Map<string, string>) => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");

/** Signs in with a password as a browser without JavaScript would (Auth.js's CSRF token, then the credentials callback). */
export async function signIn(baseUrl: string, email: string, password: string): Promise<string> {
  const jar = new Map<string, string>();
  const csrf = await fetch(`${baseUrl}/api/auth/csrf`);
  mergeCookies(jar, csrf);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const res = await fetch(`${baseUrl}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookieHeader(jar) },
    body: new URLSearchParams({ email, password, csrfToken, callbackUrl: "/tasks" }),
  });
  await res.arrayBuffer();
  mergeCookies(jar, res);
  if (![...jar.keys()].some((k) => k.endsWith("authjs.session-token"))) {
    throw new Error(`signing in as ${email} failed: HTTP ${res.status} ${res.headers.get("location")}`);
  }
  const session = await fetch(`${baseUrl}/api/auth/session`, { headers: { cookie: cookieHeader(jar) } });
  const body = (await session.json()) as { user?: { email?: string } } | null;
  if (body?.user?.email !== email) throw new Error(`signed in as ${email}, but the session says ${JSON.stringify(body)}`);
  return cookieHeader(jar);
}

/** What happened to one submission (one idempotency key) as its client saw it. */
export interface Submission {
  key: string;
  client: number;
  /** HTTP attempts made with this key. */
  attempts: number;
  /** Attempts that ended with a network error (no HTTP answer), each followed by a retry with the same key. */
  networkErrors: number;
  /** The final answer: the task's id, or the tRPC error code and message. */
  outcome: { ok: true; taskId: string; status: string } | { ok: false; httpStatus: number; code: string; message: string } | { ok: false; gaveUp: true };
}

export interface LoadOptions {
  clients: number;
  perClient: number;
  prompt: (client: number, n: number) => string;
  /** Milliseconds between a client's submissions. */
  pauseMs?: number;
  /** How long a client keeps retrying one key through network errors. */
  retryForMs?: number;
  /** Called after each answered submission (to trigger a fault at the right moment). */
  onAnswer?: (s: Submission, all: Submission[]) => void;
  /** The request's materials (default: the simulator's sample image as the first frame). */
  materials?: (client: number, n: number) => Record<string, unknown>;
}

/**
 * Ten (or `clients`) concurrent clients, each submitting `perClient` tasks
 * one after another through tasks.create, each with its own idempotency key;
 * a network error (no HTTP answer: the web process is down or cut the
 * connection) is retried with the same key, as the form does.
 */
export async function submitLoad(baseUrl: string, account: Account, opts: LoadOptions): Promise<Submission[]> {
  const all: Submission[] = [];
  const image = `http://127.0.0.1:${PORTS.simulator}/samples/first-frame.png`;
  const client = async (c: number) => {
    for (let n = 0; n < opts.perClient; n++) {
      const s: Submission = { key: randomUUID(), client: c, attempts: 0, networkErrors: 0, outcome: { ok: false, gaveUp: true } };
      all.push(s);
      const materials = opts.materials?.(c, n) ?? { image_start: image };
      const body = JSON.stringify({ json: { prompt: opts.prompt(c, n), ...materials, clientRequestId: s.key } });
      const until = Date.now() + (opts.retryForMs ?? 120_000);
      for (;;) {
        s.attempts += 1;
        let res: Response;
        let text: string;
        try {
          res = await fetch(`${baseUrl}/api/trpc/tasks.create`, {
            method: "POST",
            headers: { "content-type": "application/json", cookie: account.cookie },
            body,
            signal: AbortSignal.timeout(60_000),
          });
          text = await res.text();
          // A proxy's own answer (502/503/504, not tRPC's JSON): its web instance is gone; the same as no answer.
          if (res.status >= 502 && res.status <= 504 && !text.trimStart().startsWith("{")) throw new Error(`proxy answered ${res.status}`);
        } catch {
          s.networkErrors += 1;
          if (Date.now() > until) break;
          await sleep(300);
          continue;
        }
        const parsed = JSON.parse(text) as { result?: { data?: { json?: { id: string; status: string } } }; error?: { json?: { message?: string; data?: { code?: string } } } };
        const task = parsed.result?.data?.json;
        s.outcome = task
          ? { ok: true, taskId: task.id, status: task.status }
          : { ok: false, httpStatus: res.status, code: parsed.error?.json?.data?.code ?? "?", message: parsed.error?.json?.message ?? text.slice(0, 300) };
        break;
      }
      opts.onAnswer?.(s, all);
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, c) => client(c)));
  return all;
}
