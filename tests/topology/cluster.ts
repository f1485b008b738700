/**
 * The topology test's world: the portal as a team deploys it (docs/deploy.md),
 * on this machine, as real processes:
 * - Debian's PostgreSQL server (/usr/lib/postgresql/<15+>/bin, not the embedded
 *   one), a fresh cluster in a temporary folder, run as the `postgres` user
 *   when the suite runs as root; reached through DATABASE_URL only;
 * - an S3-compatible store (s3rver, in the suite's process) holding results;
 * - the provider simulator (scripts/simulator.ts);
 * - two web instances (scripts/web.ts, production build) behind Debian's nginx,
 *   run unprivileged with a generated configuration in a temporary folder;
 * - two workers (scripts/worker.ts), each with its own /metrics port;
 * - the browser tests' OpenID Connect provider (tests/e2e/servers/oidc-provider.ts),
 *   the web instances' single sign-on, its callback registered on the proxy's address.
 * The child processes, the members and the books come from the fault suite
 * (tests/faults/processes.ts, harness.ts, invariants.ts).
 *
 * Ports (127.0.0.1): TOPOLOGY_PG_PORT 55432, TOPOLOGY_PROXY_PORT 8090,
 * TOPOLOGY_WEB_PORTS 3910,3911, TOPOLOGY_WORKER_METRICS_PORTS 9465,9466,
 * TOPOLOGY_SIMULATOR_PORT 4910, TOPOLOGY_OIDC_PORT 4912; s3rver takes a free port. Logs of every
 * process: <checkout>/.data/topology/logs (emptied at the start).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import S3rver from "s3rver";
import { createS3Storage, type ObjectStorage } from "../../server/storage/storage.ts";
import { baseEnv, ManagedProcess, ROOT, sleep, waitFor, waitForHttpOk } from "../faults/processes.ts";
import { signIn, SlowFileProxy, type Account } from "../faults/harness.ts";
import { OIDC } from "../e2e/instances.ts";

const ports = (name: string, fallback: string) => (process.env[name] ?? fallback).split(",").map(Number);
export const PORTS = {
  pg: ports("TOPOLOGY_PG_PORT", "55432")[0]!,
  proxy: ports("TOPOLOGY_PROXY_PORT", "8090")[0]!,
  web: ports("TOPOLOGY_WEB_PORTS", "3910,3911"),
  workerMetrics: ports("TOPOLOGY_WORKER_METRICS_PORTS", "9465,9466"),
  simulator: ports("TOPOLOGY_SIMULATOR_PORT", "4910")[0]!,
  oidc: ports("TOPOLOGY_OIDC_PORT", "4912")[0]!,
};

/** Single sign-on: the client the OpenID Connect provider knows (tests/e2e/instances.ts' OIDC), members' domain allowed. */
export const SSO = { name: OIDC.name, issuer: `http://127.0.0.1:${PORTS.oidc}`, clientId: OIDC.clientId, clientSecret: OIDC.clientSecret, domain: "topology.test" };

export const DATA_DIR = path.join(ROOT, ".data", "topology");
const LOGS = path.join(DATA_DIR, "logs");
/** What was started outside the suite's children (PostgreSQL's and nginx's folders), to stop after a crashed run. */
const LEFTOVERS = path.join(ROOT, ".data", "topology-leftovers.json");

/** Like the fault suite's settings: a fast reconciler, polls every second. */
export const TIMING = {
  SIMULATOR_STEP_MS: "300",
  RECONCILE_TICK_MS: "500",
  POLL_INTERVAL_SECONDS: "1",
  POLL_MAX_INTERVAL_SECONDS: "4",
  SUBMIT_UNKNOWN_GRACE_MINUTES: "0.5",
  TASK_DEADLINE_MINUTES: "30",
  ARCHIVE_MAX_ATTEMPTS: "8",
  ARCHIVE_TIMEOUT_SECONDS: "10",
};

/** Sign-in throttling small enough to reach in a few attempts: 4 free failures per account and client. */
export const SIGNIN = { SIGNIN_ACCOUNT_FREE_FAILURES: "4", SIGNIN_ACCOUNT_MAX_DELAY_SECONDS: "60" };

/** PostgreSQL's and nginx's environment: nothing of the suite's. */
const systemEnv = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" }) as unknown as NodeJS.ProcessEnv;

const isRoot = () => process.getuid?.() === 0;

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user "${name}" on this machine`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** The newest Debian PostgreSQL server of version 15 or later, or a clear error. */
export function debianPostgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .map(Number)
        .filter((v) => v >= 15 && existsSync(path.join(root, String(v), "bin", "postgres")))
        .sort((a, b) => b - a)
    : [];
  if (versions.length === 0) {
    throw new Error(`Debian's PostgreSQL server (15 or newer) is not installed: no ${root}/<version>/bin/postgres. Install it with \`apt-get install -y postgresql-15\` (.ci/run does).`);
  }
  return path.join(root, String(versions[0]), "bin");
}

export function nginxBin(): string {
  for (const p of ["/usr/sbin/nginx", "/usr/bin/nginx"]) if (existsSync(p)) return p;
  throw new Error("Debian's nginx is not installed (no /usr/sbin/nginx). Install it with `apt-get install -y nginx` (.ci/run does).");
}

/** A system process the suite starts as a child (PostgreSQL, nginx), as another user when root. */
class SystemProcess {
  child: ChildProcess | null = null;
  private output = "";

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly user: { uid: number; gid: number } | null,
    private readonly cwd: string,
  ) {}

  get printed(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    mkdirSync(LOGS, { recursive: true });
    const log = createWriteStream(path.join(LOGS, `${this.name}.log`), { flags: "a" });
    const child = spawn(this.command, this.args, {
      cwd: this.cwd,
      env: systemEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      ...(this.user ?? {}),
    });
    this.child = child;
    const take = (chunk: Buffer) => {
      log.write(chunk);
      if (this.output.length < 200_000) this.output += chunk.toString();
    };
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    child.on("error", (err) => take(Buffer.from(`spawn error: ${err.message}\n`)));
    child.on("exit", (code, signal) => log.end(`===== exit code=${code} signal=${signal}\n`));
  }

  /** Polls `check` (errors count as "not yet") for up to 60 s; fails at once, with what the process printed, when it exits. */
  async waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 60_000;
    let last: unknown;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited while starting (waiting for ${what}):\n${this.printed.slice(-3000)}`);
      try {
        if (await check()) return;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) throw new Error(`Gave up waiting 60 s for ${what} (last error: ${String(last)}):\n${this.printed.slice(-3000)}`);
      await sleep(250);
    }
  }

  /** `signal`, then SIGKILL after 20 s; resolves once it is gone. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
  }
}

/** Debian's PostgreSQL: initdb in a temporary folder, the server as a child process on PORTS.pg. */
export class DebianPostgres {
  readonly bin = debianPostgresBin();
  readonly dir = mkdtempSync(path.join(os.tmpdir(), "topology-pg-"));
  readonly password = randomBytes(12).toString("hex");
  private server: SystemProcess | null = null;
  readonly url = `postgres://portal:${this.password}@127.0.0.1:${PORTS.pg}/portal`;

  async start(): Promise<void> {
    const user = isRoot() ? userIds("postgres") : null;
    const data = path.join(this.dir, "data");
    writeFileSync(path.join(this.dir, "pwfile"), `${this.password}\n`, { mode: 0o600 });
    if (user) chownSync(this.dir, user.uid, user.gid);
    if (user) chownSync(path.join(this.dir, "pwfile"), user.uid, user.gid);
    const init = spawnSync(
      path.join(this.bin, "initdb"),
      ["-D", data, "-U", "portal", `--pwfile=${path.join(this.dir, "pwfile")}`, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
      { cwd: this.dir, env: systemEnv(), encoding: "utf8", ...(user ?? {}) },
    );
    if (init.status !== 0) throw new Error(`initdb (${this.bin}) failed${user ? " as the postgres user" : ""}: ${init.error?.message ?? ""}\n${init.stdout}\n${init.stderr}`);
    this.server = new SystemProcess(
      "postgresql",
      path.join(this.bin, "postgres"),
      ["-D", data, "-p", String(PORTS.pg), "-k", this.dir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=off"],
      user,
      this.dir,
    );
    this.server.start();
    const admin = `postgres://portal:${this.password}@127.0.0.1:${PORTS.pg}/postgres`;
    await this.server.waitUntil(`Debian's PostgreSQL (${this.bin}) to accept connections on port ${PORTS.pg}`, async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.end();
      return true;
    });
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query("CREATE DATABASE portal");
    await c.end();
  }

  /** The server's own version string (SELECT version()). */
  async version(): Promise<string> {
    const c = new pg.Client({ connectionString: this.url });
    await c.connect();
    const { rows } = await c.query<{ version: string }>("SELECT version()");
    await c.end();
    return rows[0]!.version;
  }

  async stop(): Promise<void> {
    await this.server?.stop("SIGINT"); // fast shutdown
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The `proxy_*` lines of the image's nginx configuration (scripts/image/nginx.conf), without its upstream (`proxy_pass`). */
export function imageProxySettings(): string[] {
  const lines = readFileSync(path.join(ROOT, "scripts/image/nginx.conf"), "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter((l) => l.startsWith("proxy_") && !l.startsWith("proxy_pass"));
  if (!lines.some((l) => l.startsWith("proxy_set_header X-Forwarded-For"))) throw new Error("scripts/image/nginx.conf sets no X-Forwarded-For: is it still the image's proxy configuration?");
  return lines;
}

/** Debian's nginx, unprivileged, its configuration, pid, logs and temp files in a temporary folder. */
export class Nginx {
  readonly bin = nginxBin();
  readonly dir = mkdtempSync(path.join(os.tmpdir(), "topology-nginx-"));
  private server: SystemProcess | null = null;

  constructor(
    private readonly port: number,
    private readonly upstreams: number[],
  ) {}

  config(): string {
    const d = this.dir;
    return `# Generated by tests/topology/cluster.ts
worker_processes 1;
pid ${d}/nginx.pid;
error_log ${d}/error.log warn;
events { worker_connections 256; }
http {
  # The image's access log carries the request id too (scripts/image/nginx.conf, log_format portal).
  log_format portal '$remote_addr "$request" $status request_id=$request_id upstream=$upstream_addr';
  access_log ${d}/access.log portal;
  client_body_temp_path ${d}/client_body;
  proxy_temp_path ${d}/proxy;
  fastcgi_temp_path ${d}/fastcgi;
  uwsgi_temp_path ${d}/uwsgi;
  scgi_temp_path ${d}/scgi;
  client_max_body_size 110m;
  upstream portal {
${this.upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join("\n")}
  }
  server {
    listen 127.0.0.1:${this.port};
    location / {
      proxy_pass http://portal;
      # The proxy settings of compose.yaml's nginx (scripts/image/nginx.conf), so this test proves them:
${imageProxySettings().map((l) => `      ${l}`).join("\n")}
    }
  }
}
`;
  }

  async start(): Promise<void> {
    const user = isRoot() ? userIds("nobody") : null;
    writeFileSync(path.join(this.dir, "nginx.conf"), this.config());
    if (user) chownSync(this.dir, user.uid, user.gid);
    const args = ["-p", this.dir, "-c", path.join(this.dir, "nginx.conf"), "-e", path.join(this.dir, "error.log"), "-g", "daemon off;"];
    const test = spawnSync(this.bin, ["-t", ...args], { cwd: this.dir, encoding: "utf8", ...(user ?? {}) });
    if (test.status !== 0) throw new Error(`nginx -t refused the generated configuration (${this.dir}/nginx.conf):\n${test.stderr}`);
    this.server = new SystemProcess("nginx", this.bin, args, user, this.dir);
    this.server.start();
    await this.server.waitUntil(`nginx (${this.bin}) to answer on port ${this.port}`, async () => {
      const res = await fetch(`http://127.0.0.1:${this.port}/api/health`, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      return res.ok;
    });
  }

  get running(): boolean {
    return this.server?.running ?? false;
  }

  /** What nginx's access log holds so far. */
  accessLog(): string {
    const file = path.join(this.dir, "access.log");
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  }

  async stop(): Promise<void> {
    await this.server?.stop("SIGQUIT"); // graceful
    try {
      writeFileSync(path.join(LOGS, "nginx-error.log"), readFileSync(path.join(this.dir, "error.log")));
      writeFileSync(path.join(LOGS, "nginx-access.log"), readFileSync(path.join(this.dir, "access.log")));
    } catch {
      // nothing logged
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Stops what a crashed earlier run left (by the folders and pids it recorded), so the fixed ports are free again. */
function stopLeftovers(): void {
  if (!existsSync(LEFTOVERS)) return;
  try {
    const left = JSON.parse(readFileSync(LEFTOVERS, "utf8")) as { pids: number[]; dirs: string[] };
    for (const pid of left.pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    for (const d of left.dirs) rmSync(d, { recursive: true, force: true });
  } finally {
    rmSync(LEFTOVERS, { force: true });
  }
}

export const BUCKET = "portal-results";

export class Topology {
  readonly simulatorKey = `sim-${randomBytes(16).toString("hex")}`;
  readonly authSecret = randomBytes(32).toString("hex");
  readonly metricsToken = `metrics-${randomBytes(16).toString("hex")}`;
  readonly proxyUrl = `http://127.0.0.1:${PORTS.proxy}`;
  readonly webUrls = PORTS.web.map((p) => `http://127.0.0.1:${p}`);
  readonly workerMetricsUrls = PORTS.workerMetrics.map((p) => `http://127.0.0.1:${p}/metrics`);
  readonly simulatorUrl = `http://127.0.0.1:${PORTS.simulator}`;
  postgres!: DebianPostgres;
  nginx!: Nginx;
  s3!: S3rver;
  s3Endpoint = "";
  storage!: ObjectStorage;
  /** Serves the simulator's result files (slowly when asked), so a worker can be caught mid-download. */
  readonly files = new SlowFileProxy();
  simulator!: ManagedProcess;
  oidc!: ManagedProcess;
  webs: ManagedProcess[] = [];
  workers: ManagedProcess[] = [];
  db!: pg.Pool;
  private accounts = 0;

  async start(): Promise<void> {
    stopLeftovers();
    rmSync(DATA_DIR, { recursive: true, force: true });
    mkdirSync(LOGS, { recursive: true });
    this.postgres = new DebianPostgres();
    this.nginx = new Nginx(PORTS.proxy, PORTS.web);
    this.recordLeftovers();
    await this.postgres.start();
    this.recordLeftovers();
    // Migrations as a deploy runs them: scripts/migrate.ts against DATABASE_URL.
    const migrate = spawnSync(process.execPath, ["--import", "tsx", "scripts/migrate.ts"], {
      cwd: ROOT,
      env: { ...baseEnv(), NODE_ENV: "production", DATABASE_URL: this.postgres.url } as NodeJS.ProcessEnv,
      encoding: "utf8",
    });
    writeFileSync(path.join(LOGS, "migrate.log"), `${migrate.stdout}\n${migrate.stderr}`);
    if (migrate.status !== 0) throw new Error(`scripts/migrate.ts failed on Debian's PostgreSQL:\n${migrate.stdout}\n${migrate.stderr}`);
    this.db = new pg.Pool({ connectionString: this.postgres.url, max: 3 });
    this.db.on("error", () => {});

    this.s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: path.join(DATA_DIR, "s3"), configureBuckets: [{ name: BUCKET, configs: [] }] });
    this.s3Endpoint = `http://127.0.0.1:${((await this.s3.run()) as AddressInfo).port}`;
    const s3 = { bucket: BUCKET, region: "us-east-1", endpoint: this.s3Endpoint, accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
    this.storage = createS3Storage({ kind: "s3", ...s3, forcePathStyle: true });

    await this.files.start(this.simulatorUrl);
    this.simulator = new ManagedProcess(
      "simulator",
      "scripts/simulator.ts",
      {
        SIMULATOR_PORT: String(PORTS.simulator),
        SIMULATOR_STEP_MS: TIMING.SIMULATOR_STEP_MS,
        SIMULATOR_PUBLIC_URL: `http://127.0.0.1:${this.files.port}`,
        EVOLINK_API_KEY: this.simulatorKey,
        DATA_DIR: path.join(DATA_DIR, "simulator"),
        LOG_FORMAT: "json",
      },
      LOGS,
      (p) => waitForHttpOk(p, `${this.simulatorUrl}/health`),
    );
    this.oidc = new ManagedProcess(
      "oidc-provider",
      "tests/e2e/servers/oidc-provider.ts",
      { OIDC_PORT: String(PORTS.oidc), OIDC_REDIRECT_URI: `${this.proxyUrl}/api/auth/callback/oidc` },
      LOGS,
      (p) => waitForHttpOk(p, `${SSO.issuer}/.well-known/openid-configuration`),
    );
    const common = {
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      DATABASE_URL: this.postgres.url,
      AUTH_SECRET: this.authSecret,
      EVOLINK_BASE_URL: this.simulatorUrl,
      EVOLINK_API_KEY: this.simulatorKey,
      EVOLINK_SIMULATOR: "1",
      HOST: "127.0.0.1",
      PUBLIC_BASE_URL: this.proxyUrl,
      TRUSTED_PROXIES: "loopback",
      METRICS_TOKEN: this.metricsToken,
      S3_BUCKET: s3.bucket,
      S3_REGION: s3.region,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: "1",
      RUN_WORKER: "0",
      // As the image runs: one JSON object per line (docs/deploy.md "Logs").
      LOG_FORMAT: "json",
      // Below the suite's SIGKILL after a SIGTERM (15 s, tests/faults/processes.ts), as compose's is below its stop_grace_period.
      SHUTDOWN_GRACE_SECONDS: "10",
      OIDC_ISSUER: SSO.issuer,
      OIDC_CLIENT_ID: SSO.clientId,
      OIDC_CLIENT_SECRET: SSO.clientSecret,
      OIDC_NAME: SSO.name,
      OIDC_ALLOWED_DOMAINS: SSO.domain,
      ...TIMING,
      ...SIGNIN,
    };
    this.webs = PORTS.web.map(
      (port, i) =>
        new ManagedProcess(`web-${i + 1}`, "scripts/web.ts", { ...common, PORT: String(port), DATA_DIR: path.join(DATA_DIR, `web-${i + 1}`) }, LOGS, (p) =>
          waitForHttpOk(p, `http://127.0.0.1:${port}/api/health`),
        ),
    );
    this.workers = PORTS.workerMetrics.map(
      (port, i) =>
        new ManagedProcess(`worker-${i + 1}`, "scripts/worker.ts", { ...common, METRICS_PORT: String(port), DATA_DIR: path.join(DATA_DIR, `worker-${i + 1}`) }, LOGS, async (p) => {
          await waitFor(
            `${p.name} to start`,
            () => {
              if (!p.running) throw new Error(`${p.name} exited while starting:\n${p.printed.slice(-3000)}`);
              return p.printed.includes("Worker running");
            },
            90_000,
          );
        }),
    );
    await Promise.all([this.simulator.start(), this.oidc.start()]);
    // One worker first: it creates the job queue's tables (the web instances' readiness waits for them).
    await this.workers[0]!.start();
    await Promise.all([...this.webs.map((w) => w.start()), this.workers[1]!.start()]);
    await this.nginx.start();
    this.recordLeftovers();
    for (const url of [...this.webs.map((_, i) => this.webUrls[i]!), this.proxyUrl]) {
      await waitFor(`${url}/api/ready to answer 200`, async () => (await fetch(`${url}/api/ready`)).status === 200, 60_000);
    }
  }

  private recordLeftovers(): void {
    const pids = [this.postgres, this.nginx].map((s) => (s as unknown as { server: SystemProcess | null }).server?.child?.pid).filter((p): p is number => p !== undefined);
    writeFileSync(LEFTOVERS, JSON.stringify({ pids, dirs: [this.postgres.dir, this.nginx.dir] }));
  }

  /** Stops everything it started, whatever state it is in (also after a failure). */
  async close(): Promise<void> {
    for (const p of [...this.webs, ...this.workers, this.simulator, this.oidc]) await p?.close().catch(() => {});
    await this.nginx?.stop().catch(() => {});
    await this.db?.end().catch(() => {});
    await this.postgres?.stop().catch(() => {});
    await this.s3?.close().catch(() => {});
    await this.files.close().catch(() => {});
    rmSync(LEFTOVERS, { force: true });
  }

  /** Every product process, for "none exited on its own". */
  get products(): ManagedProcess[] {
    return [this.simulator, ...this.webs, ...this.workers];
  }

  async faults(body: unknown): Promise<void> {
    const res = await fetch(`${this.simulatorUrl}/__sim/faults`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.simulatorKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`simulator faults: ${res.status} ${await res.text()}`);
  }

  async simulatorTask(id: string): Promise<{ task: { id: string; status: string }; callbackUrl?: string } | null> {
    const res = await fetch(`${this.simulatorUrl}/__sim/tasks/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${this.simulatorKey}` } });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`simulator task ${id}: ${res.status}`);
    return (await res.json()) as never;
  }

  simulatorCreatedIds(): string[] {
    // "[simulator] task <id> created" as text, "msg":"task <id> created (…)" as JSON.
    return [...this.simulator.printed.matchAll(/(?:\[simulator\] |"msg":")task (task-unified-[\w-]+) created/g)].map((m) => m[1]!);
  }

  /** A new member (scripts/add-user.ts against DATABASE_URL), signed in through `signInAt` (the proxy by default). */
  async member(signInAt = this.proxyUrl): Promise<Account> {
    this.accounts += 1;
    const email = `topology-${this.accounts}-${randomBytes(3).toString("hex")}@topology.test`;
    const password = `pw-${randomBytes(9).toString("hex")}`;
    const added = spawnSync(process.execPath, ["--import", "tsx", "scripts/add-user.ts", email], {
      cwd: ROOT,
      env: { ...baseEnv(), NODE_ENV: "production", DATABASE_URL: this.postgres.url, PASSWORD: password } as NodeJS.ProcessEnv,
      encoding: "utf8",
    });
    if (added.status !== 0) throw new Error(`scripts/add-user.ts failed: ${added.stderr}`);
    const { rows } = await this.db.query<{ id: string }>(`SELECT id FROM "User" WHERE email = $1`, [email]);
    const cookie = await signIn(signInAt, email, password);
    return { email, password, userId: rows[0]!.id, cookie };
  }
}

/**
 * What a product process wrote (its log file, across restarts): the JSON
 * lines, and the lines that are not JSON (the suite's own "=====" markers
 * left out).
 */
export function logLines(proc: ManagedProcess): { json: Array<Record<string, unknown>>; other: string[] } {
  const file = path.join(LOGS, `${proc.name}.log`);
  const json: Array<Record<string, unknown>> = [];
  const other: string[] = [];
  if (!existsSync(file)) return { json, other };
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line === "" || line.startsWith("===== ")) continue;
    try {
      json.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      other.push(line); // not JSON, or cut by a kill
    }
  }
  return { json, other };
}

/** Which of `procs` holds the loopback TCP connection whose local port is `port` (/proc/net/tcp, then each process's descriptors). */
export function ownerOfLocalPort(port: number, procs: ManagedProcess[]): ManagedProcess | undefined {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && parseInt(f[1]!.split(":")[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  return procs.find((p) => {
    if (!p.running || p.pid === undefined) return false;
    try {
      return readdirSync(`/proc/${p.pid}/fd`).some((fd) => {
        try {
          return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${p.pid}/fd/${fd}`))?.[1] ?? "");
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

/** GET /metrics with the token; the text. */
export async function scrape(url: string, token: string): Promise<string> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 200)}`);
  return text;
}

/** Sum of the samples of `name` whose labels include every one of `labels` (Prometheus text format). */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([^ ]+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

export { sleep };
