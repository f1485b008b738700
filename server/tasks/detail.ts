/**
 * What a task's page shows, composed on the server: the parameters as sent,
 * the input media (previewed only when the portal serves them itself), what
 * the portal is doing while it waits and when it gives up, why it failed,
 * and which actions the viewer has (cancel, delete files, download,
 * continue). The stored request carries the callback token, so only the
 * named fields leave the server.
 */
import type { Db, Task } from "../db/client.ts";
import { GENERATION_MODES, type GenerationModeName, type MaterialName } from "../generation/request-schema.ts";
import { isTerminal } from "../generation/status.ts";
import type { ObjectStorage } from "../storage/storage.ts";
import type { UploadAvailability } from "../uploads/availability.ts";
import { uploadDeletedAt } from "../uploads/uploads.ts";
import type { SessionUser } from "../users/users.ts";
import { continuationBlocker } from "./continuation.ts";
import { explainTaskError, type ErrorExplanation } from "./error-explanations.ts";
import { describeTaskEvent, TIMELINE_HEAD, TIMELINE_TAIL, type TimelineEntry } from "./events.ts";
import { taskInputs, videoFileName } from "./files.ts";
import type { ReconcilePolicy } from "./reconcile.ts";
import { UNSENT_AFTER_MS } from "./reconcile.ts";
import { getTaskForUser, isCancellable, toTaskView, type TaskView } from "./tasks.ts";

/** The parameters exactly as the request sent them (absent ones as the provider's defaults say). */
export interface SentParameters {
  mode: GenerationModeName;
  prompt: string;
  negativePrompt: string | null;
  /** null: none sent, the provider picked one at random. */
  seed: number | null;
  promptExtend: boolean;
  quality: string;
  duration: number;
  /** Whether a driving audio file was sent. */
  audio: boolean;
}

export type InputKind = "image" | "clip" | "audio";

export interface InputView {
  field: MaterialName;
  kind: InputKind;
  /** The link as sent; for the portal's own uploads only shown to whoever may see the task. */
  url: string;
  /** A same-origin path the page may load (the portal's own upload); null for other sites' files, shown as links. */
  previewUrl: string | null;
  uploaded: boolean;
  /** When the portal's copy of this upload was deleted; null while it exists (or for other sites' files). */
  deletedAt: Date | null;
}

export type WaitingStage =
  /** Stored, the paid call not made yet: the portal is sending it (or will, when it restarted meanwhile). */
  | "stored"
  /** The provider said it is busy: not sent, the portal sends it at `nextAttemptAt`. */
  | "busy"
  /** Sent, no answer: it may exist at the provider; the portal waits for its callback. */
  | "unconfirmed"
  /** Accepted by the provider, which is making the video. */
  | "running";

export interface Waiting {
  stage: WaitingStage;
  sentAt: Date | null;
  nextAttemptAt: Date | null;
  /** When the portal ends the task itself if nothing else happened (deadline, or unknown submission). */
  givesUpAt: Date;
  /** How often the portal asks the provider while it runs, in seconds. */
  pollEverySeconds: number;
}

export interface TaskDetailView extends TaskView {
  isOwner: boolean;
  parameters: SentParameters;
  inputs: InputView[];
  waiting: Waiting | null;
  explanation: ErrorExplanation | null;
  /** The portal's copy, to save. */
  download: { url: string; fileName: string } | null;
  /** Continue this video: null when it can be, else why not (the reason tasks.draftFrom refuses with). */
  continuationBlocked: string | null;
  canCancel: boolean;
  canDeleteFiles: boolean;
}

const KIND_OF_FIELD: Record<MaterialName, InputKind> = { image_start: "image", image_end: "image", video_urls: "clip", audio_urls: "audio" };

/** The request's parameters; a request stored before a field existed shows the provider's default for it. */
export function sentParameters(task: Pick<Task, "request" | "mode" | "prompt" | "quality" | "durationSeconds">): SentParameters {
  const body = (task.request ?? {}) as Record<string, unknown>;
  const mode = GENERATION_MODES.find((m) => m === body.generation_mode) ?? task.mode;
  const audio = body.audio_urls;
  return {
    mode,
    prompt: typeof body.prompt === "string" ? body.prompt : task.prompt,
    negativePrompt: typeof body.negative_prompt === "string" && body.negative_prompt !== "" ? body.negative_prompt : null,
    seed: typeof body.seed === "number" ? body.seed : null,
    promptExtend: body.prompt_extend === true,
    quality: typeof body.quality === "string" ? body.quality : task.quality,
    duration: typeof body.duration === "number" ? body.duration : task.durationSeconds,
    audio: Array.isArray(audio) && audio.length > 0,
  };
}

/** What the portal is doing with a task that has not ended, and when it gives up. */
export function waitingOf(task: Task, policy: Pick<ReconcilePolicy, "taskDeadlineMinutes" | "submitUnknownGraceMinutes" | "pollIntervalSeconds">, now = new Date()): Waiting | null {
  if (isTerminal(task.status)) return null;
  const deadline = new Date(task.createdAt.getTime() + policy.taskDeadlineMinutes * 60_000);
  const base = { sentAt: task.submitAttemptedAt, pollEverySeconds: policy.pollIntervalSeconds };
  if (task.providerTaskId || task.status !== "submitting") return { ...base, stage: "running", nextAttemptAt: null, givesUpAt: deadline };
  if (task.submitAttemptedAt) {
    const unknownAfter = new Date(task.submitAttemptedAt.getTime() + policy.submitUnknownGraceMinutes * 60_000);
    return { ...base, stage: "unconfirmed", nextAttemptAt: null, givesUpAt: unknownAfter < deadline ? unknownAfter : deadline };
  }
  if (task.nextPollAt && task.nextPollAt > now) return { ...base, stage: "busy", nextAttemptAt: task.nextPollAt, givesUpAt: deadline };
  return { ...base, stage: "stored", nextAttemptAt: task.nextPollAt ?? new Date(task.createdAt.getTime() + UNSENT_AFTER_MS), givesUpAt: deadline };
}

export interface DetailDeps {
  db: Db;
  storage: ObjectStorage;
  serverSecret: string;
  policy: Pick<ReconcilePolicy, "taskDeadlineMinutes" | "submitUnknownGraceMinutes" | "pollIntervalSeconds">;
  /** Whether the provider could fetch an upload link: a continuation hands it one (server/tasks/continuation.ts). */
  uploadAvailability: UploadAvailability;
}

/** A task's page, for its owner or an admin (anyone else: NOT_FOUND, as getTaskForUser). */
export async function getTaskDetail(deps: DetailDeps, user: SessionUser, id: string): Promise<TaskDetailView> {
  const task = await getTaskForUser(deps.db, user, id);
  const isOwner = task.userId === user.id;
  const inputs = await Promise.all(
    taskInputs(task.request, deps.serverSecret).map(async (input): Promise<InputView> => {
      const kind = KIND_OF_FIELD[input.field];
      if (!input.upload) return { field: input.field, kind, url: input.url, previewUrl: null, uploaded: false, deletedAt: null };
      // An upload may outlive its task's deletion when another task uses it too, and upload retention
      // (server/retention/) deletes those of ended tasks: ask storage, only for ended tasks.
      const missing = isTerminal(task.status) && (await deps.storage.size(input.upload.key)) === null;
      const deletedAt = missing ? ((await uploadDeletedAt(deps.storage, input.upload.key)) ?? task.filesDeletedAt) : null;
      return { field: input.field, kind, url: input.url, previewUrl: deletedAt ? null : input.upload.localPath, uploaded: true, deletedAt };
    }),
  );
  const archived = task.status === "completed" && task.archiveStatus === "archived" && !task.filesDeletedAt;
  return {
    ...toTaskView(task, task.user, task.apiKey),
    isOwner,
    parameters: sentParameters(task),
    inputs,
    waiting: waitingOf(task, deps.policy),
    explanation: task.status === "failed" ? explainTaskError({ errorCode: task.errorCode, accepted: task.providerTaskId !== null }) : null,
    filesDeletedAt: task.filesDeletedAt,
    download: archived ? { url: `/api/media/${task.id}?download=1`, fileName: videoFileName(task) } : null,
    continuationBlocked: continuationBlocker(task, { uploads: deps.uploadAvailability }),
    canCancel: isOwner && isCancellable(task),
    // Something of the portal's to delete: its copy of the video, or an upload still there.
    canDeleteFiles:
      isOwner &&
      isTerminal(task.status) &&
      !task.filesDeletedAt &&
      task.archiveStatus !== "pending" &&
      (task.archiveStatus === "archived" || inputs.some((i) => i.uploaded)),
  };
}

/**
 * A task's timeline, oldest first: the first few events and the latest ones;
 * `omitted` events were left out before index `gapAt` (a long task's many checks).
 */
export async function listTaskTimeline(db: Db, user: SessionUser, taskId: string): Promise<{ events: TimelineEntry[]; omitted: number; gapAt: number }> {
  await getTaskForUser(db, user, taskId);
  const select = { id: true, at: true, kind: true, status: true, progress: true, source: true, detail: true } as const;
  const total = await db.taskEvent.count({ where: { taskId } });
  const head = await db.taskEvent.findMany({ where: { taskId }, orderBy: { id: "asc" }, take: TIMELINE_HEAD, select });
  const tail =
    total > TIMELINE_HEAD
      ? (await db.taskEvent.findMany({ where: { taskId }, orderBy: { id: "desc" }, take: Math.min(TIMELINE_TAIL, total - TIMELINE_HEAD), select })).reverse()
      : [];
  const rows = [...head, ...tail];
  return {
    events: rows.map((e) => ({ id: e.id.toString(), at: e.at, kind: e.kind, ...describeTaskEvent(e) })),
    omitted: Math.max(0, total - rows.length),
    gapAt: head.length,
  };
}
