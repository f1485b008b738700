/**
 * Issue 11: a task the provider accepted and then no longer knows (404, or an
 * `invalid_task_id` answer) is ended by the reconciler after a bounded number
 * of checks in a row: failed, unbilled, its budget hold released, with a
 * reason a person understands and the checks on its timeline. A single 404
 * never ends a task. Real Postgres, the simulator over HTTP (its `forget`
 * fault through the control API), the reconciler driven directly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { budgetStatus } from "@/server/budgets/budgets.ts";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";
import { explainTaskError } from "@/server/tasks/error-explanations.ts";
import { describeTaskEvent } from "@/server/tasks/events.ts";
import { PROVIDER_LOST_TASK, reconcileTask, type ReconcileDeps } from "@/server/tasks/reconcile.ts";
import { createTask } from "@/server/tasks/tasks.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { startTestPortal, waitFor, type TestPortal } from "../helpers/services.ts";

const SLOW = "[slow]";
const input = (prompt: string) => createGenerationInputSchema().parse({ prompt, image_start: "https://example.com/first.png" });
const policy = { pollIntervalSeconds: 0.01, pollMaxIntervalSeconds: 0.05, taskDeadlineMinutes: 60, submitUnknownGraceMinutes: 5 };

let portal: TestPortal;
let deps: ReconcileDeps;
let n = 0;

/** A person of their own (so budget figures are theirs alone) and a task the simulator runs slowly. */
async function runningTask(prompt: string): Promise<{ user: SessionUser; taskId: string; providerTaskId: string }> {
  n += 1;
  const user = await createUser(portal.services.db, { email: `unknown-${n}@example.test`, password: "password-1" });
  const task = await createTask(portal.services.taskDeps, user, input(`${prompt} ${SLOW}`));
  const stored = await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
  expect(stored.providerTaskId).toBeTruthy();
  return { user, taskId: task.id, providerTaskId: stored.providerTaskId! };
}

/** Sets simulator faults through its control API, as a browser test or an operator would. */
async function simFaults(body: unknown): Promise<void> {
  const res = await fetch(`${portal.simulator.url}/__sim/faults`, {
    method: "POST",
    headers: { Authorization: "Bearer test-key", "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

/** One check now (the reconciler's job for this task, as if it were due). */
async function checkNow(taskId: string, d: ReconcileDeps = deps) {
  await portal.services.db.task.update({ where: { id: taskId }, data: { nextPollAt: null } });
  return reconcileTask(d, taskId);
}

const task = (id: string) => portal.services.db.task.findUniqueOrThrow({ where: { id } });
const events = (taskId: string) => portal.services.db.taskEvent.findMany({ where: { taskId }, orderBy: { id: "asc" } });

beforeAll(async () => {
  portal = await startTestPortal({ callbacks: false });
  portal.simulator.faults.pace({ marker: SLOW, stepMs: 600_000 });
  deps = { taskDeps: portal.services.taskDeps, policy };
});
afterAll(() => portal?.close());

describe("a task the provider no longer knows", () => {
  it("is ended after 3 checks in a row say so: failed, unbilled, budget hold released, explained, on its timeline", async () => {
    const { user, taskId, providerTaskId } = await runningTask("forgotten by the service");
    const month = await budgetStatus(portal.services.db, user.id, "UTC");
    expect(month.personal.reserved).toBeGreaterThan(0);

    await simFaults({ forget: { taskId: providerTaskId } });
    expect(await checkNow(taskId)).toBe("poll_failed");
    const afterFirst = await task(taskId);
    expect(afterFirst.status).toBe("pending");
    expect(afterFirst.nextPollAt!.getTime()).toBeGreaterThan(Date.now() - 1000); // the next check is scheduled, not run at once
    expect(await checkNow(taskId)).toBe("poll_failed");
    expect((await task(taskId)).status).toBe("pending");
    expect(await checkNow(taskId)).toBe("ended");

    const done = await task(taskId);
    expect(done).toMatchObject({ status: "failed", errorCode: PROVIDER_LOST_TASK, billedSeconds: 0 });
    expect(done.errorMessage).toMatch(/^The video service no longer knows this task.*Nothing was charged/);
    const records = await portal.services.db.billingRecord.findMany({ where: { taskId } });
    expect(records).toHaveLength(1);
    expect(records[0]?.billedSeconds).toBe(0);
    const after = await budgetStatus(portal.services.db, user.id, "UTC");
    expect(after.personal.reserved).toBe(0);
    expect(after.personal.spent).toBe(0);

    const explained = explainTaskError({ errorCode: done.errorCode, accepted: true });
    expect(explained).toMatchObject({ from: "portal", title: "The video service no longer knows this task", worthRetrying: true });

    const timeline = await events(taskId);
    const kinds = timeline.map((e) => e.kind);
    expect(kinds.filter((k) => k === "not_known")).toHaveLength(3);
    expect(kinds.at(-1)).toBe("failed");
    const notKnown = timeline.find((e) => e.kind === "not_known")!;
    expect(describeTaskEvent(notKnown).title).toMatch(/does not know this task/);
    expect(notKnown.detail).toMatch(/HTTP 404/);

    // Ended once: another check changes nothing.
    expect(await checkNow(taskId)).toBe("not_due");
    expect(await portal.services.db.billingRecord.count({ where: { taskId } })).toBe(1);
  });

  it("is not ended by one 404: a check that finds it again starts the count over, and it completes", async () => {
    const user = await createUser(portal.services.db, { email: "briefly@example.test", password: "password-1" });
    portal.simulator.faults.pace({ marker: "[briefly]", stepMs: 400 });
    const created = await createTask(portal.services.taskDeps, user, input("briefly unknown [briefly]"));
    const { providerTaskId } = await task(created.id);

    await simFaults({ forget: { taskId: providerTaskId!, count: 2 } });
    expect(await checkNow(created.id)).toBe("poll_failed");
    expect(await checkNow(created.id)).toBe("poll_failed");
    expect(await checkNow(created.id)).toBe("polled"); // it knows the task again
    await simFaults({ forget: { taskId: providerTaskId!, count: 2 } });
    expect(await checkNow(created.id)).toBe("poll_failed");
    expect(await checkNow(created.id)).toBe("poll_failed"); // 2 in a row since the last answer: not yet 3
    expect((await task(created.id)).status).not.toBe("failed");

    const done = await waitFor(
      async () => {
        await checkNow(created.id);
        return task(created.id);
      },
      (t) => t.status === "completed" || t.status === "failed",
      30_000,
    );
    expect(done).toMatchObject({ status: "completed", billedSeconds: 5 });
    expect((await events(created.id)).filter((e) => e.kind === "not_known")).toHaveLength(4);
  });

  it("counts invalid_task_id answers too; checks that cannot reach the service neither count nor reset; the number is configurable", async () => {
    const { taskId } = await runningTask("invalid id");
    const twice: ReconcileDeps = { ...deps, policy: { ...policy, unknownTaskConfirmations: 2 } };
    await simFaults({
      http: [
        { endpoint: "query", status: 400, code: "invalid_task_id", message: "Invalid task id.", count: 1 },
        { endpoint: "query", status: 503, count: 10_000 },
      ],
    });
    expect(await checkNow(taskId, twice)).toBe("poll_failed"); // invalid_task_id: 1 of 2
    // The 503s (retried by the client until its deadline) fail the next check without counting.
    expect(await checkNow(taskId, twice)).toBe("poll_failed");
    expect((await task(taskId)).status).toBe("pending");
    portal.simulator.faults.clear(); // the 503s end (pace rules bind at creation: the task stays slow)
    await simFaults({ http: { endpoint: "query", status: 400, code: "invalid_task_id", message: "Invalid task id.", count: 1 } });
    expect(await checkNow(taskId, twice)).toBe("ended");
    const done = await task(taskId);
    expect(done).toMatchObject({ status: "failed", errorCode: PROVIDER_LOST_TASK, billedSeconds: 0 });
    const kinds = (await events(taskId)).map((e) => e.kind);
    expect(kinds.filter((k) => k === "not_known")).toHaveLength(2);
    expect(kinds).toContain("poll_failed");
  });
});
