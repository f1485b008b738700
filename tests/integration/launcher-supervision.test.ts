/**
 * Issue 11: `npm start` supervises what it starts. The real launcher
 * (server/runtime/launch.ts under scripts/lib/lifecycle.ts, as scripts/start.ts
 * runs it: embedded PostgreSQL, migrations, the simulator, the worker) runs in
 * a process of its own, with a stand-in web process (tests/helpers/fake-web.ts)
 * instead of the production build. No timings are asserted: only what happens,
 * polled with generous limits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "@/server/db/embedded.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ENTRY = path.join(ROOT, "tests/helpers/launcher-entry.ts");

interface Launcher {
  child: ChildProcess;
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  port: number;
  pgPort: number;
  simPort: number;
  dataDir: string;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });

async function health(port: number): Promise<{ pid: number } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/health`);
    return res.ok ? ((await res.json()) as { pid: number }) : undefined;
  } catch {
    return undefined;
  }
}

/** Stops an embedded PostgreSQL left behind (a launcher killed with SIGKILL cannot stop it). */
async function stopStrayPostgres(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, "pg", "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || !alive(pid)) return;
  process.kill(pid, "SIGINT");
  await until(async () => (alive(pid) ? undefined : true), "the stray PostgreSQL stopped", 30_000);
}

async function startLauncher(env: Record<string, string> = {}, same?: Launcher, opts: { ownGroup?: boolean } = {}): Promise<Launcher> {
  // As root the embedded PostgreSQL runs as `postgres`, which must be able to enter the data folder.
  const dataDir = same?.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), "wan-launcher-")));
  await chmod(dataDir, 0o755);
  const [port, pgPort, simPort] = same ? [same.port, same.pgPort, same.simPort] : [await freePort(), await freePort(), await freePort()];
  let out = "";
  const child = spawn(process.execPath, ["--import", "tsx", ENTRY], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      EMBEDDED_PG_PORT: String(pgPort),
      SIMULATOR_PORT: String(simPort),
      DATABASE_URL: "",
      EVOLINK_API_KEY: "",
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      NODE_ENV: "production",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // A process group of its own, as a terminal gives `npm start`: Ctrl+C signals the whole group.
    detached: opts.ownGroup ?? false,
  });
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  cleanups.push(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await Promise.race([exit, new Promise((r) => setTimeout(r, 30_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    await stopStrayPostgres(dataDir);
  });
  return { child, output: () => out, exit, port, pgPort, simPort, dataDir };
}

/** The launcher started (it says so) and its web server answering /api/health; fails at once if the launcher has exited. */
function answering(l: Launcher): Promise<{ pid: number }> {
  return until(async () => {
    if (l.child.exitCode !== null || l.child.signalCode !== null) throw new Error(`The launcher exited:\n${l.output()}`);
    return l.output().includes("Wan video portal is running") ? health(l.port) : undefined;
  }, "the portal answering", 180_000);
}

describe("npm start's logs", () => {
  it("with LOG_FORMAT=json, every line is one JSON object: the launcher's own, and its web process's passed through untouched", async () => {
    const l = await startLauncher({ LOG_FORMAT: "json" });
    const web = await answering(l);
    await until(async () => (l.output().includes("fake web listening") ? true : undefined), "the web process's line", 30_000);
    const lines = l.output().split("\n").filter((line) => line.trim() !== "");
    const records = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${line}\n(all of it:\n${l.output()})`);
      }
    });
    expect(records.find((r) => typeof r.msg === "string" && r.msg.startsWith("Wan video portal is running"))).toMatchObject({ service: "launcher", pid: l.child.pid, level: "info" });
    expect(records.find((r) => r.msg === "fake web listening")).toMatchObject({ service: "web", pid: web.pid, port: l.port });
    expect(records.every((r) => typeof r.time === "string" && typeof r.level === "string")).toBe(true);
  });
});

describe("npm start's supervision", () => {
  it("restarts the web server killed with SIGKILL, says so; when the launcher is killed its web server goes, and the next start takes over its database", async () => {
    const l = await startLauncher();
    const first = await answering(l);
    process.kill(first.pid, "SIGKILL");
    const second = await until(async () => {
      if (l.child.exitCode !== null) throw new Error(`The launcher exited:\n${l.output()}`);
      const h = await health(l.port);
      return h && h.pid !== first.pid ? h : undefined;
    }, "/api/health answered by a new web server", 120_000);
    expect(second.pid).not.toBe(first.pid);
    expect(l.output()).toContain("The web server exited unexpectedly (killed by SIGKILL)");
    await until(async () => (l.output().includes("The web server is running again.") ? true : undefined), "the launcher saying so", 60_000);
    expect(l.child.exitCode).toBeNull();

    // The launcher itself dies without a chance to stop anything: its web server notices and stops.
    l.child.kill("SIGKILL");
    await l.exit;
    await until(async () => (alive(second.pid) ? undefined : true), "the orphaned web server gone", 60_000);

    // Its PostgreSQL could not be told; the next start on the same folder stops it and starts its own.
    expect(await accepts(l.pgPort)).toBe(true);
    const next = await startLauncher({}, l);
    await answering(next);
    expect(next.output()).toContain("left running by a launcher that was killed");
  }, 400_000);

  it("stops everything and exits non-zero when the web server cannot be started again", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "wan-fail-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const failFile = path.join(dir, "fail");
    const l = await startLauncher({ FAKE_WEB_FAIL_FILE: failFile });
    const first = await answering(l);
    expect(await accepts(l.pgPort)).toBe(true);
    expect(await accepts(l.simPort)).toBe(true);

    await writeFile(failFile, "");
    process.kill(first.pid, "SIGKILL");
    const exit = await Promise.race([l.exit, new Promise<null>((r) => setTimeout(() => r(null), 180_000))]);
    expect(exit, l.output()).not.toBeNull();
    expect(exit!.code).not.toBe(0);
    expect(l.output()).toContain("The web server did not start again");
    expect(l.output()).toContain("The web server could not be kept running: it failed 3 times");
    expect(l.output()).toContain("Everything it started has been stopped.");
    expect(await accepts(l.pgPort)).toBe(false);
    expect(await accepts(l.simPort)).toBe(false);
    expect(await accepts(l.port)).toBe(false);
  }, 400_000);

  it("restarts the embedded PostgreSQL killed with SIGKILL, says so, and the portal keeps answering", async () => {
    const l = await startLauncher();
    await answering(l);
    const pidFile = path.join(l.dataDir, "pg", "postmaster.pid");
    const pgPid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    expect(alive(pgPid)).toBe(true);
    process.kill(pgPid, "SIGKILL");
    await until(async () => {
      if (l.child.exitCode !== null) throw new Error(`The launcher exited:\n${l.output()}`);
      return l.output().includes("The embedded PostgreSQL is running again.") ? true : undefined;
    }, "the database restarted", 120_000);
    expect(l.output()).toContain("The embedded PostgreSQL exited unexpectedly (killed by SIGKILL)");
    expect(await accepts(l.pgPort)).toBe(true);
    expect(await health(l.port)).toBeDefined();
    expect(l.child.exitCode).toBeNull();
  }, 400_000);

  it("stops everything and exits non-zero on an unhandled error in the launcher (the in-process worker or simulator)", async () => {
    const l = await startLauncher({ TEST_UNHANDLED_AFTER_START: "1" });
    const exit = await Promise.race([l.exit, new Promise<null>((r) => setTimeout(() => r(null), 180_000))]);
    expect(exit, l.output()).not.toBeNull();
    expect(exit!.code).toBe(1);
    expect(l.output()).toContain("Unexpected error (unhandled rejection): Error: a bug in the worker (test)");
    expect(l.output()).toContain("Stopping everything this process started.");
    expect(await accepts(l.pgPort)).toBe(false);
    expect(await accepts(l.simPort)).toBe(false);
    expect(await accepts(l.port)).toBe(false);
  }, 400_000);

  it("exits non-zero having stopped what it started when the web server's port is taken", async () => {
    const squatter = http.createServer((_req, res) => res.end("someone else"));
    const port = await freePort();
    await new Promise<void>((r) => squatter.listen(port, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => squatter.close(() => r())));
    const l = await startLauncher({ PORT: String(port), PUBLIC_BASE_URL: `http://127.0.0.1:${port}` });
    const exit = await Promise.race([l.exit, new Promise<null>((r) => setTimeout(() => r(null), 180_000))]);
    expect(exit, l.output()).not.toBeNull();
    expect(exit!.code).toBe(1);
    expect(l.output()).toContain(`Port ${port} is already in use`);
    expect(await accepts(l.pgPort)).toBe(false);
    expect(await accepts(l.simPort)).toBe(false);
  }, 400_000);

  it("on Ctrl+C (SIGINT to its whole process group) stops the web server and the worker first, then the embedded PostgreSQL, and exits 0", async () => {
    const l = await startLauncher({ TEST_WEB_SCRIPT: path.join(ROOT, "tests/helpers/graceful-web.ts") }, undefined, { ownGroup: true });
    await answering(l);
    expect(l.output()).toContain("Background worker started");
    process.kill(-l.child.pid!, "SIGINT");
    const exit = await Promise.race([l.exit, new Promise<null>((r) => setTimeout(() => r(null), 180_000))]);
    expect(exit, l.output()).toEqual({ code: 0, signal: null });
    const out = l.output();
    const front = out.indexOf("Stopped the web server and the worker.");
    const database = out.indexOf("Stopped the embedded PostgreSQL.");
    expect(front, out).toBeGreaterThan(-1);
    expect(database, out).toBeGreaterThan(front);
    // The worker's connections were closed by the worker, not cut by a database shutting down under it.
    expect(out).not.toContain("terminating connection due to administrator command");
    expect(out).not.toMatch(/\[worker\] .*(could not|failed)/);
    expect(await accepts(l.pgPort)).toBe(false);
    expect(await accepts(l.port)).toBe(false);
  }, 400_000);
});
