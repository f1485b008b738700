/**
 * Issue 12: a worker stopped (SIGTERM runs `worker.stop()`, scripts/worker.ts)
 * while a job runs: the job either finishes within the grace period, or is
 * handed back to the queue and another worker completes it; either way the
 * task completes once, with one billing record. The job is held in the middle
 * by a proxy between worker A and the provider, released (or not) by the
 * test: no timings asserted.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { startWorker, type Worker } from "@/server/jobs/worker.ts";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";
import { createEvolinkProvider } from "@/server/provider/evolink.ts";
import { buildServices } from "@/server/services.ts";
import { createTask } from "@/server/tasks/tasks.ts";
import { createUser } from "@/server/users/users.ts";
import { startTestPortal, waitFor, type TestPortal } from "../helpers/services.ts";

/** A proxy to the simulator that holds every request until `release()`; `arrived` resolves on the first. */
async function startHoldingProxy(target: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let arrived!: () => void;
  const first = new Promise<void>((r) => (arrived = r));
  const server = http.createServer(async (req, res) => {
    arrived();
    await released;
    try {
      const upstream = await fetch(new URL(req.url ?? "/", target), { method: req.method, headers: { authorization: req.headers.authorization ?? "" } });
      res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" }).end(Buffer.from(await upstream.arrayBuffer()));
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrived: first,
    release,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let portal: TestPortal;
const cleanups: Array<() => Promise<unknown>> = [];
const quiet = () => {};

beforeAll(async () => {
  portal = await startTestPortal({
    callbacks: false,
    env: { POLL_INTERVAL_SECONDS: "0.2", POLL_MAX_INTERVAL_SECONDS: "0.5", RECONCILE_TICK_MS: "100" },
  });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(async () => {
  await portal?.close();
});

/** Worker A: the portal's worker, but its provider calls go through `proxyUrl` (and are not given up on during the test). */
async function workerThrough(proxyUrl: string): Promise<Worker> {
  const provider = createEvolinkProvider({ baseUrl: proxyUrl, apiKey: "test-key", retry: { getTask: { baseMs: 20, capMs: 100, deadlineMs: 600_000 } } });
  const services = buildServices(portal.services.config, { db: portal.services.db, provider, storage: portal.services.storage });
  const worker = await startWorker(services, { log: quiet });
  cleanups.push(() => worker.stop({ graceMs: 1 }));
  return worker;
}

async function submittedTask(email: string) {
  const user = await createUser(portal.services.db, { email, password: "password-1" });
  const task = await createTask(portal.services.taskDeps, user, createGenerationInputSchema().parse({ prompt: email, image_start: "https://example.com/a.png" }));
  // The provider finishes it first: the poll that is held in the middle is the one that bills.
  await waitFor(
    async () => portal.simulator.tasks.get(task.providerTaskId ?? "")?.task.status,
    (s) => s === "completed",
    30_000,
  );
  return task;
}

const pollJobs = (taskId: string) =>
  portal.services.db.$queryRawUnsafe<Array<{ state: string }>>(`SELECT state::text AS state FROM pgboss.job WHERE name = 'poll-task' AND data->>'taskId' = $1 ORDER BY created_on`, taskId);

it("a job running when the worker stops finishes within the grace period, then the worker stops; billed once", async () => {
  const task = await submittedTask("finish@example.test");
  const proxy = await startHoldingProxy(portal.simulator.url);
  cleanups.push(() => proxy.close());
  const a = await workerThrough(proxy.url);
  await proxy.arrived; // A's poll of the task is in the middle of its provider call

  let stopped = false;
  const stopping = a.stop({ graceMs: 600_000 }).then(() => (stopped = true));
  // The stop waits for the job in hand: still active, and the stop not done, while the provider call is held.
  expect((await pollJobs(task.id))[0]?.state).toBe("active");
  expect(stopped).toBe(false);
  proxy.release();
  await stopping;

  const after = await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
  expect(after.status).toBe("completed");
  expect(await portal.services.db.billingRecord.count({ where: { taskId: task.id } })).toBe(1);
  expect((await pollJobs(task.id))[0]?.state).toBe("completed"); // recorded before A's pool closed
});

it("a job that cannot finish within the grace period is handed back; another worker completes it, billed once", async () => {
  const task = await submittedTask("handback@example.test");
  const proxy = await startHoldingProxy(portal.simulator.url); // never released: A's provider call hangs
  cleanups.push(() => proxy.close());
  const a = await workerThrough(proxy.url);
  await proxy.arrived;

  await a.stop({ graceMs: 200 });
  // Handed back: the job A held is failed, not left active until it expires (the stately queue would hold the task's
  // next poll back till then). A's tick may have queued the next poll already: it waits for any worker.
  const states = (await pollJobs(task.id)).map((j) => j.state);
  expect(states[0]).toBe("failed");
  expect(states).not.toContain("active");
  expect((await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } })).status).not.toBe("completed");

  const b = await startWorker(portal.services, { log: quiet });
  cleanups.push(() => b.stop({ graceMs: 1 }));
  const done = await waitFor(
    () => portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } }),
    (t) => t.archiveStatus === "archived",
    60_000,
  );
  expect(done.status).toBe("completed");
  expect(done.billedSeconds).toBe(5);
  expect(await portal.services.db.billingRecord.count({ where: { taskId: task.id } })).toBe(1);
});
