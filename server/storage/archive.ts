/**
 * Copies a completed task's result video into our storage before the
 * provider's link expires (24 h), and serves it back to its owner.
 */
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { routeHandler } from "../http/errors.ts";
import { requestedRange, storedObjectResponse } from "../http/range.ts";
import { formatBytes } from "../media/rules.ts";
import { videoFileName } from "../tasks/files.ts";
import { claimArchiveAttempt, recordArchived, recordArchiveFailure } from "../tasks/updates.ts";
import type { SessionUser } from "../users/users.ts";
import type { ByteRange, ObjectStorage, StoredObject } from "./storage.ts";
import { metrics } from "../metrics/metrics.ts";
import { logger, messageOf, taskFields } from "../logging/logger.ts";

export interface ArchiveDeps {
  db: Db;
  storage: ObjectStorage;
  maxAttempts: number;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export const resultKey = (taskId: string) => `results/${taskId}.mp4`;

/** Ids of completed tasks whose result still has to be copied. */
export async function findPendingArchives(db: Db, limit = 100): Promise<string[]> {
  const rows = await db.task.findMany({ where: { archiveStatus: "pending" }, select: { id: true }, orderBy: { completedAt: "asc" }, take: limit });
  return rows.map((r) => r.id);
}

/**
 * Downloads and stores the result. Throws on failure so that the job queue
 * retries with backoff; after `maxAttempts` the task is marked `failed` and
 * keeps the reason, and the provider's URL remains the fallback.
 */
export async function archiveResult(deps: ArchiveDeps, taskId: string): Promise<"archived" | "skipped"> {
  if (!(await claimArchiveAttempt(deps.db, taskId))) return "skipped";
  const task = await deps.db.task.findUniqueOrThrow({ where: { id: taskId } });
  const url = task.resultUrls[0];
  if (!url) return "skipped";
  const fields = { ...taskFields(task), attempt: task.archiveAttempts };
  logger().info(fields, "archive started");
  const started = Date.now();
  try {
    const res = await (deps.fetch ?? fetch)(url, { signal: AbortSignal.timeout(deps.timeoutMs ?? 300_000) });
    if (!res.ok || !res.body) throw new Error(`the provider's result link answered HTTP ${res.status}`);
    const key = resultKey(task.id);
    const { size } = await deps.storage.put(key, res.body as ReadableStream<Uint8Array>, res.headers.get("content-type") ?? "video/mp4");
    await recordArchived(deps.db, task.id, key, formatBytes(size));
    logger().info({ ...fields, key, bytes: size, ms: Date.now() - started }, "archive finished");
    return "archived";
  } catch (err) {
    const message = `Copying the result failed (attempt ${task.archiveAttempts} of ${deps.maxAttempts}): ${(err as Error).message}`;
    const final = task.archiveAttempts >= deps.maxAttempts;
    metrics().archiveFailures.inc({ final: String(final) });
    await recordArchiveFailure(deps.db, task.id, message, final);
    logger()[final ? "error" : "warn"]({ ...fields, maxAttempts: deps.maxAttempts, final, detail: messageOf(err) }, final ? "archive failed: given up" : "archive failed: retried later");
    throw new Error(message, { cause: err });
  }
}

/**
 * GET /api/media/<taskId>: the archived video, for its owner and admins, with
 * Range support for <video>; `?download=1` asks the browser to save it. Either
 * way it is named `wan-<date>-<short id>.mp4`.
 */
export function taskVideoRoute(
  deps: () => { db: Db; storage: ObjectStorage; currentUser: () => Promise<SessionUser | null> },
): (req: Request, taskId: string) => Promise<Response> {
  return routeHandler("task video", async (req: Request, taskId: string) => {
    const d = deps();
    const user = await d.currentUser();
    if (!user) throw new AppError("UNAUTHORIZED", "Sign in to watch this video");
    const video = await openTaskVideo(d, user, taskId, requestedRange(req));
    const disposition = new URL(req.url).searchParams.get("download") === "1" ? "attachment" : "inline";
    return storedObjectResponse(video, {
      "Cache-Control": "private, max-age=3600",
      // The name is made of a date and hex digits only: no quoting or encoding needed.
      "Content-Disposition": `${disposition}; filename="${video.fileName}"`,
    });
  });
}

/** The archived video of a task, for its owner or an admin; `range` as parsed from the Range header. */
export async function openTaskVideo(
  deps: { db: Db; storage: ObjectStorage },
  user: SessionUser,
  taskId: string,
  range?: ByteRange,
): Promise<StoredObject & { fileName: string }> {
  const task = await deps.db.task.findUnique({ where: { id: taskId } });
  if (!task || (task.userId !== user.id && user.role !== "admin")) throw new AppError("NOT_FOUND", "No such video");
  if (task.filesDeletedAt) {
    throw new AppError("GONE", `This video was deleted from the portal's storage on ${task.filesDeletedAt.toISOString().slice(0, 10)}; the task's page keeps its settings and cost.`);
  }
  if (task.archiveStatus !== "archived" || !task.archiveKey) throw new AppError("NOT_FOUND", "This video has not been copied to the portal yet");
  const object = await deps.storage.get(task.archiveKey, range);
  if (!object) throw new AppError("NOT_FOUND", "The archived file is missing from storage");
  return { ...object, fileName: videoFileName(task) };
}
