/**
 * Retention: what the portal deletes on its own, and when, set by
 * configuration (server/config.ts, docs/deploy.md "Retention") and run by the
 * worker's hourly job (server/jobs/worker.ts).
 *
 * - Uploads expire `uploadDays` after their last use: when they were stored,
 *   or when the last task that used them ended, whichever is later. Never
 *   while a task that has not ended uses them. Each leaves the "deleted" note
 *   (reason: retention), so its link answers 410 and the task page says so.
 * - Sign-in log rows and refused callbacks (rows without a task), and their
 *   hourly counts, older than their days are deleted in bounded batches.
 * - Result videos are kept until their owner deletes them, unless
 *   `resultDays` is set: then a task that ended that long ago loses its files
 *   through the owner's "Delete files" path (server/tasks/files.ts): row,
 *   billing and timeline kept, a `files_deleted` event from "retention".
 * - Idempotency-Key records of the /v1 API (ApiIdempotencyKey) go once they
 *   are older than the 24 hours they are honoured for (always on: an expired
 *   record is never used again, server/v1/v1.ts replaces it).
 *
 * Every step is safe to repeat and to run from two workers at once: rows are
 * deleted in batches claimed with SKIP LOCKED, a task's files by the one run
 * whose conditional update marks it, an upload by the run that holds its
 * advisory lock and still finds it. 0 days keeps that kind of data forever.
 */
import { Prisma, type Db } from "../db/client.ts";
import { TERMINAL_STATUSES } from "../generation/status.ts";
import type { ObjectStorage } from "../storage/storage.ts";
import { expireTaskFiles, runningTasksUse } from "../tasks/files.ts";
import { deleteUpload, uploadOfKey } from "../uploads/uploads.ts";
import { IDEMPOTENCY_WINDOW_HOURS } from "../v1/v1.ts";

export interface RetentionPolicy {
  /** Days after an upload's last use; 0 keeps uploads. */
  uploadDays: number;
  /** Days of sign-in log (SignInEvent, SignInRefusalCount); 0 keeps it. */
  signInLogDays: number;
  /** Days of refused callbacks (CallbackEvent without a task, RejectedCallbackCount); 0 keeps them. */
  rejectedCallbackDays: number;
  /** Days after a task ended before its result video is deleted; 0 keeps results until their owner deletes them. */
  resultDays: number;
}

export interface RetentionDeps {
  db: Db;
  storage: ObjectStorage;
  /** Opens the upload links in stored requests (their tokens). */
  serverSecret: string;
  now: Date;
  policy: RetentionPolicy;
  /** Rows per DELETE, uploads per reference query, tasks per query (default 1000). */
  batchSize?: number;
}

export interface RetentionReport {
  uploadsDeleted: number;
  /** Old enough, but a task that has not ended uses them. */
  uploadsInUse: number;
  signInEventsDeleted: number;
  signInCountsDeleted: number;
  rejectedCallbacksDeleted: number;
  rejectedCountsDeleted: number;
  /** Tasks whose files this run deleted, and what went with them. */
  resultsDeleted: number;
  resultVideosDeleted: number;
  resultUploadsDeleted: number;
  /** Half-written copies left by a killed process (local storage), a day old or more. */
  partialWritesDeleted: number;
  /** /v1 Idempotency-Key records past their 24 hours. */
  idempotencyKeysDeleted: number;
}

const DAY_MS = 86_400_000;
const DEFAULT_BATCH = 1000;
/** A run stops after this many batches of one kind; the next run goes on. */
const MAX_BATCHES = 1000;

const cutoffOf = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);

/** Runs every rule once; a rule whose days are 0 does nothing. */
export async function runRetention(deps: RetentionDeps): Promise<RetentionReport> {
  // Results first: the uploads they release are then counted by their own rule on a later run, not twice.
  const results = await expireResults(deps);
  const uploads = await expireUploads(deps);
  const signIn = await pruneSignInLog(deps);
  const callbacks = await pruneRejectedCallbacks(deps);
  const idempotencyKeysDeleted = await pruneIdempotencyKeys(deps);
  // Always on: a half-written copy is never served and never finished (its writer was killed).
  const dayAgo = cutoffOf(deps.now, 1);
  let partialWritesDeleted = 0;
  for (const prefix of ["results/", "uploads/"]) partialWritesDeleted += (await deps.storage.sweepPartialWrites?.(prefix, dayAgo)) ?? 0;
  return {
    partialWritesDeleted,
    idempotencyKeysDeleted,
    ...uploads,
    ...signIn,
    ...callbacks,
    resultsDeleted: results.tasks,
    resultVideosDeleted: results.videos,
    resultUploadsDeleted: results.uploads,
  };
}

/** One line for the worker's log. */
export function describeRetention(r: RetentionReport): string {
  return (
    `uploads ${r.uploadsDeleted} deleted (${r.uploadsInUse} still in use), ` +
    `results of ${r.resultsDeleted} tasks deleted (${r.resultVideosDeleted} videos, ${r.resultUploadsDeleted} uploads), ` +
    `sign-in log ${r.signInEventsDeleted} rows + ${r.signInCountsDeleted} hourly counts, ` +
    `refused callbacks ${r.rejectedCallbacksDeleted} rows + ${r.rejectedCountsDeleted} hourly counts, ` +
    `${r.partialWritesDeleted} half-written files, ` +
    `${r.idempotencyKeysDeleted} expired Idempotency-Keys`
  );
}

/**
 * Deletes `table` rows matching `where`, `batch` at a time (each a small
 * DELETE of rows claimed with FOR UPDATE SKIP LOCKED, so two runs never wait
 * on or count the same rows); returns how many.
 */
async function pruneInBatches(db: Db, table: string, key: string | string[], where: Prisma.Sql, batch: number): Promise<number> {
  const t = Prisma.raw(`"${table}"`);
  // One column, or the columns of a composite primary key as a row value.
  const k = Prisma.raw(typeof key === "string" ? `"${key}"` : `(${key.map((c) => `"${c}"`).join(", ")})`);
  const selected = Prisma.raw(typeof key === "string" ? `"${key}"` : key.map((c) => `"${c}"`).join(", "));
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i += 1) {
    const n = await db.$executeRaw`
      DELETE FROM ${t} WHERE ${k} IN (SELECT ${selected} FROM ${t} WHERE ${where} LIMIT ${batch} FOR UPDATE SKIP LOCKED)`;
    total += n;
    if (n < batch) break;
  }
  return total;
}

export async function pruneSignInLog(deps: RetentionDeps): Promise<{ signInEventsDeleted: number; signInCountsDeleted: number }> {
  const days = deps.policy.signInLogDays;
  if (days <= 0) return { signInEventsDeleted: 0, signInCountsDeleted: 0 };
  const cutoff = cutoffOf(deps.now, days);
  const batch = deps.batchSize ?? DEFAULT_BATCH;
  return {
    signInEventsDeleted: await pruneInBatches(deps.db, "SignInEvent", "id", Prisma.sql`"at" < ${cutoff}`, batch),
    signInCountsDeleted: await pruneInBatches(deps.db, "SignInRefusalCount", "hour", Prisma.sql`"hour" < ${cutoff}`, batch),
  };
}

export async function pruneRejectedCallbacks(deps: RetentionDeps): Promise<{ rejectedCallbacksDeleted: number; rejectedCountsDeleted: number }> {
  const days = deps.policy.rejectedCallbackDays;
  if (days <= 0) return { rejectedCallbacksDeleted: 0, rejectedCountsDeleted: 0 };
  const cutoff = cutoffOf(deps.now, days);
  const batch = deps.batchSize ?? DEFAULT_BATCH;
  return {
    // Callbacks of a task stay with it (its page, its audit); only those that named no task we know go.
    rejectedCallbacksDeleted: await pruneInBatches(
      deps.db,
      "CallbackEvent",
      "id",
      Prisma.sql`"taskId" IS NULL AND "receivedAt" < ${cutoff}`,
      batch,
    ),
    rejectedCountsDeleted: await pruneInBatches(deps.db, "RejectedCallbackCount", "hour", Prisma.sql`"hour" < ${cutoff}`, batch),
  };
}

/** Deletes /v1 Idempotency-Key records older than their window (24 hours), in bounded batches. */
export async function pruneIdempotencyKeys(deps: RetentionDeps): Promise<number> {
  const cutoff = new Date(deps.now.getTime() - IDEMPOTENCY_WINDOW_HOURS * 3_600_000);
  return pruneInBatches(deps.db, "ApiIdempotencyKey", ["apiKeyId", "key"], Prisma.sql`"createdAt" < ${cutoff}`, deps.batchSize ?? DEFAULT_BATCH);
}

/** A UUID upload name as it appears in a stored request's links (server/uploads/uploads.ts names them so). */
const UPLOAD_NAME_IN_TEXT = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.[a-z0-9]{3,4}";

/**
 * For each of `names`, whether a task that has not ended uses it and when the
 * last ended task that used it ended. One pass over the tasks' requests per
 * call (names found by pattern, then matched), not one per name.
 */
async function usesOf(db: Db, names: string[]): Promise<Map<string, { running: boolean; lastEnded: Date | null }>> {
  const rows = await db.$queryRaw<Array<{ name: string; running: boolean; lastEnded: Date | null }>>`
    SELECT m.name,
           bool_or(t."status"::text <> ALL(${[...TERMINAL_STATUSES]}::text[])) AS "running",
           max(COALESCE(t."completedAt", t."updatedAt")) AS "lastEnded"
    FROM "Task" t
    CROSS JOIN LATERAL (SELECT (regexp_matches(t."request"::text, ${UPLOAD_NAME_IN_TEXT}, 'g'))[1] AS name) m
    WHERE m.name = ANY(${names}::text[])
    GROUP BY m.name`;
  return new Map(rows.map((r) => [r.name, { running: r.running, lastEnded: r.lastEnded }]));
}

/**
 * Deletes uploads last used more than `uploadDays` ago that no running task
 * uses. Each deletion holds the upload's advisory lock and checks again that
 * the file is there and no running task uses it, so two runs delete it once.
 */
export async function expireUploads(deps: RetentionDeps): Promise<{ uploadsDeleted: number; uploadsInUse: number }> {
  const days = deps.policy.uploadDays;
  const out = { uploadsDeleted: 0, uploadsInUse: 0 };
  if (days <= 0) return out;
  const cutoff = cutoffOf(deps.now, days);
  const batch = deps.batchSize ?? DEFAULT_BATCH;

  const settle = async (candidates: Array<{ key: string; name: string }>) => {
    const uses = await usesOf(
      deps.db,
      candidates.map((c) => c.name),
    );
    for (const c of candidates) {
      const use = uses.get(c.name);
      if (use?.running) {
        out.uploadsInUse += 1;
        continue;
      }
      if (use?.lastEnded && use.lastEnded >= cutoff) continue;
      const result = await deleteExpiredUpload(deps, c);
      if (result === "in_use") out.uploadsInUse += 1;
      if (result === "deleted") out.uploadsDeleted += 1;
    }
  };

  let candidates: Array<{ key: string; name: string }> = [];
  for await (const object of deps.storage.list("uploads/")) {
    const upload = uploadOfKey(object.key);
    if (!upload || object.modifiedAt >= cutoff) continue;
    candidates.push(upload);
    if (candidates.length >= batch) {
      await settle(candidates);
      candidates = [];
    }
  }
  if (candidates.length > 0) await settle(candidates);
  return out;
}

async function deleteExpiredUpload(deps: RetentionDeps, upload: { key: string; name: string }): Promise<"deleted" | "in_use" | "gone" | "busy"> {
  // Only one run works on an upload at a time; the other skips it (the lock ends with the transaction).
  return deps.db.$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRaw<Array<{ locked: boolean }>>`
        SELECT pg_try_advisory_xact_lock(hashtextextended(${`retention:${upload.key}`}, 0)) AS "locked"`;
      if (!lock?.locked) return "busy";
      if ((await deps.storage.size(upload.key)) === null) return "gone";
      if (await runningTasksUse(deps.db, upload.name)) return "in_use";
      await deleteUpload(deps.storage, upload.key, deps.now, "retention");
      return "deleted";
    },
    { timeout: 60_000 },
  );
}

/**
 * With `resultDays` set: deletes the files of tasks whose video was copied to
 * the portal and that ended more than that many days ago, through the owner's
 * path (server/tasks/files.ts `expireTaskFiles`). Off (0) by default.
 */
export async function expireResults(deps: RetentionDeps): Promise<{ tasks: number; videos: number; uploads: number }> {
  const days = deps.policy.resultDays;
  const out = { tasks: 0, videos: 0, uploads: 0 };
  if (days <= 0) return out;
  const cutoff = cutoffOf(deps.now, days);
  const batch = deps.batchSize ?? DEFAULT_BATCH;
  for (let i = 0; i < MAX_BATCHES; i += 1) {
    const due = await deps.db.task.findMany({
      where: { status: "completed", archiveStatus: "archived", filesDeletedAt: null, completedAt: { lt: cutoff } },
      orderBy: { completedAt: "asc" },
      take: batch,
      select: { id: true },
    });
    let marked = 0;
    for (const { id } of due) {
      const done = await expireTaskFiles(deps, id, deps.now, days);
      if (!done) continue;
      marked += 1;
      out.tasks += 1;
      if (done.video) out.videos += 1;
      out.uploads += done.uploadsDeleted;
    }
    // Another run marked them all first: it goes on with the rest.
    if (due.length < batch || marked === 0) break;
  }
  return out;
}
