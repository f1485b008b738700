/**
 * The background worker on pg-boss, end to end: with no callbacks at all, a
 * submitted task is polled to completion and its result archived, and two
 * workers on one database do not double the work.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startWorker, type Worker } from "@/server/jobs/worker.ts";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";
import { createTask } from "@/server/tasks/tasks.ts";
import { createUser } from "@/server/users/users.ts";
import { startTestPortal, waitFor, type TestPortal } from "../helpers/services.ts";

let portal: TestPortal;
const workers: Worker[] = [];

beforeAll(async () => {
  portal = await startTestPortal({
    callbacks: false,
    env: { POLL_INTERVAL_SECONDS: "0.2", POLL_MAX_INTERVAL_SECONDS: "0.5", RECONCILE_TICK_MS: "100" },
  });
  const quiet = () => {};
  workers.push(await startWorker(portal.services, { log: quiet }), await startWorker(portal.services, { log: quiet }));
});
afterAll(async () => {
  for (const w of workers) await w.stop();
  await portal?.close();
});

it("polls tasks to completion and archives their results, each job once", async () => {
  const user = await createUser(portal.services.db, { email: "w@example.test", password: "password-1" });
  const schema = createGenerationInputSchema();
  const tasks = await Promise.all(
    ["one", "two", "three"].map((p) => createTask(portal.services.taskDeps, user, schema.parse({ prompt: p, image_start: "https://example.com/a.png" }))),
  );
  for (const t of tasks) {
    const done = await waitFor(
      () => portal.services.db.task.findUniqueOrThrow({ where: { id: t.id } }),
      (x) => x.archiveStatus === "archived",
      30_000,
    );
    expect(done.status).toBe("completed");
    expect(done.billedSeconds).toBe(5);
    expect(done.archiveAttempts).toBe(1); // two workers, one download
    expect(await portal.services.db.billingRecord.count({ where: { taskId: t.id } })).toBe(1);
  }
  expect(portal.callbacks).toHaveLength(0);
});
