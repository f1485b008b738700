/**
 * "Continue this video": whether a task's video can be the clip of a new
 * continued video, and the upload its portal copy becomes. The one rule the
 * task page uses to explain a disabled "Continue this video" and
 * tasks.draftFrom (server/tasks/drafts.ts) uses to refuse `?continue=`, so
 * both say the same thing. The provider fetches the clip from the portal's
 * uploads (docs/decisions/0006-uploads.md), so there must be a portal copy,
 * uploads must be reachable, and the video must be a clip the media rules
 * (server/media/rules.ts) accept.
 */
import { createHash } from "node:crypto";
import type { Task } from "../db/client.ts";
import { formatSeconds, MEDIA_RULES, roundMs, type MediaRules } from "../media/rules.ts";
import type { UploadAvailability } from "../uploads/availability.ts";

export type ContinuableTask = Pick<Task, "status" | "archiveStatus" | "archiveKey" | "filesDeletedAt" | "durationSeconds" | "billedSeconds">;

export interface ContinuationContext {
  /** Whether the provider could fetch an upload link (server/uploads/availability.ts). */
  uploads: UploadAvailability;
  /** The video's length as read from the portal's copy, once it was (else its billed, or asked, length). */
  measuredSeconds?: number;
  /** The limits; MEDIA_RULES unless a test sets smaller ones. */
  rules?: MediaRules;
}

/**
 * Why a task's video cannot be continued, in plain words that say what to do
 * instead, or null when it can be.
 */
export function continuationBlocker(task: ContinuableTask, ctx: ContinuationContext): string | null {
  const clip = (ctx.rules ?? MEDIA_RULES).clip;
  if (task.status !== "completed") {
    return task.status === "failed"
      ? "This task made no video, so there is nothing to continue; run it again instead."
      : "This task is still making its video; it can be continued once the video is ready.";
  }
  if (task.filesDeletedAt) {
    return "This video was deleted from the portal, so it cannot be continued here. If you kept a copy, upload it as the clip in a new continued video.";
  }
  // The output's length: as measured from the file, else as billed (the whole output), else as asked.
  const seconds = ctx.measuredSeconds !== undefined ? roundMs(ctx.measuredSeconds) : (task.billedSeconds ?? task.durationSeconds);
  if (seconds > clip.maxSeconds) {
    return `This video is ${formatSeconds(seconds)} long; a clip to continue may be at most ${clip.maxSeconds} s, so it cannot be continued as it is. Trim it to ${clip.maxSeconds} s or less and upload it as the clip instead.`;
  }
  if (seconds < clip.minSeconds) {
    return `This video is ${formatSeconds(seconds)} long; a clip to continue must be at least ${clip.minSeconds} s, so it cannot be continued. Continue a longer video instead.`;
  }
  if (!ctx.uploads.enabled) {
    return `The video service would fetch this video from the portal's uploads, which it cannot reach here. ${ctx.uploads.reason}`;
  }
  if (task.archiveStatus === "pending") return "This video is not saved in the portal yet; it can be continued once it is (usually within a minute).";
  if (task.archiveStatus === "none") return "The video service returned no video file for this task, so there is nothing to continue; run it again instead.";
  if (task.archiveStatus !== "archived" || !task.archiveKey) {
    return "This video was not saved in the portal, so it cannot be continued here; download it from the provider's link while it lasts and upload it as the clip instead.";
  }
  return null;
}

/**
 * The upload a task's portal copy becomes when it is continued: a UUID
 * derived from the task, so one result is copied once however often it is
 * continued, and deleting the task's files finds the copy
 * (server/tasks/files.ts). Stored as `uploads/<id>.mp4` (a clip is always MP4).
 */
export function continuationUploadId(taskId: string): string {
  const h = createHash("sha256").update(`continue-from:${taskId}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The continued copy's upload name (`<id>.mp4`, as in its link) and storage key. */
export function continuationUpload(taskId: string): { name: string; key: string } {
  const name = `${continuationUploadId(taskId)}.mp4`;
  return { name, key: `uploads/${name}` };
}
