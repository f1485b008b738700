/**
 * Issue 4's fault cases: whatever the network does, a task ends in exactly
 * one correct final state and is billed exactly once. Real Postgres, the
 * simulator over HTTP, callbacks through the same function as the route.
 */
import { readFile } from "node:fs/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { handleProviderCallback } from "@/server/callbacks/callbacks.ts";
import { callbackToken } from "@/server/callbacks/token.ts";
import type { Task } from "@/server/db/client.ts";
import { archiveResult, openTaskVideo } from "@/server/storage/archive.ts";
import { reconcileTask, type ReconcileDeps } from "@/server/tasks/reconcile.ts";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";
import { createTask, type TaskDeps } from "@/server/tasks/tasks.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { startFlakyProxy, type FlakyProxy } from "../helpers/flaky-proxy.ts";
import { startTestPortal, TEST_SECRET, waitFor, type TestPortal } from "../helpers/services.ts";

const input = (prompt: string) => createGenerationInputSchema().parse({ prompt, image_start: "https://example.com/first.png" });
const policy = { pollIntervalSeconds: 0.01, pollMaxIntervalSeconds: 0.05, taskDeadlineMinutes: 60, submitUnknownGraceMinutes: 5 };

async function expectFinal(portal: TestPortal, taskId: string, status: "completed" | "failed", billedSeconds: number): Promise<Task> {
  const task = await portal.services.db.task.findUniqueOrThrow({ where: { id: taskId } });
  expect(task.status).toBe(status);
  expect(task.billedSeconds).toBe(billedSeconds);
  const records = await portal.services.db.billingRecord.findMany({ where: { taskId } });
  expect(records).toHaveLength(1);
  expect(records[0]?.billedSeconds).toBe(billedSeconds);
  return task;
}

/** Runs the reconciler on a task until it ends (as the worker's jobs would). */
async function reconcileUntilEnded(deps: ReconcileDeps, taskId: string): Promise<void> {
  await waitFor(
    async () => {
      await reconcileTask(deps, taskId);
      return deps.taskDeps.db.task.findUniqueOrThrow({ where: { id: taskId } });
    },
    (t) => t.status === "completed" || t.status === "failed",
  );
}

describe("with callbacks", () => {
  let portal: TestPortal;
  let user: SessionUser;
  beforeAll(async () => {
    portal = await startTestPortal();
    user = await createUser(portal.services.db, { email: "cb@example.test", password: "password-1" });
  });
  afterAll(() => portal?.close());
  const deliver = (taskId: string, body: unknown, token = callbackToken(TEST_SECRET, taskId)) =>
    handleProviderCallback(
      { db: portal.services.db, provider: portal.services.provider, serverSecret: TEST_SECRET },
      { taskId, token, rawBody: JSON.stringify(body) },
    );
  const completedTask = async (prompt: string) => {
    const task = await createTask(portal.services.taskDeps, user, input(prompt));
    await waitFor(() => portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } }), (t) => t.status === "completed");
    return portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
  };
  const finalBody = (task: Task) => portal.simulator.tasks.get(task.providerTaskId!)!.task;

  it("records the same callback delivered 4 times once, billed once", async () => {
    const task = await completedTask("duplicates");
    const body = finalBody(task);
    const outcomes = [];
    const queries = () => portal.simulator.requests.filter((r) => r.method === "GET" && r.path === `/v1/tasks/${task.providerTaskId}`).length;
    const asked = queries();
    for (let i = 0; i < 3; i++) outcomes.push((await deliver(task.id, body)).outcome);
    expect(outcomes).toEqual(["duplicate", "duplicate", "duplicate"]);
    // The task has ended: nothing a callback says can change it, so the provider is not asked again.
    expect(queries()).toBe(asked);
    await expectFinal(portal, task.id, "completed", 5);
    const events = await portal.services.db.callbackEvent.findMany({ where: { taskId: task.id } });
    expect(events.map((e) => e.outcome).sort()).toEqual(["applied", "duplicate", "duplicate", "duplicate"]);
    // Each duplicate is logged with why it changed nothing, and is a line of the task's timeline.
    const duplicates = events.filter((e) => e.outcome === "duplicate");
    expect(duplicates.map((e) => [e.reportedStatus, e.detail])).toEqual(Array(3).fill(["completed", "the task had already ended (completed)"]));
    const lines = await portal.services.db.taskEvent.findMany({ where: { taskId: task.id, kind: "callback" }, orderBy: { id: "asc" } });
    expect(lines.slice(-3).map((l) => [l.source, l.detail])).toEqual(
      Array(3).fill(["callback", "It said completed; the task had already ended (completed), so nothing changes."]),
    );
  });

  it("answers 404 for a well-signed callback of a task that does not exist, whatever its body", async () => {
    const missing = "no-such-task-0001";
    await expect(deliver(missing, { id: "task-unified-1-x", status: "completed", progress: 100 })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(deliver(missing, { hello: "world" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await portal.services.db.callbackEvent.count({ where: { taskId: missing } })).toBe(0);
  });

  it("never moves a completed task back when a stale callback arrives late", async () => {
    const task = await completedTask("out of order");
    const stale = { ...finalBody(task), status: "processing", progress: 40, results: undefined };
    expect((await deliver(task.id, stale)).outcome).toBe("duplicate");
    const after = await expectFinal(portal, task.id, "completed", 5);
    expect(after.progress).toBe(100);
  });

  it("records the provider's state, not the body's, when a body claims an early end", async () => {
    const task = await createTask(portal.services.taskDeps, user, input("early claim"));
    // Right after submission the provider says pending/processing; the body claims completion.
    const claim = { id: task.providerTaskId, status: "completed", progress: 100, results: ["https://evil.example/video.mp4"] };
    await deliver(task.id, claim);
    const now = await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
    expect(now.resultUrls).not.toContain("https://evil.example/video.mp4");
    await waitFor(() => portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } }), (t) => t.status === "completed");
    const done = await expectFinal(portal, task.id, "completed", 5);
    expect(done.resultUrls[0]).toContain(portal.simulator.url);
  });

  it("ignores a forged body that the provider contradicts", async () => {
    const task = await completedTask("forged body");
    await deliver(task.id, { id: task.providerTaskId, status: "failed", error: { code: "content_policy_violation", message: "forged" } });
    const after = await expectFinal(portal, task.id, "completed", 5);
    expect(after.errorCode).toBeNull();
  });

  it("answers a forged token with 404 and changes nothing", async () => {
    const task = await createTask(portal.services.taskDeps, user, input("forged token"));
    const before = await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
    const forged = { id: task.providerTaskId, status: "failed", error: { code: "x", message: "forged" } };
    await expect(deliver(task.id, forged, callbackToken("a-different-secret-of-enough-length", task.id))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(deliver(task.id, forged, "")).rejects.toMatchObject({ code: "NOT_FOUND" });
    const same = await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
    expect(same.status === before.status || same.status === "processing" || same.status === "completed").toBe(true);
    expect(same.errorCode).toBeNull();
    expect(await portal.services.db.callbackEvent.count({ where: { taskId: null, outcome: "rejected" } })).toBeGreaterThanOrEqual(2);
    await waitFor(() => portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } }), (t) => t.status === "completed");
    await expectFinal(portal, task.id, "completed", 5);
  });

  it("refuses a body for another provider task, and one that is not a task object", async () => {
    const task = await completedTask("wrong task");
    await expect(deliver(task.id, { ...finalBody(task), id: "task-unified-1-someoneelse" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(deliver(task.id, { hello: "world" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      handleProviderCallback(
        { db: portal.services.db, provider: portal.services.provider, serverSecret: TEST_SECRET },
        { taskId: task.id, token: callbackToken(TEST_SECRET, task.id), rawBody: "x".repeat(70_000) },
      ),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expectFinal(portal, task.id, "completed", 5);
  });

  it("survives a crash between the provider's answer and our write: the callback adopts the task", async () => {
    const deps: TaskDeps = {
      ...portal.services.taskDeps,
      afterProviderAnswer: () => {
        throw new Error("process killed");
      },
    };
    await expect(createTask(deps, user, input("crash then callback"))).rejects.toThrow("process killed");
    const task = await portal.services.db.task.findFirstOrThrow({ where: { prompt: "crash then callback" } });
    expect(task.providerTaskId).toBeNull();
    expect(task.submitAttemptedAt).not.toBeNull();
    await waitFor(() => portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } }), (t) => t.status === "completed");
    const done = await expectFinal(portal, task.id, "completed", 5);
    expect(done.providerTaskId).toMatch(/^task-unified-/);
    // One paid call only.
    const creates = portal.simulator.requests.filter((r) => r.method === "POST" && (r.body as { prompt?: string })?.prompt === "crash then callback");
    expect(creates).toHaveLength(1);
  });

  it("records one final state when the provider delivers the callback 4 times", async () => {
    portal.simulator.faults.callbacks({ duplicate: 4, marker: "[dup4]" });
    const task = await createTask(portal.services.taskDeps, user, input("[dup4] four deliveries"));
    const events = await waitFor(
      () => portal.services.db.callbackEvent.findMany({ where: { taskId: task.id } }),
      (e) => e.length >= 4,
    );
    expect(events.filter((e) => e.outcome === "applied")).toHaveLength(1);
    expect(events.filter((e) => e.outcome === "duplicate")).toHaveLength(3);
    await expectFinal(portal, task.id, "completed", 5);
  });

  it("stays completed when the provider sends a stale processing callback after the final one", async () => {
    portal.simulator.faults.callbacks({ staleProcessing: "after_final", marker: "[stale]" });
    const task = await createTask(portal.services.taskDeps, user, input("[stale] reordered"));
    await waitFor(
      () => portal.services.db.callbackEvent.findMany({ where: { taskId: task.id } }),
      (e) => e.length >= 2,
    );
    const done = await expectFinal(portal, task.id, "completed", 5);
    expect(done.progress).toBe(100);
  });

  it("a 502 on create leaves the task for the callback to adopt, paid once", async () => {
    portal.simulator.faults.http({ endpoint: "create", status: 502, count: 1, createTask: true });
    const task = await createTask(portal.services.taskDeps, user, input("gateway lost the answer"));
    expect(task.status).toBe("submitting");
    expect(task.providerTaskId).toBeNull();
    await waitFor(() => portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } }), (t) => t.status === "completed");
    await expectFinal(portal, task.id, "completed", 5);
  });

  it("a refused create (400) ends the task failed and unbilled, with the provider's reason", async () => {
    portal.simulator.faults.http({ endpoint: "create", status: 400, count: 1 });
    await expect(createTask(portal.services.taskDeps, user, input("refused outright"))).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const task = await portal.services.db.task.findFirstOrThrow({ where: { prompt: "refused outright" } });
    await expectFinal(portal, task.id, "failed", 0);
  });

  it("answers in time when the provider cannot confirm, and hands the task to the reconciler", async () => {
    // Queries hang from before the task exists: set after the submit, the simulator's own callback (the task ends
    // ~250 ms after its creation) could confirm and complete it first when the submit's writes were slow.
    portal.simulator.faults.http({ endpoint: "query", hang: true, count: 1000 });
    let task!: Awaited<ReturnType<typeof createTask>>;
    try {
      task = await createTask(portal.services.taskDeps, user, input("slow confirmation"));
      const started = Date.now();
      const result = await handleProviderCallback(
        { db: portal.services.db, provider: portal.services.provider, serverSecret: TEST_SECRET, confirmTimeoutMs: 300 },
        { taskId: task.id, token: callbackToken(TEST_SECRET, task.id), rawBody: JSON.stringify({ id: task.providerTaskId, status: "completed", progress: 100 }) },
      );
      expect(result.outcome).toBe("deferred");
      expect(Date.now() - started).toBeLessThan(3000); // the provider waits 10 s for our answer
      const row = await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
      expect(row.status).not.toBe("completed"); // nothing recorded on the body's word
      expect(row.nextPollAt!.getTime()).toBeLessThanOrEqual(Date.now()); // due for a poll now
      const events = await portal.services.db.callbackEvent.findMany({ where: { taskId: task.id, outcome: "deferred" } });
      expect(events).toHaveLength(1);
    } finally {
      portal.simulator.faults.clear();
    }
    // The simulator's own callback was deferred the same way; the reconciler finishes the task.
    await reconcileUntilEnded({ taskDeps: portal.services.taskDeps, policy }, task.id);
    await expectFinal(portal, task.id, "completed", 5);
  });

  it("creates one task for one idempotency key, even when the request comes twice at once", async () => {
    const key = "5b0c6a3e-2f7d-4c1e-9a55-0d3c1f1e2a77";
    const [a, b] = await Promise.all([
      createTask(portal.services.taskDeps, user, input("double click"), { clientRequestId: key }),
      createTask(portal.services.taskDeps, user, input("double click"), { clientRequestId: key }),
    ]);
    const c = await createTask(portal.services.taskDeps, user, input("double click"), { clientRequestId: key });
    expect(new Set([a.id, b.id, c.id]).size).toBe(1);
    expect(await portal.services.db.task.count({ where: { prompt: "double click" } })).toBe(1);
    const creates = portal.simulator.requests.filter((r) => r.method === "POST" && (r.body as { prompt?: string })?.prompt === "double click");
    expect(creates).toHaveLength(1);
  });
});

describe("without callbacks (no public https address): the reconciler", () => {
  let portal: TestPortal;
  let user: SessionUser;
  let deps: ReconcileDeps;
  beforeAll(async () => {
    portal = await startTestPortal({ callbacks: false });
    user = await createUser(portal.services.db, { email: "poll@example.test", password: "password-1" });
    deps = { taskDeps: portal.services.taskDeps, policy };
  });
  afterAll(() => portal?.close());

  it("finishes a task whose callback never comes", async () => {
    const task = await createTask(portal.services.taskDeps, user, input("no callback"));
    expect(portal.simulator.tasks.get(task.providerTaskId!)?.callbackUrl).toBeUndefined();
    await reconcileUntilEnded(deps, task.id);
    await expectFinal(portal, task.id, "completed", 5);
    expect(portal.callbacks).toHaveLength(0);
  });

  it("records a failure reported by polling, unbilled", async () => {
    const task = await createTask(portal.services.taskDeps, user, input("[sim:fail] polled failure"));
    await reconcileUntilEnded(deps, task.id);
    const done = await expectFinal(portal, task.id, "failed", 0);
    expect(done.errorCode).toBe("content_policy_violation");
  });

  it("keeps polling through 5xx and 429 answers, backing off, and honours Retry-After", async () => {
    const noRetry = await startTestPortal({ callbacks: false, providerRetry: { getTask: { maxAttempts: 1 }, createGeneration: { maxAttempts: 1 } } });
    try {
      const u = await createUser(noRetry.services.db, { email: "p@example.test", password: "password-1" });
      const d: ReconcileDeps = { taskDeps: noRetry.services.taskDeps, policy };
      const task = await createTask(noRetry.services.taskDeps, u, input("flaky polling"));
      noRetry.simulator.faults.http({ endpoint: "query", status: 503, count: 1 });
      expect(await reconcileTask(d, task.id)).toBe("poll_failed");
      let row = await noRetry.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
      expect(row.pollFailures).toBe(1);

      noRetry.simulator.faults.http({ endpoint: "query", status: 429, count: 1, retryAfterSeconds: 30 });
      await noRetry.services.db.task.update({ where: { id: task.id }, data: { nextPollAt: null } });
      const before = Date.now();
      expect(await reconcileTask(d, task.id)).toBe("poll_failed");
      row = await noRetry.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
      expect(row.pollFailures).toBe(2);
      expect(row.nextPollAt!.getTime() - before).toBeGreaterThanOrEqual(29_000);
      expect(await reconcileTask(d, task.id)).toBe("not_due"); // waits as told

      noRetry.simulator.faults.http({ endpoint: "query", status: 502, count: 1 });
      await noRetry.services.db.task.update({ where: { id: task.id }, data: { nextPollAt: null } });
      expect(await reconcileTask(d, task.id)).toBe("poll_failed");
      await noRetry.services.db.task.update({ where: { id: task.id }, data: { nextPollAt: null } });
      await reconcileUntilEnded(d, task.id);
      const done = await expectFinal(noRetry, task.id, "completed", 5);
      expect(done.pollFailures).toBe(0);
    } finally {
      await noRetry.close();
    }
  });

  it("gives up a submission whose outcome stays unknown, unbilled, saying what to check", async () => {
    const crashing: TaskDeps = { ...portal.services.taskDeps, afterProviderAnswer: () => Promise.reject(new Error("killed")) };
    await expect(createTask(crashing, user, input("lost answer"))).rejects.toThrow("killed");
    const task = await portal.services.db.task.findFirstOrThrow({ where: { prompt: "lost answer" } });
    expect(await reconcileTask(deps, task.id)).toBe("waiting");
    const later = () => new Date(Date.now() + (policy.submitUnknownGraceMinutes + 1) * 60_000);
    expect(await reconcileTask({ ...deps, now: later }, task.id)).toBe("ended");
    const done = await expectFinal(portal, task.id, "failed", 0);
    expect(done.errorCode).toBe("submission_unknown");
    expect(done.errorMessage).toMatch(/check the provider's console/);
  });

  it("sends a task that was stored but never sent (crash before the call)", async () => {
    const stored = await portal.services.db.task.create({
      data: {
        userId: user.id,
        mode: "first_frame",
        prompt: "never sent",
        request: { model: "wan2.7-image-to-video", prompt: "never sent", image_start: "https://example.com/a.png", duration: 5 },
        durationSeconds: 5,
        pricePerSecond: 0.086,
        createdAt: new Date(Date.now() - 60_000),
      },
    });
    expect(await reconcileTask(deps, stored.id)).toBe("submitted");
    await reconcileUntilEnded(deps, stored.id);
    await expectFinal(portal, stored.id, "completed", 5);
  });

  it("ends a task that passes its deadline, unbilled", async () => {
    const task = await createTask(portal.services.taskDeps, user, input("too slow"));
    await portal.services.db.task.update({ where: { id: task.id }, data: { createdAt: new Date(Date.now() - 61 * 60_000) } });
    expect(await reconcileTask(deps, task.id)).toBe("ended");
    const done = await expectFinal(portal, task.id, "failed", 0);
    expect(done.errorCode).toBe("deadline_exceeded");
  });
});

describe("archiving results", () => {
  let portal: TestPortal;
  let proxy: FlakyProxy;
  let owner: SessionUser;
  let other: SessionUser;
  beforeAll(async () => {
    let simulatorUrl = "";
    proxy = await startFlakyProxy(() => simulatorUrl);
    portal = await startTestPortal({ simulatorPublicUrl: proxy.url });
    simulatorUrl = portal.simulator.url;
    owner = await createUser(portal.services.db, { email: "owner@example.test", password: "password-1" });
    other = await createUser(portal.services.db, { email: "other@example.test", password: "password-1" });
  });
  afterAll(async () => {
    await portal?.close();
    await proxy?.close();
  });
  afterEach(() => proxy.failNext(0));

  it("retries a failed download, then serves our copy to its owner only", async () => {
    const task = await createTask(portal.services.taskDeps, owner, input("archive me"));
    await waitFor(() => portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } }), (t) => t.status === "completed");
    expect((await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } })).archiveStatus).toBe("pending");
    const deps = { db: portal.services.db, storage: portal.services.storage, maxAttempts: 3 };

    proxy.failNext(1, 503);
    await expect(archiveResult(deps, task.id)).rejects.toThrow(/attempt 1 of 3.*HTTP 503/);
    const failedOnce = await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
    expect(failedOnce.archiveStatus).toBe("pending");
    expect(failedOnce.archiveError).toMatch(/HTTP 503/);

    expect(await archiveResult(deps, task.id)).toBe("archived");
    const archived = await expectFinal(portal, task.id, "completed", 5);
    expect(archived.archiveStatus).toBe("archived");
    expect(archived.archiveError).toBeNull();
    expect(archived.resultUrls[0]).toContain(proxy.url); // the provider's link is kept too

    const sample = await readFile(new URL("../../server/simulator/assets/sample.mp4", import.meta.url));
    const video = await openTaskVideo(portal.services, owner, task.id);
    expect(Buffer.from(await new Response(video.body).arrayBuffer()).equals(sample)).toBe(true);
    const part = await openTaskVideo(portal.services, owner, task.id, { start: 0, end: 99 });
    expect((await new Response(part.body).arrayBuffer()).byteLength).toBe(100);
    expect(part.range).toEqual({ start: 0, end: 99 });
    await expect(openTaskVideo(portal.services, other, task.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(openTaskVideo(portal.services, owner, task.id, { start: sample.length })).rejects.toMatchObject({ name: "RangeNotSatisfiableError", size: sample.length });
    expect(await archiveResult(deps, task.id)).toBe("skipped");
  });

  it("says so when every attempt fails, and keeps the provider's link", async () => {
    const task = await createTask(portal.services.taskDeps, owner, input("archive fails"));
    await waitFor(() => portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } }), (t) => t.status === "completed");
    const deps = { db: portal.services.db, storage: portal.services.storage, maxAttempts: 2 };
    proxy.failNext(2, 500);
    await expect(archiveResult(deps, task.id)).rejects.toThrow();
    await expect(archiveResult(deps, task.id)).rejects.toThrow(/attempt 2 of 2/);
    const failed = await expectFinal(portal, task.id, "completed", 5);
    expect(failed.archiveStatus).toBe("failed");
    expect(failed.archiveError).toMatch(/HTTP 500/);
    expect(failed.resultUrls).toHaveLength(1);
  });
});
