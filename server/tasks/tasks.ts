/**
 * Generation tasks: create (store first, then submit), read, list, and apply
 * a state reported by the provider (callback or poll) monotonically.
 */
import { randomUUID } from "node:crypto";
import { billedSecondsFor } from "../billing/billing.ts";
import { callbackUrlFor } from "../callbacks/token.ts";
import type { Db, Task, TaskStatus } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { ProviderError, type ProviderTask, type VideoProvider } from "../provider/types.ts";
import type { SessionUser } from "../users/users.ts";
import { toProviderBody, type GenerationInput } from "./request-schema.ts";

export interface TaskDeps {
  db: Db;
  provider: VideoProvider;
  callbacks: { publicBaseUrl: string; serverSecret: string; simulator: boolean };
}

const TERMINAL: readonly TaskStatus[] = ["completed", "failed"];
const RANK: Record<TaskStatus, number> = { submitting: 0, pending: 1, processing: 2, completed: 3, failed: 3 };

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.includes(status);
}

/**
 * Stores the task, then submits it. The row exists before the paid call, so a
 * crash after it leaves a `submitting` task to reconcile rather than a paid
 * task we do not know about.
 */
export async function createTask(deps: TaskDeps, user: SessionUser, input: GenerationInput): Promise<Task> {
  const id = randomUUID();
  const body = toProviderBody(input, callbackUrlFor(deps.callbacks, id));
  const task = await deps.db.task.create({
    data: {
      id,
      userId: user.id,
      mode: input.generation_mode,
      prompt: input.prompt,
      request: body as object,
      durationSeconds: input.duration,
      status: "submitting",
    },
  });

  let answer: ProviderTask;
  try {
    answer = await deps.provider.createGeneration(body, { idempotencyKey: id });
  } catch (err) {
    if (err instanceof ProviderError && err.kind !== "network" && err.kind !== "invalid_response") {
      // The provider refused the request: nothing was started, nothing is billed.
      await deps.db.task.update({
        where: { id },
        data: { status: "failed", errorCode: err.details.code ?? err.kind, errorMessage: err.message, billedSeconds: 0, completedAt: new Date() },
      });
      throw toAppError(err);
    }
    // Outcome unknown (no answer): keep the task as submitting for the reconciler.
    await deps.db.task.update({
      where: { id },
      data: { errorMessage: "The provider did not answer; the portal will check whether the task was created." },
    });
    return deps.db.task.findUniqueOrThrow({ where: { id } });
  }

  return deps.db.task.update({
    where: { id },
    data: {
      providerTaskId: answer.id,
      status: answer.status,
      progress: Math.round(answer.progress),
      usage: (answer.usage ?? undefined) as object | undefined,
      submittedAt: new Date(),
    },
  });
}

function toAppError(err: ProviderError): AppError {
  switch (err.kind) {
    case "bad_request":
    case "too_large":
      return new AppError("BAD_REQUEST", `The provider refused the request: ${err.message}`);
    case "insufficient_quota":
      return new AppError("PAYMENT_REQUIRED", "The provider account has no credit left; ask an admin to top it up.");
    case "rate_limited":
      return new AppError("TOO_MANY_REQUESTS", "The provider is rate limiting requests; try again in a minute.");
    case "unauthenticated":
    case "forbidden":
      return new AppError("PROVIDER_FAILED", "The portal's provider key was refused; ask an admin to check EVOLINK_API_KEY.");
    default:
      return new AppError("PROVIDER_UNAVAILABLE", `The provider could not take the task: ${err.message}`);
  }
}

/**
 * Records a provider-reported state. Never moves backwards; a terminal state
 * (with its billing) is written once, by whichever caller gets there first.
 * Returns true when something changed.
 */
export async function applyProviderTask(db: Db, task: Task, reported: ProviderTask): Promise<boolean> {
  if (isTerminal(task.status)) return false;
  const status: TaskStatus = reported.status;
  const progress = Math.round(reported.progress);
  if (RANK[status] < RANK[task.status]) return false;
  if (RANK[status] === RANK[task.status] && progress <= task.progress) return false;

  const notTerminal = { id: task.id, status: { notIn: [...TERMINAL] } };
  if (status === "completed" || status === "failed") {
    const { count } = await db.task.updateMany({
      where: notTerminal,
      data: {
        status,
        progress: status === "completed" ? 100 : progress,
        resultUrls: reported.results ?? [],
        errorCode: reported.error?.code ?? null,
        errorMessage: reported.error?.message ?? null,
        billedSeconds: billedSecondsFor({ mode: task.mode, durationSeconds: task.durationSeconds }, status),
        completedAt: new Date(),
      },
    });
    return count === 1;
  }
  const { count } = await db.task.updateMany({ where: notTerminal, data: { status, progress } });
  return count === 1;
}

/** What the browser sees of a task (the stored request carries the callback token, so it stays server-side). */
export interface TaskView {
  id: string;
  mode: Task["mode"];
  prompt: string;
  status: TaskStatus;
  progress: number;
  providerTaskId: string | null;
  resultUrls: string[];
  errorCode: string | null;
  errorMessage: string | null;
  durationSeconds: number;
  billedSeconds: number | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export function toTaskView(t: Task): TaskView {
  return {
    id: t.id,
    mode: t.mode,
    prompt: t.prompt,
    status: t.status,
    progress: t.progress,
    providerTaskId: t.providerTaskId,
    resultUrls: t.resultUrls,
    errorCode: t.errorCode,
    errorMessage: t.errorMessage,
    durationSeconds: t.durationSeconds,
    billedSeconds: t.billedSeconds,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    completedAt: t.completedAt,
  };
}

export async function getTaskForUser(db: Db, user: SessionUser, id: string): Promise<Task> {
  const task = await db.task.findUnique({ where: { id } });
  // Another member's task answers as missing, not as forbidden: ids are not disclosed.
  if (!task || (task.userId !== user.id && user.role !== "admin")) {
    throw new AppError("NOT_FOUND", "No such task in your history");
  }
  return task;
}

export async function listTasksForUser(db: Db, user: SessionUser, opts: { limit?: number } = {}): Promise<Task[]> {
  return db.task.findMany({
    where: { userId: user.id },
    orderBy: { createdAt: "desc" },
    take: Math.min(opts.limit ?? 100, 500),
  });
}
