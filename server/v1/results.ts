/**
 * A `/v1` task's result link: `GET /v1/results/{taskId}?token=…`. The token
 * is a signature of the task id under the server secret (no expiry: the link
 * lasts as long as the video, unlike the provider's 24 hours); the owner's
 * API key works too, in place of the token. It serves the portal's archived
 * copy once it exists (Range supported) and redirects to the provider's link
 * until then; a deleted video answers 410.
 */
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { signToken, verifyToken } from "../security/signed-token.ts";
import { openTaskVideo } from "../storage/archive.ts";
import type { ByteRange, ObjectStorage, StoredObject } from "../storage/storage.ts";

export function resultLinkFor(publicBaseUrl: string, serverSecret: string): (taskId: string) => string {
  const base = publicBaseUrl.replace(/\/+$/, "");
  return (taskId) => `${base}/v1/results/${encodeURIComponent(taskId)}?token=${signToken(serverSecret, "v1-result", taskId)}`;
}

export type V1Result = { kind: "file"; video: StoredObject & { fileName: string } } | { kind: "redirect"; url: string };

/**
 * The video behind a result link. `token` is the link's; `ownerId` the
 * person whose API key came with the request (either one is enough).
 * Unknown task, wrong token and another person's task all answer the same
 * NOT_FOUND.
 */
export async function openV1Result(
  deps: { db: Db; storage: ObjectStorage; serverSecret: string },
  taskId: string,
  auth: { token: string | null; ownerId: string | null },
  range?: ByteRange,
): Promise<V1Result> {
  const notFound = () => new AppError("NOT_FOUND", "No such result: check the link, or ask GET /v1/tasks/{id} for a fresh one.");
  const task = await deps.db.task.findUnique({
    where: { id: taskId },
    select: { id: true, userId: true, status: true, resultUrls: true, archiveStatus: true, filesDeletedAt: true },
  });
  if (!task) throw notFound();
  const allowed = verifyToken(deps.serverSecret, "v1-result", taskId, auth.token) || (auth.ownerId !== null && auth.ownerId === task.userId);
  if (!allowed) throw notFound();
  if (task.filesDeletedAt) throw new AppError("GONE", `This video was deleted from the portal's storage on ${task.filesDeletedAt.toISOString().slice(0, 10)}.`);
  if (task.status !== "completed") throw new AppError("NOT_FOUND", "This task has no video yet: it has not completed.");
  if (task.archiveStatus === "archived") {
    // The owner's view of the archive (openTaskVideo checks the owner, whom the token or key stands for).
    return { kind: "file", video: await openTaskVideo(deps, { id: task.userId, email: "", name: null, role: "member" }, taskId, range) };
  }
  const link = task.resultUrls[0];
  if (!link) throw new AppError("NOT_FOUND", "This task completed without a video link.");
  return { kind: "redirect", url: link };
}
