/**
 * Start-up: `npm start` (the launcher: embedded PostgreSQL, migrations, the
 * simulator, the web server, the worker) to the first 200 from `/` (the
 * sign-in page it redirects to, followed), on an empty data folder (first
 * start: initdb, every migration, the admin account) and then on that
 * existing one. The production build exists already in both cases (a build
 * is its own step, `npm run build`). Data in <DATA_DIR>/bench/startup,
 * never the portal's.
 *
 *   npm run bench -- startup
 */
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { ensureBuild, type BenchOptions } from "./harness.ts";

const TARGET_S = 20;
const LIMIT_MS = 180_000;

async function startOnce(o: BenchOptions, dataDir: string): Promise<number> {
  const port = Number(process.env.BENCH_STARTUP_PORT ?? 3613);
  const started = process.hrtime.bigint();
  const child = spawn("npm", ["start"], {
    detached: true, // its own process group: npm, the launcher and its children are stopped together
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      EMBEDDED_PG_PORT: process.env.BENCH_STARTUP_PG_PORT ?? "4893",
      SIMULATOR_PORT: process.env.BENCH_STARTUP_SIMULATOR_PORT ?? "4892",
      DATABASE_URL: "",
      EVOLINK_API_KEY: "",
      AUTH_SECRET: "",
    },
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    const deadline = Date.now() + LIMIT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
      const status = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0);
      if (status === 200) return Number(process.hrtime.bigint() - started) / 1e9;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no 200 from / within ${LIMIT_MS / 1000} s`);
  } finally {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // already gone
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }, 20_000);
    await exited;
    clearTimeout(killer);
    // The embedded PostgreSQL stops with the launcher; give its postmaster a moment to remove its pid file.
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

export async function benchStartup(o: BenchOptions): Promise<boolean> {
  const { log } = o;
  await ensureBuild(log);
  const dir = path.join(o.dataDir, "bench", "startup");
  await rm(dir, { recursive: true, force: true });
  log(`\nstart-up: npm start to the first 200 from / (data in ${dir}; production build present)`);
  const empty = await startOnce(o, dir);
  log(`  empty data folder (initdb, migrations, admin):   ${empty.toFixed(1)} s (reported)`);
  const existing = await startOnce(o, dir);
  const held = existing < TARGET_S;
  log(`  existing data folder:                            ${existing.toFixed(1)} s`);
  log(`  ${held ? "HOLDS " : "MISSED"} existing data folder under ${TARGET_S} s`);
  return held;
}
