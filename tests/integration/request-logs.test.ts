/**
 * A task followed through the logs by its request id: submitted over HTTP
 * through the web server's own request handling (server/http/web-server.ts,
 * `portalRequestListener`, with the real tRPC and callback routes, as the
 * production build registers them) with an X-Request-Id from a trusted proxy,
 * finished by the simulator (its callback through the same server, or the
 * reconciler), archived by the worker; the JSON lines written meanwhile name
 * the same request id on the submit, the callback and the archive, with the
 * task id. Real Postgres, the simulator over HTTP, pg-boss.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { encode } from "@auth/core/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trpcRoute } from "@/server/api/handler.ts";
import { startSession } from "@/server/auth/sessions.ts";
import { callbackRoute } from "@/server/callbacks/callbacks.ts";
import { registerApiRoute } from "@/server/http/api-routes.ts";
import { portalRequestListener } from "@/server/http/web-server.ts";
import { startWorker, type Worker } from "@/server/jobs/worker.ts";
import { configureLogging, setLogService } from "@/server/logging/logger.ts";
import { createUser } from "@/server/users/users.ts";
import { startTestPortal, TEST_SECRET, waitFor, type TestPortal } from "../helpers/services.ts";

type Line = Record<string, unknown> & { msg: string; service: string; level: string };

const written: string[] = [];
const lines = (): Line[] => written.map((l) => JSON.parse(l) as Line);

let portal: TestPortal;
let worker: Worker | undefined;
let server: http.Server;
let url: string;
let cookie: string;

beforeAll(async () => {
  configureLogging({ format: "json", level: "info", write: (l) => written.push(l) });
  setLogService("web");
  // The portal's server, listening first so that its address is the portal's public one (callbacks come to it).
  let listener: http.RequestListener = (_req, res) => res.writeHead(503).end();
  server = http.createServer((req, res) => listener(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  portal = await startTestPortal({ stepMs: 100, env: { PUBLIC_BASE_URL: url, TRUSTED_PROXIES: "loopback" } });
  const { services } = portal;
  // What app/api/trpc/[trpc]/route.ts and app/api/callbacks/evolink/[taskId]/route.ts register in the build.
  const trpc = trpcRoute(() => services);
  registerApiRoute("trpc", (req) => trpc(req, undefined));
  registerApiRoute("callback", callbackRoute(() => ({ db: services.db, provider: services.provider, serverSecret: TEST_SECRET })));
  // Pages (Next.js) are not part of this test: anything else is a plain 404 behind the same request handling.
  listener = portalRequestListener({ publicBaseUrl: url, trustedProxies: "loopback", mediaOrigins: [] }, async (_req, res) => {
    res.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
  });

  const alice = await createUser(services.db, { email: "alice-logs@example.test", password: "alice-password" });
  const sid = await startSession(services.db, alice.id);
  cookie = `authjs.session-token=${await encode({ token: { sub: alice.id, sid }, secret: TEST_SECRET, salt: "authjs.session-token" })}`;
});

afterAll(async () => {
  await worker?.stop();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await portal?.close();
  configureLogging(null);
});

describe("a task's request id in the logs", () => {
  it("is on the submit, the callback and the archive lines, with the task id, and answered in X-Request-Id", async () => {
    const requestId = "e2e-follow-0f3c9a4e5b6d7e8f";
    const res = await fetch(`${url}/api/trpc/tasks.create`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, origin: url, "x-request-id": requestId },
      body: JSON.stringify({ json: { prompt: "A lighthouse at dusk, followed in the logs", image_start: `${portal.simulator.url}/samples/first-frame.png` } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe(requestId);
    const taskId = ((await res.json()) as { result: { data: { json: { id: string } } } }).result.data.json.id;
    expect((await portal.services.db.task.findUniqueOrThrow({ where: { id: taskId } })).requestId).toBe(requestId);

    // The simulator finishes it and calls back (to the server above); a worker polls and archives.
    worker = await startWorker(portal.services, { tickMs: 200 });
    await waitFor(() => portal.services.db.task.findUniqueOrThrow({ where: { id: taskId } }), (t) => t.archiveStatus === "archived", 30_000);
    await waitFor(async () => lines().filter((l) => l.msg === "callback received" && l.taskId === taskId), (found) => found.length > 0, 15_000);

    const ofTask = lines().filter((l) => l.taskId === taskId);
    const one = (msg: string) => {
      const found = ofTask.filter((l) => l.msg === msg);
      expect(found.length, `a "${msg}" line for the task in:\n${written.join("")}`).toBeGreaterThan(0);
      return found[0]!;
    };
    // Every line about the task names the request that submitted it.
    for (const l of ofTask) expect(l.taskRequestId, JSON.stringify(l)).toBe(requestId);

    // The submit: written while answering that request (so it carries its requestId as well).
    expect(one("task stored")).toMatchObject({ service: "web", requestId, level: "info" });
    expect(one("task submitted to the provider")).toMatchObject({ service: "web", requestId });
    const access = lines().find((l) => l.msg === "request" && l.requestId === requestId);
    expect(access).toMatchObject({ service: "web", method: "POST", path: "/api/trpc/tasks.create", status: 200 });

    // The callback: its own request (a new id, the simulator sent none), the task's request id beside it.
    const callback = one("callback received");
    expect(callback.service).toBe("web");
    expect(callback.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(callback.requestId).not.toBe(requestId);
    expect(["applied", "duplicate"]).toContain(callback.outcome);

    // The end and its bill, once, from the callback or a poll.
    const ended = ofTask.filter((l) => l.msg === "task completed");
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ status: "completed", archive: "pending" });
    expect(ended[0]!.billedSeconds).toBeGreaterThan(0);

    // The archive, in the worker.
    expect(one("archive started")).toMatchObject({ service: "worker" });
    expect(one("archive finished")).toMatchObject({ service: "worker", key: `results/${taskId}.mp4` });
    expect(one("archive finished")).not.toHaveProperty("requestId");

    // grep <request id> over the lines finds the whole life of the task.
    const grep = written.filter((l) => l.includes(requestId)).map((l) => (JSON.parse(l) as Line).msg);
    expect(grep).toEqual(expect.arrayContaining(["task stored", "task submitted to the provider", "request", "callback received", "task completed", "archive started", "archive finished"]));
  });

  it("answers every request with an id: a new one when none or a malformed one was sent", async () => {
    const plain = await fetch(`${url}/some/page`);
    expect(plain.status).toBe(404);
    const fresh = plain.headers.get("x-request-id");
    expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    const malformed = await fetch(`${url}/some/page`, { headers: { "x-request-id": "not ok; drop table" } });
    expect(malformed.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/);
    expect(malformed.headers.get("x-request-id")).not.toBe(fresh);
    const line = lines().find((l) => l.msg === "request" && l.requestId === fresh);
    expect(line).toMatchObject({ service: "web", method: "GET", path: "/some/page", status: 404 });
  });
});
