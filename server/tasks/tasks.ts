/**
 * Generation tasks: create (store first, then submit), read, list, and apply
 * a state reported by the provider (callback or poll) monotonically.
 */
import { randomUUID } from "node:crypto";
import { billedSecondsFor, costAt, estimateCost, type PriceTable } from "../billing/billing.ts";
import { noteRefusal, OverBudgetError, reserveBudget, settleBudget, type BudgetAlert } from "../budgets/budgets.ts";
import { transaction, type Db, type Task, type TaskStatus } from "../db/client.ts";
import { reportingTimeZone } from "../settings/settings.ts";
import { AppError } from "../errors.ts";
import { ProviderError, type GenerationRequestBody, type ProviderTask, type VideoProvider } from "../provider/types.ts";
import { checkGenerationMedia, hasFieldErrors, summarizeFieldErrors, type MediaFetcher } from "../media/index.ts";
import type { SessionUser } from "../users/users.ts";
import { toProviderBody, type GenerationInput } from "../generation/request-schema.ts";
import { isTerminal, NOT_ENDED, STATUS_RANK } from "../generation/status.ts";

export interface TaskDeps {
  db: Db;
  provider: VideoProvider;
  /** The callback URL to give the provider for a task, or undefined when it could not reach us. */
  callbackUrlFor: (taskId: string) => string | undefined;
  prices: PriceTable;
  /** The reporting time zone when no admin set one (budget months are counted in it). */
  defaultTimeZone: string;
  /** Told after a submit crossed a budget threshold (80 %, 100 %), once each per month: mails people. */
  notifyBudget?: (alerts: BudgetAlert[]) => Promise<void>;
  /** Fetches media once to check it before any money is spent (server/media/). */
  fetchMedia: MediaFetcher;
  /**
   * Test seam: runs after the provider accepted a task and before the portal
   * records it. Throwing here is a crash at the worst moment.
   */
  afterProviderAnswer?: (answer: ProviderTask) => void | Promise<void>;
}

export interface CreateTaskOptions {
  /** Idempotency key from the form: the same key returns the same task. */
  clientRequestId?: string;
}

/** Budget notices go out after the transaction, and never hold up or fail a submit. */
function notify(deps: TaskDeps, alerts: BudgetAlert[]): void {
  if (alerts.length > 0) void deps.notifyBudget?.(alerts).catch((err: unknown) => console.warn(`[budgets] notice failed: ${(err as Error).message}`));
}

/**
 * Stores the task, then submits it. The row exists before the paid call, so a
 * crash after it leaves a `submitting` task to reconcile rather than a paid
 * task we do not know about. The same clientRequestId never creates two tasks.
 */
export async function createTask(deps: TaskDeps, user: SessionUser, input: GenerationInput, opts: CreateTaskOptions = {}): Promise<Task> {
  const sameRequest = (clientRequestId: string) =>
    deps.db.task.findUnique({ where: { userId_clientRequestId: { userId: user.id, clientRequestId } } });
  if (opts.clientRequestId) {
    const existing = await sameRequest(opts.clientRequestId);
    if (existing) return existing;
  }
  // The media rules, checked on the files themselves where the portal can fetch them.
  const media = await checkGenerationMedia(input, { fetchMedia: deps.fetchMedia });
  if (hasFieldErrors(media.fieldErrors)) {
    throw new AppError("BAD_REQUEST", summarizeFieldErrors(media.fieldErrors), media.fieldErrors);
  }
  const id = randomUUID();
  const body = toProviderBody(input, deps.callbackUrlFor(id));
  const pricePerSecond = deps.prices.perSecond[input.quality];
  // The media check refused a continuation shorter than its clip, so the rule applies.
  const estimate =
    estimateCost(deps.prices, { mode: input.generation_mode, quality: input.quality, durationSeconds: input.duration, inputClipSeconds: media.facts.inputClipSeconds })?.cost ??
    costAt(pricePerSecond, input.duration);
  let task: Task;
  let alerts: BudgetAlert[] = [];
  const now = new Date();
  try {
    // The estimate is held against the budgets in the transaction that stores the task.
    task = await transaction(deps.db, async (tx) => {
      const reserved = await reserveBudget(tx, {
        userId: user.id,
        estimate,
        timeZone: await reportingTimeZone(tx, deps.defaultTimeZone),
        currency: deps.prices.currency,
        now,
      });
      alerts = reserved.alerts;
      return tx.task.create({
      data: {
        id,
        userId: user.id,
        clientRequestId: opts.clientRequestId ?? null,
        mode: input.generation_mode,
        prompt: input.prompt,
        quality: input.quality,
        request: body as object,
        durationSeconds: input.duration,
        inputClipSeconds: media.facts.inputClipSeconds ?? null,
        pricePerSecond,
        currency: deps.prices.currency,
        estimatedCost: estimate,
        reservedCost: estimate,
        budgetMonth: reserved.month,
        status: "submitting",
        // The instant the budget month was taken from: usage and budgets count the task in the same period.
        createdAt: now,
      },
    });
    });
  } catch (err) {
    // A concurrent request with the same key won the insert: answer with its task.
    if (opts.clientRequestId && (err as { code?: string }).code === "P2002") {
      const winner = await sameRequest(opts.clientRequestId);
      if (winner) return winner;
    }
    if (err instanceof OverBudgetError) notify(deps, await noteRefusal(deps.db, err, user.id, now).catch(() => []));
    throw err;
  }
  notify(deps, alerts);
  return submitTask(deps, task);
}

/**
 * Makes the paid create call for a stored `submitting` task and records the
 * answer. Throws an AppError when the provider refused the request.
 */
export async function submitTask(deps: TaskDeps, task: Task): Promise<Task> {
  const { id } = task;
  // Claim the submission: only one caller may make the paid call for a task.
  const claimed = await deps.db.task.updateMany({
    where: { id, status: "submitting", submitAttemptedAt: null },
    data: { submitAttemptedAt: new Date() },
  });
  if (claimed.count === 0) return deps.db.task.findUniqueOrThrow({ where: { id } });

  let answer: ProviderTask;
  try {
    answer = await deps.provider.createGeneration(task.request as unknown as GenerationRequestBody, { idempotencyKey: id });
  } catch (err) {
    // outcomeUnknown: the request may have reached the provider (502, timeout, cut connection, unreadable answer).
    if (err instanceof ProviderError && !err.outcomeUnknown) {
      // The provider refused the request, or could not be reached: nothing
      // was started, nothing is billed. The task ends now, with the reason.
      const refusal = refusalOf(err);
      console.warn(`[tasks] create refused for task ${id}: ${err.message}`);
      await finishTask(deps.db, task, {
        status: "failed",
        progress: 0,
        resultUrls: [],
        errorCode: err.details.code ?? (err.kind === "network" ? "provider_unreachable" : err.kind),
        errorMessage: refusal.message,
        usage: null,
      });
      throw refusal;
    }
    // No answer: the task may exist at the provider. Its callback (which names
    // this task) or the reconciler resolves it; it is never resubmitted blindly.
    await deps.db.task.update({
      where: { id },
      data: { errorMessage: "The provider did not confirm the submission yet; the portal is checking." },
    });
    return deps.db.task.findUniqueOrThrow({ where: { id } });
  }
  await deps.afterProviderAnswer?.(answer);

  await deps.db.task.updateMany({
    where: { id, providerTaskId: null },
    data: {
      providerTaskId: answer.id,
      usage: (answer.usage ?? undefined) as object | undefined,
      submittedAt: new Date(),
      errorMessage: null,
    },
  });
  const stored = await deps.db.task.findUniqueOrThrow({ where: { id } });
  await applyProviderTask(deps.db, stored, answer);
  return deps.db.task.findUniqueOrThrow({ where: { id } });
}

const NOT_CHARGED = "Nothing was charged.";

/**
 * What the person is told when the provider refused a create call or could
 * not be reached: in their words, with what to do; the technical message
 * (URLs, HTTP statuses) goes to the server log only.
 */
export function refusalOf(err: ProviderError): AppError {
  const said = err.details.providerMessage?.replace(/[.\s]+$/, "");
  const param = err.details.param ? ` (${err.details.param})` : "";
  switch (err.kind) {
    case "bad_request":
    case "too_large":
      return new AppError(
        "BAD_REQUEST",
        `The video service refused this request${said ? `: ${said}${param}` : param}. Change the input and submit again. ${NOT_CHARGED}`,
      );
    case "insufficient_quota":
      return new AppError("PAYMENT_REQUIRED", `The video service account has no credit left; ask an admin to top it up. ${NOT_CHARGED}`);
    case "rate_limited":
      return new AppError("TOO_MANY_REQUESTS", `The video service is busy with too many requests; try again in a minute. ${NOT_CHARGED}`, undefined, {
        retryAfterSeconds: err.details.retryAfterSeconds ?? 60,
      });
    case "unauthenticated":
    case "forbidden":
      return new AppError("PROVIDER_FAILED", `The video service did not accept the portal's API key; ask an admin to check it. ${NOT_CHARGED}`);
    case "network":
      return new AppError(
        "PROVIDER_UNAVAILABLE",
        `The video service could not be reached, so nothing was sent. Try again in a few minutes; if it keeps happening, ask an admin to check the provider settings. ${NOT_CHARGED}`,
      );
    default:
      return new AppError("PROVIDER_UNAVAILABLE", `The video service could not take the task right now; try again in a few minutes. ${NOT_CHARGED}`);
  }
}

interface FinalState {
  status: "completed" | "failed";
  progress: number;
  resultUrls: string[];
  errorCode: string | null;
  errorMessage: string | null;
  usage: unknown;
}

/**
 * Writes a terminal state and its billing record in one transaction, once:
 * the conditional update lets exactly one caller through.
 */
async function finishTask(db: Db, task: Task, final: FinalState): Promise<boolean> {
  const billedSeconds = billedSecondsFor({ mode: task.mode, durationSeconds: task.durationSeconds }, final.status);
  const cost = costAt(Number(task.pricePerSecond), billedSeconds);
  return transaction(db, async (tx) => {
    const { count } = await tx.task.updateMany({
      where: { id: task.id, status: NOT_ENDED },
      data: {
        status: final.status,
        progress: final.progress,
        resultUrls: final.resultUrls,
        errorCode: final.errorCode,
        errorMessage: final.errorMessage,
        billedSeconds,
        cost,
        reservedCost: 0,
        completedAt: new Date(),
        nextPollAt: null,
        archiveStatus: final.status === "completed" && final.resultUrls.length > 0 ? "pending" : "none",
      },
    });
    if (count !== 1) return false;
    // The budget hold is settled to the billed cost (released for 0), once: only this caller got here.
    await settleBudget(tx, task, cost);
    await tx.billingRecord.create({
      data: {
        taskId: task.id,
        userId: task.userId,
        billedSeconds,
        quality: task.quality,
        pricePerSecond: task.pricePerSecond,
        currency: task.currency,
        cost,
        usage: (final.usage ?? task.usage ?? undefined) as object | undefined,
      },
    });
    return true;
  });
}

/** Ends a task that the provider will not finish for us (deadline, unknown submission). */
export async function failTask(db: Db, task: Task, errorCode: string, errorMessage: string): Promise<boolean> {
  return finishTask(db, task, { status: "failed", progress: task.progress, resultUrls: [], errorCode, errorMessage, usage: null });
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
  if (STATUS_RANK[status] < STATUS_RANK[task.status]) return false;
  if (STATUS_RANK[status] === STATUS_RANK[task.status] && progress <= task.progress) return false;

  if (status === "completed" || status === "failed") {
    return finishTask(db, task, {
      status,
      progress: status === "completed" ? 100 : progress,
      resultUrls: reported.results ?? [],
      errorCode: reported.error?.code ?? null,
      errorMessage: reported.error?.message ?? null,
      usage: reported.usage,
    });
  }
  const { count } = await db.task.updateMany({
    where: { id: task.id, status: NOT_ENDED, progress: status === task.status ? { lt: progress } : undefined },
    data: { status, progress },
  });
  return count === 1;
}

/** Whose a task is, as its page and the admins' list show it. */
export interface TaskOwner {
  id: string;
  email: string;
  name: string | null;
}
const OWNER_SELECT = { id: true, email: true, name: true } as const;

/** What the browser sees of a task (the stored request carries the callback token, so it stays server-side). */
export interface TaskView {
  id: string;
  owner: TaskOwner;
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
  quality: string;
  currency: string;
  estimatedCost: number;
  /** Cost of the billed seconds at the price in force when the task was submitted. */
  cost: number | null;
  archiveStatus: Task["archiveStatus"];
  archiveError: string | null;
  /** Where the browser plays the result: our archived copy when there is one, else the provider's link. */
  videoUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export function toTaskView(t: Task, owner: TaskOwner): TaskView {
  return {
    id: t.id,
    owner: { id: owner.id, email: owner.email, name: owner.name },
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
    quality: t.quality,
    currency: t.currency,
    estimatedCost: Number(t.estimatedCost),
    // The stored cost, the one every total sums (written once when the task ends).
    cost: t.cost === null ? null : Number(t.cost),
    archiveStatus: t.archiveStatus,
    archiveError: t.archiveError,
    videoUrl: t.archiveStatus === "archived" ? `/api/media/${t.id}` : (t.resultUrls[0] ?? null),
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    completedAt: t.completedAt,
  };
}

export async function getTaskForUser(db: Db, user: SessionUser, id: string): Promise<Task & { user: TaskOwner }> {
  const task = await db.task.findUnique({ where: { id }, include: { user: { select: OWNER_SELECT } } });
  // Another member's task answers as missing, not as forbidden: ids are not disclosed.
  if (!task || (task.userId !== user.id && user.role !== "admin")) {
    throw new AppError("NOT_FOUND", "No such task in your history");
  }
  return task;
}

/** The callbacks received for a task, newest first, for its page. */
export async function listTaskCallbacks(db: Db, user: SessionUser, taskId: string) {
  await getTaskForUser(db, user, taskId);
  return db.callbackEvent.findMany({
    where: { taskId },
    orderBy: { receivedAt: "desc" },
    take: 50,
    select: { id: true, receivedAt: true, reportedStatus: true, confirmedStatus: true, outcome: true, detail: true },
  });
}

export async function listTasksForUser(db: Db, user: SessionUser, opts: { limit?: number } = {}): Promise<Task[]> {
  return db.task.findMany({
    where: { userId: user.id },
    orderBy: { createdAt: "desc" },
    take: Math.min(opts.limit ?? 100, 500),
  });
}

