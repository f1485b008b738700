/**
 * Issue 12: a web process stops gracefully on SIGTERM (server/http/graceful.ts
 * under scripts/lib/lifecycle.ts, as scripts/web.ts runs them; here around a
 * stand-in server, tests/helpers/graceful-web.ts, so no production build is
 * needed). A request in flight when the signal arrives completes with 200; a
 * new connection is refused meanwhile; a request that still arrives on the
 * open connection hears "not ready" and the connection closes; the process
 * then exits 0. Events and bounded waits only: no timings asserted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { freePort } from "@/server/db/embedded.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** "refused" when nothing accepts on the port, "accepted" when something does. */
const connect = (port: number) =>
  new Promise<"accepted" | "refused">((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve("accepted");
    });
    s.once("error", () => resolve("refused"));
  });

it("on SIGTERM: refuses new connections, lets the request in flight complete with 200, answers not-ready on the open connection, exits 0", async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tests/helpers/graceful-web.ts")], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), GRACE_MS: "600000" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  await until(() => (out.includes("listening") ? true : undefined), "the stand-in listening");

  // One keep-alive connection: a POST whose body is half sent (in flight), then, pipelined behind it, GET /api/ready.
  const socket = net.connect({ port, host: "127.0.0.1" });
  let answer = "";
  socket.on("data", (c: Buffer) => (answer += c.toString()));
  const socketClosed = new Promise<void>((r) => socket.once("close", () => r()));
  await new Promise<void>((r) => socket.once("connect", () => r()));
  socket.write("POST /slow HTTP/1.1\r\nHost: portal.test\r\nContent-Length: 10\r\n\r\n12345");
  await until(() => (out.includes("in flight: /slow") ? true : undefined), "the request in flight");

  child.kill("SIGTERM");
  await until(() => (out.includes("stopping") ? true : undefined), "the stop beginning");
  expect(await until(async () => ((await connect(port)) === "refused" ? "refused" : undefined), "new connections refused")).toBe("refused");
  expect(child.exitCode).toBeNull(); // still serving the request in flight
  expect(answer).toBe("");

  socket.write("67890GET /api/ready HTTP/1.1\r\nHost: portal.test\r\n\r\n");
  await socketClosed; // the server closes the connection after answering both
  const [first, second] = answer.split(/(?=HTTP\/1\.1 )/);
  expect(first).toMatch(/^HTTP\/1\.1 200 OK/);
  expect(first).toContain("read 10 bytes");
  expect(second).toMatch(/^HTTP\/1\.1 503/);
  expect(second).toMatch(/connection: close/i);
  expect(second).toContain('"ready":false');

  expect(await exit).toEqual({ code: 0, signal: null });
  expect(out).toContain("stopped: 1 in flight, 0 cut");
}, 120_000);

it("cuts a request still in flight at the end of the grace period, and still exits 0", async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tests/helpers/graceful-web.ts")], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), GRACE_MS: "300" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  await until(() => (out.includes("listening") ? true : undefined), "the stand-in listening");
  const socket = net.connect({ port, host: "127.0.0.1" });
  socket.on("error", () => {});
  const socketClosed = new Promise<void>((r) => socket.once("close", () => r()));
  socket.write("POST /slow HTTP/1.1\r\nHost: portal.test\r\nContent-Length: 10\r\n\r\n12345");
  await until(() => (out.includes("in flight: /slow") ? true : undefined), "the request in flight");

  child.kill("SIGTERM"); // the body never completes
  await socketClosed;
  expect(await exit).toEqual({ code: 0, signal: null });
  expect(out).toContain("stopped: 1 in flight, 1 cut");
}, 120_000);
