/**
 * The task page's server side (issue 10): cancelling before the paid call
 * (also racing a submit), deleting a finished task's files (storage emptied,
 * rows kept, links saying so), the event log behind the timeline (in order,
 * for a completed and a failed task, by callback and by poll, and the
 * backfill of older tasks), the "task ended" activity query, and what the
 * page is told. Real Postgres, the simulator over HTTP, the routes' own
 * server functions.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root.ts";
import { userKey } from "@/server/budgets/budgets.ts";
import { DEFAULT_MIGRATIONS_DIR } from "@/server/db/migrate.ts";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";
import { archiveResult, openTaskVideo, taskVideoRoute } from "@/server/storage/archive.ts";
import { buildServices } from "@/server/services.ts";
import type { ObjectStorage } from "@/server/storage/storage.ts";
import { continuationUpload } from "@/server/tasks/continuation.ts";
import { deleteTaskFiles } from "@/server/tasks/files.ts";
import { reconcileTask } from "@/server/tasks/reconcile.ts";
import { cancelTask, createTask, submitTask, type TaskDeps } from "@/server/tasks/tasks.ts";
import { uploadedFileRoute } from "@/server/uploads/routes.ts";
import { saveUpload, uploadDeletedAt, uploadLinkOf } from "@/server/uploads/uploads.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { startTestPortal, TEST_SECRET, waitFor, type TestPortal } from "../helpers/services.ts";

const input = (prompt: string, extra: Record<string, unknown> = {}) => createGenerationInputSchema().parse({ prompt, image_start: "https://example.com/first.png", ...extra });
const fixture = (name: string) => new Uint8Array(readFileSync(path.resolve(import.meta.dirname, "../fixtures/media", name)));
const policy = { pollIntervalSeconds: 0.01, pollMaxIntervalSeconds: 0.05, taskDeadlineMinutes: 60, submitUnknownGraceMinutes: 5 };

let portal: TestPortal;
let alice: SessionUser;
let bob: SessionUser;
let admin: SessionUser;
beforeAll(async () => {
  portal = await startTestPortal();
  alice = await createUser(portal.services.db, { email: "alice@task-page.test", password: "alice-password" });
  bob = await createUser(portal.services.db, { email: "bob@task-page.test", password: "bob-password" });
  admin = await createUser(portal.services.db, { email: "admin@task-page.test", password: "admin-password", role: "admin" });
});
afterAll(() => portal?.close());

const db = () => portal.services.db;
const as = (user: SessionUser) => createCaller({ services: portal.services, user });
const row = (id: string) => db().task.findUniqueOrThrow({ where: { id } });
const kinds = async (taskId: string) => (await db().taskEvent.findMany({ where: { taskId }, orderBy: { id: "asc" } })).map((e) => e.kind);
/** The create calls the simulator received for a task (the portal sends its id as the idempotency key). */
const createsFor = (taskId: string) => portal.simulator.requests.filter((r) => r.path === "/v1/videos/generations" && r.idempotencyKey === taskId).length;
const ledger = async (userId: string) => {
  const rows = await db().budgetLedger.findMany({ where: { key: userKey(userId) } });
  return { reserved: rows.reduce((s, r) => s + Number(r.reserved), 0), spent: rows.reduce((s, r) => s + Number(r.spent), 0) };
};

/** A task the provider refused as busy (429 with a Retry-After past the client's deadline): stored, its paid call not made. */
async function unsentTask(user: SessionUser, prompt: string) {
  portal.simulator.faults.http({ endpoint: "create", status: 429, retryAfterSeconds: 600 });
  const task = await createTask(portal.services.taskDeps, user, input(prompt));
  expect(task).toMatchObject({ status: "submitting", submitAttemptedAt: null, providerTaskId: null });
  return task;
}

describe("a busy provider leaves the task unsent, waiting", () => {
  it("keeps it submitting with the next attempt when the provider asked, and the reconciler sends it then", async () => {
    const before = Date.now();
    const task = await unsentTask(alice, "busy then sent");
    expect(task.nextPollAt!.getTime()).toBeGreaterThanOrEqual(before + 600_000);
    expect(await kinds(task.id)).toEqual(["stored", "sent", "deferred"]);
    const page = await as(alice).tasks.get({ id: task.id });
    expect(page.waiting).toMatchObject({ stage: "busy", nextAttemptAt: task.nextPollAt });
    expect(page.canCancel).toBe(true);
    // Not due before the time the provider named; sent once it is.
    const deps = { taskDeps: portal.services.taskDeps, policy, now: () => new Date() };
    expect(await reconcileTask(deps, task.id)).toBe("not_due");
    expect(await reconcileTask({ ...deps, now: () => new Date(Date.now() + 601_000) }, task.id)).toBe("submitted");
    expect((await row(task.id)).providerTaskId).toMatch(/^task-unified-/);
    expect(createsFor(task.id)).toBe(2); // the refused attempt and the one that was accepted
  });

  it("ends it not_sent, unbilled, when the deadline passes before it could be sent", async () => {
    const task = await unsentTask(alice, "busy until the deadline");
    const later = new Date(Date.now() + 61 * 60_000);
    expect(await reconcileTask({ taskDeps: portal.services.taskDeps, policy, now: () => later }, task.id)).toBe("ended");
    expect(await row(task.id)).toMatchObject({ status: "failed", errorCode: "not_sent", billedSeconds: 0 });
  });
});

describe("cancel", () => {
  it("ends a task whose paid call was not attempted: nothing sent, budget released once, billing record of 0 s, a cancelled event", async () => {
    const user = await createUser(db(), { email: "cancel@task-page.test", password: "password-1" });
    const task = await unsentTask(user, "cancel me");
    expect((await ledger(user.id)).reserved).toBeCloseTo(0.43, 6);
    const sentBefore = createsFor(task.id);

    const view = await as(user).tasks.cancel({ id: task.id });
    expect(view).toMatchObject({ status: "failed", errorCode: "cancelled", billedSeconds: 0, cost: 0 });
    expect(await ledger(user.id)).toEqual({ reserved: 0, spent: 0 });
    expect(await db().billingRecord.findMany({ where: { taskId: task.id } })).toMatchObject([{ billedSeconds: 0 }]);
    expect(await kinds(task.id)).toEqual(["stored", "sent", "deferred", "cancelled"]);

    // A submit holding the old row (the reconciler, a second tab) finds it ended and never calls.
    const after = await submitTask(portal.services.taskDeps, task);
    expect(after.status).toBe("failed");
    expect(createsFor(task.id)).toBe(sentBefore);
    // Cancelling twice is refused, and releases nothing more.
    await expect(as(user).tasks.cancel({ id: task.id })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/already ended/) });
    expect(await ledger(user.id)).toEqual({ reserved: 0, spent: 0 });
    const page = await as(user).tasks.get({ id: task.id });
    expect(page.explanation).toMatchObject({ code: "cancelled", from: "portal" });
    expect(page.canCancel).toBe(false);
  });

  it("a cancel racing a submit: exactly one wins; a cancelled task is never paid for, a sent one is not cancelled", async () => {
    const user = await createUser(db(), { email: "race@task-page.test", password: "password-1" });
    const outcomes = { cancelled: 0, sent: 0 };
    for (let i = 0; i < 12; i++) {
      const task = await unsentTask(user, `race ${i}`);
      const sentBefore = createsFor(task.id);
      // Staggered starts (the cancel reads the task before its update), so either may get to the row first.
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const [cancel, submit] = await Promise.allSettled([
        cancelTask(db(), user, task.id),
        pause(i % 6).then(() => submitTask(portal.services.taskDeps, task)),
      ]);
      expect(submit.status).toBe("fulfilled");
      const now = await row(task.id);
      if (cancel.status === "fulfilled") {
        outcomes.cancelled += 1;
        expect(now).toMatchObject({ status: "failed", errorCode: "cancelled", submitAttemptedAt: null, providerTaskId: null });
        expect(createsFor(task.id)).toBe(sentBefore);
        expect((await kinds(task.id)).slice(-1)).toEqual(["cancelled"]);
      } else {
        outcomes.sent += 1;
        expect(cancel.reason).toMatchObject({ code: "CONFLICT" });
        expect(now.submitAttemptedAt).not.toBeNull();
        expect(now.errorCode).not.toBe("cancelled");
        expect(createsFor(task.id)).toBe(sentBefore + 1);
      }
      expect(await db().billingRecord.count({ where: { taskId: task.id } })).toBeLessThanOrEqual(1);
    }
    expect(outcomes.cancelled + outcomes.sent).toBe(12);
    // Every hold ends once: the sent ones settle when they complete, the cancelled ones are released.
    await waitFor(() => db().task.count({ where: { userId: user.id, completedAt: null } }), (n) => n === 0, 15_000);
    const { reserved } = await ledger(user.id);
    expect(reserved).toBe(0);
    expect(await db().billingRecord.count({ where: { userId: user.id } })).toBe(12);
  });

  it("is refused after the paid call was attempted, to another member, and to an admin", async () => {
    portal.simulator.faults.http({ endpoint: "create", status: 502 }); // outcome unknown: attempted, no answer
    const unknown = await createTask(portal.services.taskDeps, alice, input("sent, no answer"));
    expect(unknown).toMatchObject({ status: "submitting", providerTaskId: null });
    expect(unknown.submitAttemptedAt).not.toBeNull();
    await expect(as(alice).tasks.cancel({ id: unknown.id })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/already sent/) });
    const page = await as(alice).tasks.get({ id: unknown.id });
    expect(page.canCancel).toBe(false);
    expect(page.waiting).toMatchObject({ stage: "unconfirmed", sentAt: unknown.submitAttemptedAt });
    expect(await kinds(unknown.id)).toEqual(["stored", "sent", "no_answer"]);

    const waiting = await unsentTask(alice, "not yours to cancel");
    await expect(as(bob).tasks.cancel({ id: waiting.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(as(admin).tasks.cancel({ id: waiting.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await row(waiting.id)).toMatchObject({ status: "submitting" });
    await as(alice).tasks.cancel({ id: waiting.id });
  });
});

describe("delete a finished task's files", () => {
  const uploadDeps = () => ({ storage: portal.services.storage, serverSecret: TEST_SECRET, publicBaseUrl: portal.services.config.publicBaseUrl });
  const archiveDeps = () => ({ db: db(), storage: portal.services.storage, maxAttempts: 3 });

  /** An archived task made from a fresh upload (or the given link). */
  async function archivedTask(user: SessionUser, prompt: string, uploadUrl?: string) {
    const url = uploadUrl ?? (await saveUpload(uploadDeps(), user, { field: "image_start", filename: "frame.png", bytes: fixture("image-240x240.png") })).url;
    const created = await as(user).tasks.create({ prompt, image_start: url });
    await waitFor(() => row(created.id), (t) => t.status === "completed");
    expect(await archiveResult(archiveDeps(), created.id)).toBe("archived");
    return { id: created.id, uploadUrl: url, upload: uploadLinkOf(TEST_SECRET, url)! };
  }

  it("empties storage, keeps the row and its billing record marked deleted, and every way to the files says so", async () => {
    const { id, uploadUrl, upload } = await archivedTask(alice, "delete my files");
    const before = await row(id);
    const { storage } = portal.services;
    expect(await storage.size(before.archiveKey!)).toBeGreaterThan(0);
    expect(await storage.size(upload.key)).toBeGreaterThan(0);
    const beforePage = await as(alice).tasks.get({ id });
    expect(beforePage.download).toEqual({ url: `/api/media/${id}?download=1`, fileName: expect.stringMatching(/^wan-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.mp4$/) });
    expect(beforePage.inputs).toMatchObject([{ field: "image_start", kind: "image", uploaded: true, previewUrl: upload.localPath, deletedAt: null }]);

    // Nobody but the owner.
    await expect(as(bob).tasks.deleteFiles({ id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(as(admin).tasks.deleteFiles({ id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await storage.size(before.archiveKey!)).not.toBeNull();

    const result = await as(alice).tasks.deleteFiles({ id });
    expect(result).toMatchObject({ video: true, uploadsDeleted: 1, uploadsKept: 0 });
    expect(await storage.size(before.archiveKey!)).toBeNull();
    expect(await storage.size(upload.key)).toBeNull();

    const after = await row(id);
    expect(after.filesDeletedAt).toEqual(result.deletedAt);
    expect(after).toMatchObject({ status: "completed", billedSeconds: 5, archiveStatus: "archived" });
    expect(await db().billingRecord.findMany({ where: { taskId: id } })).toMatchObject([{ billedSeconds: 5 }]);
    expect((await kinds(id)).slice(-1)).toEqual(["files_deleted"]);

    // The page, the video route and the upload link say the files were deleted (not a 500, not "missing").
    const page = await as(alice).tasks.get({ id });
    expect(page).toMatchObject({ download: null, videoUrl: null, canDeleteFiles: false, filesDeletedAt: result.deletedAt });
    expect(page.continuationBlocked).toMatch(/deleted/);
    expect(page.inputs[0]).toMatchObject({ previewUrl: null, deletedAt: result.deletedAt });
    await expect(openTaskVideo(portal.services, alice, id)).rejects.toMatchObject({ code: "GONE" });
    const video = await taskVideoRoute(() => ({ db: db(), storage, currentUser: async () => alice }))(new Request(`http://portal.test/api/media/${id}`), id);
    expect(video.status).toBe(410);
    expect(((await video.json()) as { error: { message: string } }).error.message).toMatch(/deleted from the portal's storage/);
    const otherVideo = await taskVideoRoute(() => ({ db: db(), storage, currentUser: async () => bob }))(new Request(`http://portal.test/api/media/${id}`), id);
    expect(otherVideo.status).toBe(404);
    const link = await uploadedFileRoute(() => ({ storage, serverSecret: TEST_SECRET }))(new Request(uploadUrl), upload.name);
    expect(link.status).toBe(410);
    expect(((await link.json()) as { error: { message: string } }).error.message).toMatch(/deleted from the portal's storage/);
    const forged = await uploadedFileRoute(() => ({ storage, serverSecret: TEST_SECRET }))(new Request(uploadUrl.replace(/token=[^&]+/, "token=forged")), upload.name);
    expect(forged.status).toBe(404);

    // Again: nothing more to do, and no error (a repeat finishes what a failed one left).
    await expect(as(alice).tasks.deleteFiles({ id })).resolves.toMatchObject({ video: false, uploadsDeleted: 1, deletedAt: result.deletedAt });
  });

  it("keeps an upload another of the owner's tasks still uses", async () => {
    const first = await archivedTask(alice, "shared upload, first");
    const second = await archivedTask(alice, "shared upload, run again", first.uploadUrl);
    expect(await as(alice).tasks.deleteFiles({ id: first.id })).toMatchObject({ video: true, uploadsDeleted: 0, uploadsKept: 1 });
    expect(await portal.services.storage.size(first.upload.key)).not.toBeNull();
    expect((await as(alice).tasks.get({ id: first.id })).inputs[0]).toMatchObject({ deletedAt: null, previewUrl: first.upload.localPath });
    expect(await as(alice).tasks.deleteFiles({ id: second.id })).toMatchObject({ uploadsDeleted: 1, uploadsKept: 0 });
    expect(await portal.services.storage.size(first.upload.key)).toBeNull();
  });

  /** The file behind an upload link, as the provider fetches it: status and, for an error, its message. */
  async function fetchUpload(url: string) {
    const link = uploadLinkOf(TEST_SECRET, url)!;
    const answer = await uploadedFileRoute(() => ({ storage: portal.services.storage, serverSecret: TEST_SECRET }))(new Request(url), link.name);
    return { status: answer.status, message: answer.ok ? null : ((await answer.json()) as { error: { message: string } }).error.message };
  }

  it("deletes the copy made to continue the video too, and its link says it was deleted", async () => {
    const { id, upload } = await archivedTask(alice, "continued, then deleted");
    const draft = await as(alice).tasks.draftFrom({ taskId: id, as: "continue" });
    const copyUrl = draft.values.video_urls![0]!;
    const copy = uploadLinkOf(TEST_SECRET, copyUrl)!;
    expect(copy.key).not.toBe(upload.key);
    expect(await portal.services.storage.size(copy.key)).toBeGreaterThan(0);
    expect((await fetchUpload(copyUrl)).status).toBe(200);

    expect(await as(alice).tasks.deleteFiles({ id })).toMatchObject({ video: true, uploadsDeleted: 2, uploadsKept: 0 });
    expect(await portal.services.storage.size(copy.key)).toBeNull();
    expect(await fetchUpload(copyUrl)).toEqual({ status: 410, message: expect.stringMatching(/deleted from the portal's storage/) });
    // Continuing is refused now, with the reason the page gives.
    const refused = await as(alice).tasks.draftFrom({ taskId: id, as: "continue" }).then(() => null, (e: { code: string; message: string }) => e);
    expect(refused).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^This video was deleted from the portal/) });
    expect((await as(alice).tasks.get({ id })).continuationBlocked).toBe(refused?.message);
  });

  it("a deletion that lands while ?continue= reads the video leaves no copy behind", async () => {
    const { id } = await archivedTask(alice, "deleted while being continued");
    const { storage } = portal.services;
    // The deletion runs, whole, just before the copy is written (after the draft checked the task and read the video).
    const racing: ObjectStorage = {
      get: (key, range) => storage.get(key, range),
      size: (key) => storage.size(key),
      delete: (key) => storage.delete(key),
      list: (prefix) => storage.list(prefix),
      async put(key, body, contentType) {
        if (key.startsWith("uploads/")) await deleteTaskFiles({ db: db(), storage, serverSecret: TEST_SECRET }, alice, id);
        return storage.put(key, body, contentType);
      },
    };
    const services = buildServices(portal.services.config, { db: db(), provider: portal.services.provider, storage: racing });
    const refused = await createCaller({ services, user: alice })
      .tasks.draftFrom({ taskId: id, as: "continue" })
      .then(() => null, (e: { code: string; message: string }) => e);
    expect(refused).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^This video was deleted from the portal/) });
    const copy = continuationUpload(id);
    expect(await storage.size(copy.key)).toBeNull();
    expect(await uploadDeletedAt(storage, copy.key)).toEqual((await row(id)).filesDeletedAt);
  });

  it("keeps the copy while a continuation that fetches it runs, and says so; it goes with that task's files", async () => {
    const { id } = await archivedTask(alice, "continued while deleted");
    const draft = await as(alice).tasks.draftFrom({ taskId: id, as: "continue" });
    const copyUrl = draft.values.video_urls![0]!;
    const copy = uploadLinkOf(TEST_SECRET, copyUrl)!;
    // The continuation is stored, not yet sent (the provider is busy): it will fetch the copy when it is.
    portal.simulator.faults.http({ endpoint: "create", status: 429, retryAfterSeconds: 600 });
    const continuation = await as(alice).tasks.create(draft.values);
    expect(continuation).toMatchObject({ status: "submitting", mode: "video_continuation" });

    // The earlier task's files may be deleted; the copy the continuation needs stays, counted as kept.
    expect(await as(alice).tasks.deleteFiles({ id })).toMatchObject({ video: true, uploadsDeleted: 1, uploadsKept: 1 });
    expect(await portal.services.storage.size(copy.key)).toBeGreaterThan(0);
    expect((await fetchUpload(copyUrl)).status).toBe(200);

    // Once that task ended and its own files are deleted, the copy (its input) goes, and its link says so.
    await as(alice).tasks.cancel({ id: continuation.id });
    expect(await as(alice).tasks.deleteFiles({ id: continuation.id })).toMatchObject({ video: false, uploadsDeleted: 1, uploadsKept: 0 });
    expect(await portal.services.storage.size(copy.key)).toBeNull();
    expect(await fetchUpload(copyUrl)).toEqual({ status: 410, message: expect.stringMatching(/deleted from the portal's storage/) });
  });

  it("is refused while the task runs", async () => {
    const task = await unsentTask(alice, "still running");
    await expect(as(alice).tasks.deleteFiles({ id: task.id })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/still running/) });
    await as(alice).tasks.cancel({ id: task.id });
    // A cancelled task has no video; its (external) inputs are not the portal's: nothing to remove, but allowed.
    await expect(as(alice).tasks.deleteFiles({ id: task.id })).resolves.toMatchObject({ video: false, uploadsDeleted: 0 });
  });
});

describe("the event log", () => {
  it("a completed task (callbacks): stored, sent, accepted, progress, callback, completed, copied, in that order", async () => {
    const created = await as(alice).tasks.create({ prompt: "a timeline", image_start: "https://example.com/first.png" });
    await waitFor(() => row(created.id), (t) => t.status === "completed");
    await waitFor(() => kinds(created.id), (k) => k.includes("completed"));
    await archiveResult({ db: db(), storage: portal.services.storage, maxAttempts: 3 }, created.id);
    const events = await db().taskEvent.findMany({ where: { taskId: created.id }, orderBy: { id: "asc" } });
    const order = events.map((e) => e.kind);
    expect(order.slice(0, 3)).toEqual(["stored", "sent", "accepted"]);
    expect(order.indexOf("callback")).toBeGreaterThan(order.indexOf("accepted"));
    expect(order.indexOf("completed")).toBeGreaterThan(order.indexOf("callback"));
    expect(order.at(-1)).toBe("archived");
    expect(order.filter((k) => k === "completed")).toHaveLength(1);
    expect(events.find((e) => e.kind === "completed")).toMatchObject({ status: "completed", progress: 100, source: "callback" });
    // Times never go backwards along the log.
    for (let i = 1; i < events.length; i++) expect(events[i]!.at.getTime()).toBeGreaterThanOrEqual(events[i - 1]!.at.getTime());

    const timeline = await as(alice).tasks.timeline({ id: created.id });
    expect(timeline.events.map((e) => e.kind)).toEqual(order);
    expect(timeline.events[0]).toMatchObject({ title: expect.stringMatching(/^Stored by the portal/) });
    expect(timeline.events.find((e) => e.kind === "accepted")?.detail).toContain(created.providerTaskId!);
    await expect(as(bob).tasks.timeline({ id: created.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await as(admin).tasks.timeline({ id: created.id })).events).toHaveLength(events.length);
  });

  it("a failed task (polled, no callbacks): stored, sent, accepted, checks, failed with the code, in that order", async () => {
    const quiet = await startTestPortal({ callbacks: false });
    try {
      const user = await createUser(quiet.services.db, { email: "poll@task-page.test", password: "password-1" });
      const task = await createTask(quiet.services.taskDeps, user, input("[sim:fail:image_processing_error] polled"));
      const deps = { taskDeps: quiet.services.taskDeps, policy };
      await waitFor(
        async () => {
          await reconcileTask(deps, task.id);
          return quiet.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
        },
        (t) => t.status === "failed",
      );
      const events = await quiet.services.db.taskEvent.findMany({ where: { taskId: task.id }, orderBy: { id: "asc" } });
      const order = events.map((e) => e.kind);
      expect(order.slice(0, 3)).toEqual(["stored", "sent", "accepted"]);
      expect(order).toContain("poll");
      expect(order).not.toContain("callback");
      expect(order.at(-1)).toBe("failed");
      expect(order.filter((k) => k === "failed")).toHaveLength(1);
      // The poll that found the failure comes just before it.
      expect(events.at(-2)).toMatchObject({ kind: "poll", status: "failed" });
      expect(events.at(-1)).toMatchObject({ status: "failed", source: "poll", detail: "image_processing_error" });
      // Progress steps seen on the way are recorded once each, never backwards.
      const progress = events.filter((e) => e.kind === "progress").map((e) => e.progress!);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      const page = await createCaller({ services: quiet.services, user }).tasks.get({ id: task.id });
      expect(page.explanation).toMatchObject({ code: "image_processing_error", from: "provider", worthRetrying: false, title: "The video service could not process an input image" });
    } finally {
      await quiet.close();
    }
  });

  it("a refused create: stored, sent, failed (from the submission)", async () => {
    portal.simulator.faults.http({ endpoint: "create", status: 400 });
    await expect(createTask(portal.services.taskDeps, alice, input("refused at once"))).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const task = await db().task.findFirstOrThrow({ where: { prompt: "refused at once" } });
    expect(await kinds(task.id)).toEqual(["stored", "sent", "failed"]);
  });

  it("older tasks get a timeline rebuilt by the migration", async () => {
    const d = await createTestDatabase();
    try {
      const user = await d.db.user.create({ data: { email: "old@task-page.test" } });
      const t0 = new Date("2026-11-20T10:00:00Z");
      const at = (s: number) => new Date(t0.getTime() + s * 1000);
      const old = await d.db.task.create({
        data: {
          userId: user.id,
          mode: "first_frame",
          prompt: "before the log",
          request: {},
          durationSeconds: 5,
          status: "completed",
          progress: 100,
          providerTaskId: "task-unified-1-old",
          createdAt: at(0),
          submitAttemptedAt: at(1),
          submittedAt: at(2),
          completedAt: at(30),
          archiveStatus: "archived",
          archivedAt: at(40),
        },
      });
      await d.db.callbackEvent.create({ data: { taskId: old.id, receivedAt: at(29), reportedStatus: "completed", confirmedStatus: "completed", outcome: "applied" } });
      const sql = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, "20261126210000_task_events", "migration.sql"), "utf8");
      const backfill = sql.slice(sql.indexOf('INSERT INTO "TaskEvent"'));
      await d.db.$executeRawUnsafe(backfill);
      const events = await d.db.taskEvent.findMany({ where: { taskId: old.id }, orderBy: { id: "asc" } });
      expect(events.map((e) => [e.kind, (e.at.getTime() - t0.getTime()) / 1000])).toEqual([
        ["stored", 0],
        ["sent", 1],
        ["accepted", 2],
        ["callback", 29],
        ["completed", 30],
        ["archived", 40],
      ]);
      expect(events[3]!.detail).toBe("said completed confirmed completed (applied)");
    } finally {
      await d.drop();
    }
  });
});

describe("the activity query (the 'task ended' notice)", () => {
  it("answers one's running tasks and those ended since, nobody else's", async () => {
    const user = await createUser(db(), { email: "activity@task-page.test", password: "password-1" });
    const first = await as(user).tasks.activity();
    expect(first.tasks).toEqual([]);
    const waiting = await unsentTask(user, "waiting in the notice query");
    const created = await as(user).tasks.create({ prompt: "ends soon", image_start: "https://example.com/first.png" });
    const running = await as(user).tasks.activity({ since: first.now });
    expect(running.tasks.map((t) => t.id).sort()).toEqual([waiting.id, created.id].sort());
    await waitFor(() => row(created.id), (t) => t.status === "completed");
    const later = await as(user).tasks.activity({ since: running.now });
    expect(later.tasks.find((t) => t.id === created.id)).toMatchObject({ status: "completed", completedAt: expect.any(Date) });
    // Ended before `since`: not again.
    expect((await as(user).tasks.activity({ since: later.now })).tasks.map((t) => t.id)).toEqual([waiting.id]);
    expect((await as(bob).tasks.activity({ since: first.now })).tasks.map((t) => t.id)).not.toContain(created.id);
    await as(user).tasks.cancel({ id: waiting.id });
  });
});

describe("the page's view of a task", () => {
  it("shows the parameters as sent, external media as links, and which actions apply", async () => {
    const created = await as(alice).tasks.create({
      prompt: "every parameter",
      negative_prompt: "blur",
      image_start: "https://example.com/first.png",
      seed: 1234,
      prompt_extend: true,
      quality: "1080p",
      duration: 12,
    });
    const done = await waitFor(() => as(alice).tasks.get({ id: created.id }), (t) => t.status === "completed");
    expect(done.parameters).toEqual({ mode: "first_frame", prompt: "every parameter", negativePrompt: "blur", seed: 1234, promptExtend: true, quality: "1080p", duration: 12, audio: false });
    expect(done.inputs).toEqual([{ field: "image_start", kind: "image", url: "https://example.com/first.png", previewUrl: null, uploaded: false, deletedAt: null }]);
    expect(done.continuationBlocked).toMatch(/12 s long; a clip to continue may be at most 10 s/);
    expect(done).toMatchObject({ isOwner: true, canCancel: false, waiting: null });
    expect(JSON.stringify(done)).not.toContain("callback_url");
    expect(JSON.stringify(done)).not.toContain(TEST_SECRET);
    const seenByAdmin = await as(admin).tasks.get({ id: created.id });
    expect(seenByAdmin).toMatchObject({ isOwner: false, canDeleteFiles: false, canCancel: false });
    await expect(as(bob).tasks.get({ id: created.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
