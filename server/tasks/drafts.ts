/**
 * A new video's form filled from an earlier task: "Run again" (the task's
 * settings as they were sent) and "Continue this video" (the task's portal
 * copy as the clip to continue). Only the task's owner and admins may (for
 * anyone else the task does not exist, as everywhere). A continued result is
 * copied, server-side, from the archive into the uploads storage and handed
 * to the form as an upload link, which the provider fetches with its token
 * (docs/decisions/0006-uploads.md): the archive's own route needs a session
 * the provider does not have. Reads tasks only; nothing here writes a Task.
 */
import type { Db, Task } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { GENERATION_MODES, LIMITS, MATERIALS, QUALITIES, type GenerationFormValues, type GenerationModeName, type MaterialName, type Quality } from "../generation/request-schema.ts";
import { checkMediaBytes, type MediaFacts } from "../media/check.ts";
import { formatBytes, MEDIA_RULES, roundMs } from "../media/rules.ts";
import type { GenerationRequestBody } from "../provider/types.ts";
import { takeRateLimit, type RateLimitPolicy } from "../security/rate-limit.ts";
import { rateLimitKey } from "../media/file-check.ts";
import type { UploadAvailability } from "../uploads/availability.ts";
import { isOwnUploadLink } from "../uploads/media-source.ts";
import { deleteUpload, storeCheckedUpload, type UploadDeps } from "../uploads/uploads.ts";
import type { SessionUser } from "../users/users.ts";
import { continuationBlocker, continuationUpload, continuationUploadId } from "./continuation.ts";
import { getTaskForUser } from "./tasks.ts";

export type DraftKind = "again" | "continue";

export interface DraftDeps {
  db: Db;
  uploads: UploadDeps;
  /** Reading and checking a result counts as a file check (server/media/file-check.ts). */
  limit: RateLimitPolicy;
  /** Whether the provider could fetch the upload a continued video becomes (server/uploads/availability.ts). */
  uploadAvailability: UploadAvailability;
}

/** What the form opens with: a request (the form's own shape), and the facts of any file the server read. */
export interface TaskDraft {
  from: { taskId: string; kind: DraftKind };
  values: GenerationFormValues;
  /** The clip to continue, as the server copied and measured it. */
  clip?: { url: string; name: string; facts: MediaFacts };
  /** Materials whose link is one of the portal's own uploads, with a name to show for each (the form shows files, not tokened links). */
  uploads?: Partial<Record<MaterialName, string>>;
}

/** The settings a task was sent with, as a new request of the form (without the portal's callback). */
function requestOf(task: Task): GenerationFormValues {
  const sent = (task.request ?? {}) as Partial<GenerationRequestBody>;
  const mode = GENERATION_MODES.includes(sent.generation_mode as GenerationModeName) ? (sent.generation_mode as GenerationModeName) : task.mode;
  const quality = QUALITIES.includes(sent.quality as Quality) ? (sent.quality as Quality) : (task.quality as Quality);
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const list = (v: unknown) => (Array.isArray(v) && v.length > 0 && v.every((u) => typeof u === "string") ? (v as string[]) : undefined);
  const values: GenerationFormValues = {
    generation_mode: mode,
    prompt: text(sent.prompt) ?? task.prompt,
    quality,
    duration: typeof sent.duration === "number" ? sent.duration : task.durationSeconds,
    prompt_extend: sent.prompt_extend === true,
  };
  const optional: Partial<GenerationFormValues> = {
    negative_prompt: text(sent.negative_prompt),
    image_start: text(sent.image_start),
    image_end: text(sent.image_end),
    video_urls: list(sent.video_urls),
    audio_urls: list(sent.audio_urls),
    seed: typeof sent.seed === "number" ? sent.seed : undefined,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (values as Record<string, unknown>)[k] = v;
  return values;
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/** The form's values from `taskId` ("again"), or with its portal copy as the clip to continue ("continue"). */
export async function draftFromTask(deps: DraftDeps, user: SessionUser, input: { taskId: string; as: DraftKind }): Promise<TaskDraft> {
  const task = await getTaskForUser(deps.db, user, input.taskId);
  const from = { taskId: task.id, kind: input.as };
  const sent = requestOf(task);
  if (input.as === "again") {
    const uploads: Partial<Record<MaterialName, string>> = {};
    for (const field of MATERIALS) {
      const value = sent[field];
      const url = Array.isArray(value) ? value[0] : value;
      if (typeof url === "string" && isOwnUploadLink(url, deps.uploads.publicBaseUrl)) {
        uploads[field] = `Uploaded earlier (${(url.split("?")[0]?.split(".").pop() ?? "").toUpperCase()})`;
      }
    }
    return { from, values: sent, ...(Object.keys(uploads).length > 0 && { uploads }) };
  }

  const rules = deps.uploads.rules ?? MEDIA_RULES;
  const context = { uploads: deps.uploadAvailability, rules };
  const refusal = continuationBlocker(task, context);
  if (refusal) throw new AppError("BAD_REQUEST", refusal);
  const verdict = await takeRateLimit(deps.db, rateLimitKey(user.id), deps.limit);
  if (!verdict.allowed) {
    throw new AppError("TOO_MANY_REQUESTS", `That is a lot of files in a short time; try again in ${verdict.retryAfterSeconds} s.`, undefined, {
      retryAfterSeconds: verdict.retryAfterSeconds,
    });
  }
  const key = task.archiveKey as string;
  const size = await deps.uploads.storage.size(key);
  if (size === null) throw new AppError("BAD_REQUEST", "The portal's copy of this video is missing, so it cannot be continued here.");
  if (size > rules.clip.maxBytes) {
    throw new AppError("BAD_REQUEST", `This video is ${formatBytes(size)}; a clip to continue may be at most ${formatBytes(rules.clip.maxBytes)}, so it cannot be continued as it is.`);
  }
  const object = await deps.uploads.storage.get(key);
  if (!object) throw new AppError("BAD_REQUEST", "The portal's copy of this video is missing, so it cannot be continued here.");
  const bytes = await readAll(object.body);
  const { errors, facts } = await checkMediaBytes("video_urls", bytes, rules);
  // The same rule on the length the file itself has (the provider may return a little more than asked).
  const measured = facts?.kind === "clip" ? continuationBlocker(task, { ...context, measuredSeconds: facts.durationSeconds }) : null;
  if (measured) throw new AppError("BAD_REQUEST", measured);
  if (errors.length > 0 || facts?.kind !== "clip") throw new AppError("BAD_REQUEST", `This video cannot be continued: ${errors.join(" ") || "it is not an MP4 video the portal can read."}`);
  const copy = continuationUpload(task.id);
  const existed = (await deps.uploads.storage.size(copy.key)) !== null;
  const url = await storeCheckedUpload(deps.uploads, facts, bytes, continuationUploadId(task.id));
  if (!url) throw new AppError("BAD_REQUEST", "This video cannot be continued: it is not an MP4 video the portal can read.");
  // The owner deleted the task's files while this read them: the copy made here would outlive them (files.ts removed it before, or finds none).
  const now = await deps.db.task.findUnique({ where: { id: task.id }, select: { filesDeletedAt: true } });
  if (now?.filesDeletedAt) {
    if (!existed) await deleteUpload(deps.uploads.storage, copy.key, now.filesDeletedAt);
    throw new AppError("BAD_REQUEST", continuationBlocker({ ...task, filesDeletedAt: now.filesDeletedAt }, context) ?? "This video was deleted from the portal.");
  }

  // The output is the clip plus what is added: by default as much again as a new video's default, within the limit.
  const clipSeconds = Math.ceil(roundMs(facts.durationSeconds));
  const values: GenerationFormValues = {
    generation_mode: "video_continuation",
    prompt: sent.prompt,
    ...(sent.negative_prompt !== undefined && { negative_prompt: sent.negative_prompt }),
    video_urls: [url],
    quality: sent.quality,
    duration: Math.min(LIMITS.durationMax, Math.max(LIMITS.durationMin, clipSeconds + LIMITS.durationDefault)),
    prompt_extend: sent.prompt_extend,
  };
  return { from, values, clip: { url, name: `video-${task.id.slice(0, 8)}.mp4`, facts } };
}
