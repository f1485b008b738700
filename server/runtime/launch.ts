/**
 * `npm start`: everything on one machine, with no configuration required.
 * Resolves what is missing (embedded Postgres, the provider simulator, a local
 * auth secret), migrates the database, creates the bootstrap admin, builds the
 * Next.js app when no build exists, and runs it behind the portal's own web
 * server (scripts/web.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { createRequire } from "node:module";
import { loadConfig, loadRuntimeConfig, type Config } from "../config.ts";
import { startWorker } from "../jobs/worker.ts";
import { buildServices } from "../services.ts";
import { createDb } from "../db/client.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded.ts";
import { applyMigrations } from "../db/migrate.ts";
import { loadOrCreateLocalSecrets } from "../local-secrets.ts";
import { startSimulator } from "../simulator/simulator.ts";
import { ensureBootstrapAdmin } from "../users/users.ts";

export interface LaunchOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
}

export async function launch(opts: LaunchOptions = {}): Promise<{ stop(): Promise<void> }> {
  const cwd = opts.cwd ?? process.cwd();
  const log = opts.log ?? ((l: string) => console.log(l));
  const config: Config = loadConfig(opts.env ?? process.env);
  const dataDir = path.resolve(cwd, config.dataDir);
  const secrets = await loadOrCreateLocalSecrets(dataDir);
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((e) => log(`shutdown: ${String(e)}`));
  };

  try {
    // 1. Database
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      log(`Starting embedded PostgreSQL (data in ${path.join(dataDir, "pg")}, port ${config.embeddedPgPort})…`);
      const pg: EmbeddedDatabase = await startEmbeddedPostgres({
        dataDir: path.join(dataDir, "pg"),
        port: config.embeddedPgPort,
        password: secrets.embeddedPgPassword,
      });
      stops.push(() => pg.stop());
      databaseUrl = pg.url;
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
      stops.push(() => sim.close());
      log(`Provider simulator on ${sim.url} (set EVOLINK_API_KEY to use the real provider).`);
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
    const nextBin = createRequire(path.join(cwd, "package.json")).resolve("next/dist/bin/next");
    const stale = await buildIsStale(cwd);
    if (stale) {
      log(`${stale}: running \`next build\`…`);
      await run(spawn(process.execPath, [nextBin, "build"], { cwd, env: childEnv, stdio: "inherit" }));
    }
    // The portal's own server in front of the build (server/http/web-server.ts), run through tsx as this launcher is.
    const web = spawn(process.execPath, ["--import", "tsx", path.join(cwd, "scripts", "web.ts")], {
      cwd,
      env: childEnv,
      stdio: ["ignore", "inherit", "inherit"],
    });
    stops.push(() => terminate(web));
    await waitForHttp(`http://127.0.0.1:${config.port}/api/health`, web);

    // 4. The background worker (reconciler, archiver), unless it runs apart (`npm run worker`).
    if (config.worker.runInStart) {
      const services = buildServices(loadRuntimeConfig(childEnv));
      const worker = await startWorker(services, { log });
      stops.push(async () => {
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
    return { stop };
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

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`The web server exited with code ${child.exitCode}`);
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
