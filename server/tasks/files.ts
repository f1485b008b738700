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
import { deleteUpload, uploadLinkOf, type UploadLink } from "../uploads/uploads.ts";
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

/** Whether another task still needs an upload: one of the owner's whose files are kept, or any running one. */
async function uploadStillUsed(db: Db, task: Task, name: string): Promise<boolean> {
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    SELECT "id" FROM "Task"
    WHERE "id" <> ${task.id} AND "userId" = ${task.userId} AND "filesDeletedAt" IS NULL AND strpos("request"::text, ${name}) > 0
    UNION ALL
    SELECT "id" FROM "Task"
    WHERE "id" <> ${task.id} AND "status" IN ('submitting', 'pending', 'processing') AND strpos("request"::text, ${name}) > 0
    LIMIT 1`;
  return rows.length > 0;
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
    const marked = await transaction(db, async (tx) => {
      const { count } = await tx.task.updateMany({
        where: { id: task.id, filesDeletedAt: null, status: { in: [...TERMINAL_STATUSES] }, archiveStatus: { not: "pending" } },
        data: { filesDeletedAt: at },
      });
      if (count === 1) await recordTaskEvent(tx, task.id, { kind: "files_deleted", source: "owner" });
      return count === 1;
    });
    const now = await db.task.findUniqueOrThrow({ where: { id: task.id } });
    if (!marked && !now.filesDeletedAt) throw new AppError("CONFLICT", "The task changed meanwhile; reload the page and try again.");
    deletedAt = now.filesDeletedAt ?? at;
  }

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
    await deleteUpload(deps.storage, input.upload.key, deletedAt);
    uploadsDeleted += 1;
  }
  // The copy made when someone opened "Continue this video" (server/tasks/continuation.ts): a continuation
  // fetches that upload, never the archive, so it is the one kept while a task still uses it.
  const copy = continuationUpload(task.id);
  if (!seen.has(copy.key) && (await deps.storage.size(copy.key)) !== null) {
    if (await uploadStillUsed(db, task, copy.name)) {
      uploadsKept += 1;
    } else {
      await deleteUpload(deps.storage, copy.key, deletedAt);
      uploadsDeleted += 1;
    }
  }
  return { deletedAt, video, uploadsDeleted, uploadsKept };
}
