/**
 * A task's files in the portal's storage: its result video (the archived
 * copy), the uploads its request used, and the upload its video was copied to
 * when someone continued it (server/tasks/continuation.ts). The owner may delete them once the
 * task has ended; the row, its billing record and its timeline stay, marked
 * with when (docs/decisions/0014-task-events-cancel-delete.md).
 */
import { transaction, type Db, type Task } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { MATERIALS, type MaterialName } from "../generation/request-schema.ts";
import { isTerminal, TERMINAL_STATUSES } from "../generation/status.ts";
import type { ObjectStorage } from "../storage/storage.ts";
import { deleteUpload, uploadLinkOf, type UploadDeletionReason, type UploadLink } from "../uploads/uploads.ts";
import type { SessionUser } from "../users/users.ts";
import { continuationUpload } from "./continuation.ts";
import { recordTaskEvent } from "./events.ts";
import { getTaskForUser } from "./tasks.ts";

/** The name a task's video is saved under: `wan-<yyyy-mm-dd>-<first 8 hex digits of its id>.mp4` (UTC day it ended). */
export function videoFileName(task: Pick<Task, "id" | "createdAt" | "completedAt">): string {
  const day = (task.completedAt ?? task.createdAt).toISOString().slice(0, 10);
  const short = task.id.replace(/[^0-9a-zA-Z]/g, "").slice(0, 8).toLowerCase();
  return `wan-${day}-${short}.mp4`;
}

/** One media input of a stored request. */
export interface TaskInput {
  field: MaterialName;
  url: string;
  /** Set when the URL is one of the portal's own upload links (token checked). */
  upload: UploadLink | null;
}

/** The media inputs of a stored request body, in the request's field order. */
export function taskInputs(request: unknown, serverSecret: string): TaskInput[] {
  const body = (request ?? {}) as Partial<Record<MaterialName, unknown>>;
  const out: TaskInput[] = [];
  for (const field of MATERIALS) {
    const value = body[field];
    const urls = Array.isArray(value) ? value : [value];
    for (const url of urls) if (typeof url === "string" && url !== "") out.push({ field, url, upload: uploadLinkOf(serverSecret, url) });
  }
  return out;
}

export interface FilesDeps {
  db: Db;
  storage: ObjectStorage;
  /** Opens the task's upload links (their tokens). */
  serverSecret: string;
}

export interface DeletedFiles {
  deletedAt: Date;
  /** Whether a copy of the video was removed. */
  video: boolean;
  /**
   * Uploads removed (its inputs, and the copy of its video made to continue it), and those kept because
   * another task of the owner, or a running task, uses them too.
   */
  uploadsDeleted: number;
  uploadsKept: number;
}

/**
 * Whether another task still needs an upload: one of the owner's whose files
 * are kept, or any running one. Upload retention (server/retention/) asks only
 * the second question: `runningTasksUse`.
 */
async function uploadStillUsed(db: Db, task: Task, name: string): Promise<boolean> {
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    SELECT "id" FROM "Task"
    WHERE "id" <> ${task.id} AND "userId" = ${task.userId} AND "filesDeletedAt" IS NULL AND strpos("request"::text, ${name}) > 0
    LIMIT 1`;
  return rows.length > 0 || (await runningTasksUse(db, name, task.id));
}

/** Whether a task that has not ended (other than `exceptTaskId`) has the upload `name` in its request. */
export async function runningTasksUse(db: Db, name: string, exceptTaskId = ""): Promise<boolean> {
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    SELECT "id" FROM "Task"
    WHERE "id" <> ${exceptTaskId} AND "status"::text <> ALL(${[...TERMINAL_STATUSES]}::text[]) AND strpos("request"::text, ${name}) > 0
    LIMIT 1`;
  return rows.length > 0;
}

/** Who deleted a task's files: its owner, or the result retention setting (server/retention/). */
export type FilesDeletedBy = { by: "owner" } | { by: "retention"; days: number };

/**
 * Marks a task's files deleted: one conditional update (ended, not being
 * copied, not marked yet) with its `files_deleted` event. True for the one
 * call that marked it.
 */
async function markFilesDeleted(db: Db, taskId: string, at: Date, who: FilesDeletedBy): Promise<boolean> {
  return transaction(db, async (tx) => {
    const { count } = await tx.task.updateMany({
      where: { id: taskId, filesDeletedAt: null, status: { in: [...TERMINAL_STATUSES] }, archiveStatus: { not: "pending" } },
      data: { filesDeletedAt: at },
    });
    if (count === 1) {
      await recordTaskEvent(
        tx,
        taskId,
        who.by === "owner"
          ? { kind: "files_deleted", source: "owner" }
          : { kind: "files_deleted", source: "retention", detail: `Results are kept ${who.days} days after their task ends` },
      );
    }
    return count === 1;
  });
}

/**
 * Deletes a finished task's video, its uploaded inputs and the upload its
 * video was copied to for continuing it, from storage, for its owner. The row is marked first (one conditional update, with its timeline
 * event), so from then on the page, the video route and the upload links say
 * the files were deleted; the storage removals follow and may be repeated
 * (a second call finishes what a failed one left).
 */
export async function deleteTaskFiles(deps: FilesDeps, user: SessionUser, taskId: string): Promise<DeletedFiles> {
  const { db } = deps;
  const task = await getTaskForUser(db, user, taskId);
  if (task.userId !== user.id) throw new AppError("FORBIDDEN", "Only the person who started this task can delete its files.");
  if (!isTerminal(task.status)) throw new AppError("CONFLICT", "This task is still running; its files can be deleted once it has ended.");
  if (task.archiveStatus === "pending") throw new AppError("CONFLICT", "The video is still being copied to the portal; try again in a minute.");

  let deletedAt = task.filesDeletedAt;
  if (!deletedAt) {
    const at = new Date();
    const marked = await markFilesDeleted(db, task.id, at, { by: "owner" });
    const now = await db.task.findUniqueOrThrow({ where: { id: task.id } });
    if (!marked && !now.filesDeletedAt) throw new AppError("CONFLICT", "The task changed meanwhile; reload the page and try again.");
    deletedAt = now.filesDeletedAt ?? at;
  }
  return { deletedAt, ...(await removeTaskFiles(deps, task, deletedAt, "owner")) };
}

/**
 * Result retention: deletes the files of a task that ended before `endedBefore`, as its owner's
 * "Delete files" does, with a `files_deleted` event whose source is "retention". Null when this call
 * did not mark it (already deleted, running, being copied, or another worker's run marked it first):
 * the one run that marks a task removes its files.
 */
export async function expireTaskFiles(
  deps: FilesDeps,
  taskId: string,
  at: Date,
  days: number,
): Promise<Omit<DeletedFiles, "deletedAt"> | null> {
  if (!(await markFilesDeleted(deps.db, taskId, at, { by: "retention", days }))) return null;
  const task = await deps.db.task.findUniqueOrThrow({ where: { id: taskId } });
  return removeTaskFiles(deps, task, at, "retention");
}

/** The storage removals of a task marked deleted (idempotent: a repeat finishes what a failed one left). */
async function removeTaskFiles(deps: FilesDeps, task: Task, deletedAt: Date, reason: UploadDeletionReason): Promise<Omit<DeletedFiles, "deletedAt">> {
  const { db } = deps;
  let video = false;
  if (task.archiveKey) {
    video = (await deps.storage.size(task.archiveKey)) !== null;
    await deps.storage.delete(task.archiveKey);
  }
  let uploadsDeleted = 0;
  let uploadsKept = 0;
  const seen = new Set<string>();
  for (const input of taskInputs(task.request, deps.serverSecret)) {
    if (!input.upload || seen.has(input.upload.key)) continue;
    seen.add(input.upload.key);
    if (await uploadStillUsed(db, task, input.upload.name)) {
      uploadsKept += 1;
      continue;
    }
    await deleteUpload(deps.storage, input.upload.key, deletedAt, reason);
    uploadsDeleted += 1;
  }
  // The copy made when someone opened "Continue this video" (server/tasks/continuation.ts): a continuation
  // fetches that upload, never the archive, so it is the one kept while a task still uses it.
  const copy = continuationUpload(task.id);
  if (!seen.has(copy.key) && (await deps.storage.size(copy.key)) !== null) {
    if (await uploadStillUsed(db, task, copy.name)) {
      uploadsKept += 1;
    } else {
      await deleteUpload(deps.storage, copy.key, deletedAt, reason);
      uploadsDeleted += 1;
    }
  }
  return { video, uploadsDeleted, uploadsKept };
}
