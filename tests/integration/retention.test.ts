/**
 * Retention (server/retention/retention.ts) against a real PostgreSQL and
 * local storage: each rule, the "a running task still uses it" exception,
 * bounded batches, two runs at once, and result retention off by default.
 * Time is the `now` each run is given: rows and files are made "now" and the
 * runs look at them from days later.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "@/server/config.ts";
import { startWorker } from "@/server/jobs/worker.ts";
import type { Db } from "@/server/db/client.ts";
import { runRetention, type RetentionDeps, type RetentionPolicy } from "@/server/retention/retention.ts";
import { createLocalStorage, type ObjectStorage } from "@/server/storage/storage.ts";
import { getTaskDetail } from "@/server/tasks/detail.ts";
import { describeTaskEvent } from "@/server/tasks/events.ts";
import { uploadToken } from "@/server/uploads/token.ts";
import { openUpload, uploadDeletion } from "@/server/uploads/uploads.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { startTestPortal } from "../helpers/services.ts";

const SECRET = "retention-test-secret-0123456789abcdef";
const DAY = 86_400_000;
const OFF: RetentionPolicy = { uploadDays: 0, signInLogDays: 0, rejectedCallbackDays: 0, resultDays: 0 };

let tdb: TestDatabase;
let db: Db;
let dir: string;
let storage: ObjectStorage;
let alice: SessionUser;
const start = Date.now();
const at = (days: number) => new Date(start + days * DAY);

beforeAll(async () => {
  tdb = await createTestDatabase();
  db = tdb.db;
  alice = await createUser(db, { email: "alice@retention.test", password: "alice-password" });
});
afterAll(async () => {
  await tdb?.drop();
});
beforeEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = await mkdtemp(path.join(tmpdir(), "retention-"));
  storage = createLocalStorage(dir);
  await db.$executeRaw`TRUNCATE "Task", "SignInEvent", "SignInRefusalCount", "CallbackEvent", "RejectedCallbackCount" CASCADE`;
});

const deps = (now: Date, policy: Partial<RetentionPolicy>, extra: Partial<RetentionDeps> = {}): RetentionDeps => ({
  db,
  storage,
  serverSecret: SECRET,
  now,
  policy: { ...OFF, ...policy },
  ...extra,
});

/** An upload as saveUpload stores it (written now), and its link. */
async function upload(ext = "png") {
  const name = `${randomUUID()}.${ext}`;
  const key = `uploads/${name}`;
  await storage.put(key, new Uint8Array([1, 2, 3]), "image/png");
  return { name, key, url: `https://portal.example/api/uploads/${name}?token=${uploadToken(SECRET, key)}` };
}

async function task(data: { imageUrl: string; status?: "submitting" | "processing" | "completed" | "failed"; completedAt?: Date; archived?: boolean }) {
  const id = `task-${randomUUID()}`;
  const archiveKey = data.archived ? `results/${id}.mp4` : null;
  if (archiveKey) await storage.put(archiveKey, new Uint8Array([9, 9, 9]), "video/mp4");
  await db.task.create({
    data: {
      id,
      userId: alice.id,
      mode: "first_frame",
      prompt: "retention",
      request: { model: "wan2.7-image-to-video", prompt: "retention", image_start: data.imageUrl },
      durationSeconds: 5,
      status: data.status ?? "completed",
      completedAt: data.completedAt ?? (data.status === "completed" || data.status === "failed" || !data.status ? new Date() : null),
      archiveStatus: archiveKey ? "archived" : "none",
      archiveKey,
    },
  });
  if (archiveKey) {
    await db.billingRecord.create({
      data: { taskId: id, userId: alice.id, billedSeconds: 5, quality: "720p", pricePerSecond: 0.086, currency: "USD", cost: 0.43 },
    });
  }
  return id;
}

const exists = async (key: string) => (await storage.size(key)) !== null;

describe("settings", () => {
  it("keeps results until deleted by default, and refuses days that are not whole numbers from 0", () => {
    expect(loadConfig({}).retention).toEqual({ uploadDays: 30, signInLogDays: 90, rejectedCallbackDays: 30, resultDays: 0, schedule: "17 * * * *" });
    expect(loadConfig({ RESULT_RETENTION_DAYS: "", UPLOAD_RETENTION_DAYS: "0" }).retention).toMatchObject({ resultDays: 0, uploadDays: 0 });
    expect(loadConfig({ RESULT_RETENTION_DAYS: "365" }).retention.resultDays).toBe(365);
    expect(() => loadConfig({ UPLOAD_RETENTION_DAYS: "-1" })).toThrow(/UPLOAD_RETENTION_DAYS/);
    expect(() => loadConfig({ SIGNIN_LOG_RETENTION_DAYS: "1.5" })).toThrow(/SIGNIN_LOG_RETENTION_DAYS/);
    expect(() => loadConfig({ RETENTION_SCHEDULE: "hourly" })).toThrow(/RETENTION_SCHEDULE/);
  });
});

describe("uploads", () => {
  it("deletes an upload unused for the days, leaving the note: its link answers 410 and says why; a newer one stays", async () => {
    const old = await upload();
    const report = await runRetention(deps(at(31), { uploadDays: 30 }));
    expect(report).toMatchObject({ uploadsDeleted: 1, uploadsInUse: 0 });
    expect(await exists(old.key)).toBe(false);
    expect(await uploadDeletion(storage, old.key)).toEqual({ at: at(31), reason: "retention" });
    const token = new URL(old.url).searchParams.get("token");
    await expect(openUpload({ storage, serverSecret: SECRET }, old.name, token)).rejects.toMatchObject({
      code: "GONE",
      message: expect.stringMatching(/after the number of days the portal keeps files/),
    });

    const fresh = await upload();
    expect(await runRetention(deps(at(29), { uploadDays: 30 }))).toMatchObject({ uploadsDeleted: 0 });
    expect(await exists(fresh.key)).toBe(true);
    // 0 keeps uploads forever.
    expect(await runRetention(deps(at(3650), { uploadDays: 0 }))).toMatchObject({ uploadsDeleted: 0 });
    expect(await exists(fresh.key)).toBe(true);
  });

  it("keeps an old upload while a task that has not ended uses it, counts the days from that task's end, then the task page notes the deletion", async () => {
    const u = await upload();
    const id = await task({ imageUrl: u.url, status: "processing" });
    expect(await runRetention(deps(at(100), { uploadDays: 30 }))).toMatchObject({ uploadsDeleted: 0, uploadsInUse: 1 });
    expect(await exists(u.key)).toBe(true);

    await db.task.update({ where: { id }, data: { status: "completed", completedAt: at(90) } });
    // Ended 10 days before this run: its last use is recent.
    expect(await runRetention(deps(at(100), { uploadDays: 30 }))).toMatchObject({ uploadsDeleted: 0, uploadsInUse: 0 });
    expect(await exists(u.key)).toBe(true);
    // An ended task does not hold it: 30 days after that end it goes.
    expect(await runRetention(deps(at(121), { uploadDays: 30 }))).toMatchObject({ uploadsDeleted: 1 });
    expect(await exists(u.key)).toBe(false);

    const page = await getTaskDetail(
      { db, storage, serverSecret: SECRET, policy: { taskDeadlineMinutes: 120, submitUnknownGraceMinutes: 10, pollIntervalSeconds: 15 }, uploadAvailability: { enabled: true } },
      alice,
      id,
    );
    expect(page.filesDeletedAt).toBeNull();
    expect(page.inputs[0]).toMatchObject({ uploaded: true, deletedAt: at(121), previewUrl: null });
  });

  it("an upload a running task uses among others of a batch stays, the rest go", async () => {
    const used = await upload();
    const others = [await upload(), await upload("mp4"), await upload("webp")];
    await task({ imageUrl: used.url, status: "submitting" });
    const report = await runRetention(deps(at(40), { uploadDays: 30 }, { batchSize: 2 }));
    expect(report).toMatchObject({ uploadsDeleted: 3, uploadsInUse: 1 });
    expect(await exists(used.key)).toBe(true);
    for (const o of others) expect(await exists(o.key)).toBe(false);
  });
});

describe("logs", () => {
  async function seedLogs(oldCount: number, newCount: number) {
    const old = at(-100);
    await db.signInEvent.createMany({
      data: [
        ...Array.from({ length: oldCount }, () => ({ at: old, email: "x@retention.test", outcome: "wrong_credentials" })),
        ...Array.from({ length: newCount }, () => ({ at: new Date(), email: "x@retention.test", outcome: "succeeded" })),
      ],
    });
    await db.signInRefusalCount.createMany({ data: [{ hour: new Date(Math.floor(old.getTime() / 3_600_000) * 3_600_000), count: 7 }, { hour: new Date(Math.floor(start / 3_600_000) * 3_600_000), count: 1 }] });
    const withTask = await task({ imageUrl: "https://example.com/a.png" });
    await db.callbackEvent.createMany({
      data: [
        ...Array.from({ length: oldCount }, () => ({ taskId: null, receivedAt: old, outcome: "rejected", detail: "callback with an invalid token" })),
        ...Array.from({ length: newCount }, () => ({ taskId: null, receivedAt: new Date(), outcome: "rejected" })),
        { taskId: withTask, receivedAt: old, outcome: "applied" },
      ],
    });
    await db.rejectedCallbackCount.createMany({ data: [{ hour: new Date(Math.floor(old.getTime() / 3_600_000) * 3_600_000), count: 60 }] });
  }

  it("prunes sign-in rows and refused callbacks older than their days in bounded batches; newer rows and a task's callbacks stay", async () => {
    await seedLogs(25, 3);
    // Every DELETE the run makes, and how many rows it removed.
    const deletes: number[] = [];
    const counting = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === "$executeRaw") {
          return async (...args: Parameters<Db["$executeRaw"]>) => {
            const n = await target.$executeRaw(...args);
            deletes.push(n);
            return n;
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const report = await runRetention(deps(new Date(), { signInLogDays: 90, rejectedCallbackDays: 30 }, { db: counting, batchSize: 10 }));
    expect(report).toMatchObject({ signInEventsDeleted: 25, signInCountsDeleted: 1, rejectedCallbacksDeleted: 25, rejectedCountsDeleted: 1 });
    expect(Math.max(...deletes)).toBe(10);
    expect(deletes.filter((n) => n === 10)).toHaveLength(4); // 25 = 10 + 10 + 5, twice
    expect(await db.signInEvent.count()).toBe(3);
    expect(await db.signInRefusalCount.count()).toBe(1);
    expect(await db.callbackEvent.count({ where: { taskId: null } })).toBe(3);
    expect(await db.callbackEvent.count({ where: { taskId: { not: null } } })).toBe(1);
    expect(await db.rejectedCallbackCount.count()).toBe(0);
  });

  it("keeps the logs when their days are 0, and a shorter setting prunes only what is older", async () => {
    await seedLogs(5, 2);
    expect(await runRetention(deps(new Date(), {}))).toMatchObject({ signInEventsDeleted: 0, rejectedCallbacksDeleted: 0 });
    expect(await db.signInEvent.count()).toBe(7);
    expect(await runRetention(deps(new Date(), { signInLogDays: 101, rejectedCallbackDays: 101 }))).toMatchObject({ signInEventsDeleted: 0, rejectedCallbacksDeleted: 0 });
    expect(await runRetention(deps(new Date(), { signInLogDays: 99, rejectedCallbackDays: 99 }))).toMatchObject({ signInEventsDeleted: 5, rejectedCallbacksDeleted: 5 });
  });
});

describe("Idempotency-Key records (/v1)", () => {
  it("go once older than their 24 hours, in bounded batches, whatever the settings; younger ones stay", async () => {
    const key = await db.apiKey.create({ data: { userId: alice.id, name: "retention", prefix: "wvp_Retent10", secretHash: `hash-${randomUUID()}` } });
    const now = new Date();
    const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
    await db.apiIdempotencyKey.createMany({
      data: [
        ...Array.from({ length: 25 }, (_, i) => ({ apiKeyId: key.id, key: `old-${i}`, requestHash: "h", clientRequestId: randomUUID(), createdAt: hoursAgo(24 + 1 + i) })),
        ...Array.from({ length: 3 }, (_, i) => ({ apiKeyId: key.id, key: `young-${i}`, requestHash: "h", clientRequestId: randomUUID(), createdAt: hoursAgo(23 - i) })),
      ],
    });
    // Every setting off: this rule has no days to set.
    const report = await runRetention(deps(now, {}, { batchSize: 10 }));
    expect(report.idempotencyKeysDeleted).toBe(25);
    expect((await db.apiIdempotencyKey.findMany({ select: { key: true }, orderBy: { key: "asc" } })).map((r) => r.key)).toEqual(["young-0", "young-1", "young-2"]);
    // An hour and a half later, the oldest young one (23 h) is past its day.
    expect((await runRetention(deps(new Date(now.getTime() + 90 * 60_000), {}))).idempotencyKeysDeleted).toBe(1);
    expect(await db.apiIdempotencyKey.count()).toBe(2);
    await db.apiKey.delete({ where: { id: key.id } });
  });
});

describe("result videos", () => {
  it("are kept until deleted by default; with RESULT_RETENTION_DAYS they go as the owner's delete does: row and billing kept, the timeline says why", async () => {
    const u = await upload();
    const id = await task({ imageUrl: u.url, archived: true, completedAt: at(0) });
    const { archiveKey } = await db.task.findUniqueOrThrow({ where: { id } });

    const defaults = loadConfig({}).retention;
    expect(await runRetention(deps(at(3650), { ...defaults, uploadDays: 0 }))).toMatchObject({ resultsDeleted: 0 });
    expect(await exists(archiveKey!)).toBe(true);
    expect((await db.task.findUniqueOrThrow({ where: { id } })).filesDeletedAt).toBeNull();

    expect(await runRetention(deps(at(29), { resultDays: 30 }))).toMatchObject({ resultsDeleted: 0 });
    expect(await exists(archiveKey!)).toBe(true);

    const report = await runRetention(deps(at(31), { resultDays: 30 }));
    expect(report).toMatchObject({ resultsDeleted: 1, resultVideosDeleted: 1, resultUploadsDeleted: 1 });
    expect(await exists(archiveKey!)).toBe(false);
    expect(await exists(u.key)).toBe(false);
    expect(await uploadDeletion(storage, u.key)).toEqual({ at: at(31), reason: "retention" });
    const row = await db.task.findUniqueOrThrow({ where: { id }, include: { billing: true } });
    expect(row.filesDeletedAt).toEqual(at(31));
    expect(row.status).toBe("completed");
    expect(row.billing?.cost.toString()).toBe("0.43");
    const events = await db.taskEvent.findMany({ where: { taskId: id, kind: "files_deleted" } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: "retention" });
    expect(describeTaskEvent(events[0]!).detail).toMatch(/by the portal's retention setting · Results are kept 30 days after their task ends/);

    // Nothing left to do: a second run changes nothing.
    expect(await runRetention(deps(at(32), { resultDays: 30 }))).toMatchObject({ resultsDeleted: 0, resultVideosDeleted: 0 });
  });

  it("leave an upload another running task uses", async () => {
    const u = await upload();
    await task({ imageUrl: u.url, archived: true, completedAt: at(0) });
    await task({ imageUrl: u.url, status: "processing" });
    expect(await runRetention(deps(at(31), { resultDays: 30 }))).toMatchObject({ resultsDeleted: 1, resultUploadsDeleted: 0 });
    expect(await exists(u.key)).toBe(true);
  });
});

describe("half-written files", () => {
  it("a copy cut by a killed process (its .part file) goes once a day old, whatever the settings; a recent one stays", async () => {
    const { mkdir, utimes, writeFile, readdir } = await import("node:fs/promises");
    const path = await import("node:path");
    await mkdir(path.join(dir, "results"), { recursive: true });
    const old = path.join(dir, "results", `task-${randomUUID()}.mp4.123.456.part`);
    const fresh = path.join(dir, "results", `task-${randomUUID()}.mp4.123.789.part`);
    await writeFile(old, "half");
    await writeFile(fresh, "half");
    const twoDaysAgo = new Date(Date.now() - 2 * DAY);
    await utimes(old, twoDaysAgo, twoDaysAgo);

    const report = await runRetention(deps(new Date(), OFF));
    expect(report.partialWritesDeleted).toBe(1);
    const left = await readdir(path.join(dir, "results"));
    expect(left).toContain(path.basename(fresh));
    expect(left).not.toContain(path.basename(old));
    expect((await runRetention(deps(new Date(), OFF))).partialWritesDeleted).toBe(0);
  });
});

describe("two runs at once", () => {
  it("delete each thing once", async () => {
    const uploads = await Promise.all(Array.from({ length: 6 }, () => upload()));
    const tasks = [];
    for (let i = 0; i < 4; i += 1) tasks.push(await task({ imageUrl: "https://example.com/a.png", archived: true, completedAt: at(0) }));
    await db.signInEvent.createMany({ data: Array.from({ length: 40 }, () => ({ at: at(-200), email: "x@retention.test", outcome: "throttled" })) });
    await db.callbackEvent.createMany({ data: Array.from({ length: 40 }, () => ({ taskId: null, receivedAt: at(-200), outcome: "rejected" })) });

    const policy = { uploadDays: 30, signInLogDays: 90, rejectedCallbackDays: 30, resultDays: 30 };
    const runs = await Promise.all([runRetention(deps(at(40), policy, { batchSize: 3 })), runRetention(deps(at(40), policy, { batchSize: 3 }))]);
    const sum = (k: keyof (typeof runs)[0]) => runs[0]![k] + runs[1]![k];
    expect(sum("uploadsDeleted")).toBe(6);
    expect(sum("resultsDeleted")).toBe(4);
    expect(sum("resultVideosDeleted")).toBe(4);
    expect(sum("signInEventsDeleted")).toBe(40);
    expect(sum("rejectedCallbacksDeleted")).toBe(40);
    for (const u of uploads) expect(await exists(u.key)).toBe(false);
    expect(await db.taskEvent.count({ where: { taskId: { in: tasks }, kind: "files_deleted" } })).toBe(4);
    expect(await db.signInEvent.count()).toBe(0);
    // And a third run finds nothing.
    expect(await runRetention(deps(at(41), policy))).toMatchObject({ uploadsDeleted: 0, resultsDeleted: 0, signInEventsDeleted: 0, rejectedCallbacksDeleted: 0 });
  });
});

describe("the worker", () => {
  it("schedules retention once for any number of workers, on a one-at-a-time queue, and logs what a run deleted", async () => {
    const portal = await startTestPortal({ env: { RETENTION_SCHEDULE: "*/5 * * * *", SIGNIN_LOG_RETENTION_DAYS: "10" } });
    const lines: string[] = [];
    const workers = [await startWorker(portal.services, { log: (l) => lines.push(l) }), await startWorker(portal.services, { log: () => {} })];
    try {
      const pdb = portal.services.db;
      expect(await pdb.$queryRaw`SELECT "name", "cron", "timezone" FROM pgboss.schedule`).toEqual([{ name: "retention", cron: "*/5 * * * *", timezone: "UTC" }]);
      expect(await pdb.$queryRaw`SELECT "policy" FROM pgboss.queue WHERE "name" = 'retention'`).toEqual([{ policy: "singleton" }]);
      await pdb.signInEvent.createMany({ data: [{ at: at(-11), email: "w@retention.test", outcome: "succeeded" }, { at: new Date(), email: "w@retention.test", outcome: "succeeded" }] });
      const report = await workers[0]!.retention();
      expect(report.signInEventsDeleted).toBe(1);
      expect(await pdb.signInEvent.count()).toBe(1);
      expect(lines.find((l) => l.startsWith("[worker] retention:"))).toMatch(/sign-in log 1 rows/);
    } finally {
      for (const w of workers) await w.stop();
      await portal.close();
    }
  });
});
