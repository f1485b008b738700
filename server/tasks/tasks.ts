/**
 * Generation tasks: create (store first, then submit), read, list, and apply
 * a state reported by the provider (callback or poll) monotonically.
 */
import { randomUUID } from "node:crypto";
import { billedSecondsFor, costAt, estimateCost, type PriceTable } from "../billing/billing.ts";
import { noteRefusal, OverBudgetError, reserveBudget, settleBudgetCtes, type BudgetAlert } from "../budgets/budgets.ts";
import { Prisma, transaction, type Db, type Task, type TaskStatus } from "../db/client.ts";
import { REPORTING_TIME_ZONE_KEY, timeZoneOfSetting } from "../settings/settings.ts";
import { monthOf } from "../usage/periods.ts";
import { AppError } from "../errors.ts";
import { ProviderError, type GenerationRequestBody, type ProviderTask, type VideoProvider } from "../provider/types.ts";
import { checkGenerationMedia, hasFieldErrors, summarizeFieldErrors, type MediaCheckCache, type MediaFetcher } from "../media/index.ts";
import type { SessionUser } from "../users/users.ts";
import { toProviderBody, type GenerationInput } from "../generation/request-schema.ts";
import { isTerminal, NOT_ENDED, STATUS_RANK } from "../generation/status.ts";
import { storableText } from "../http/text.ts";
import { recordTaskEvent, recordTaskEvents, taskEventsJson, type TaskEventKind, type TaskEventSource } from "./events.ts";

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
  /** Recent checks of the same file, reused for a short time (server/media/check.ts). */
  mediaChecks?: MediaCheckCache;
  /**
   * Test seam: runs after the provider accepted a task and before the portal
   * records it. Throwing here is a crash at the worst moment.
   */
  afterProviderAnswer?: (answer: ProviderTask) => void | Promise<void>;
}

export interface CreateTaskOptions {
  /** Idempotency key from the form (or the /v1 API's, per key): the same key returns the same task. */
  clientRequestId?: string;
  /** Made through the /v1 API with this personal key (null or absent: the form). */
  apiKeyId?: string;
  /** The /v1 caller's callback_url, sent the task object when the task ends. */
  clientCallbackUrl?: string;
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
  // One round trip: whether this request was already stored (same key), and the reporting time zone.
  const [first] = await deps.db.$queryRaw<Array<{ existing: string | null; timeZone: unknown }>>`
    SELECT (SELECT id FROM "Task" WHERE "userId" = ${user.id} AND "clientRequestId" = ${opts.clientRequestId ?? null}) AS existing,
           (SELECT value FROM "TeamSetting" WHERE key = ${REPORTING_TIME_ZONE_KEY}) AS "timeZone"`;
  if (opts.clientRequestId && first?.existing) {
    const existing = await sameRequest(opts.clientRequestId);
    if (existing) return existing;
  }
  const timeZone = timeZoneOfSetting(first?.timeZone, deps.defaultTimeZone);
  // The media rules, checked on the files themselves where the portal can fetch them.
  const media = await checkGenerationMedia(input, { fetchMedia: deps.fetchMedia, cache: deps.mediaChecks });
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
    // The estimate is held against the budgets in the transaction that stores the task,
    // as its last statement: every submit locks the team's ledger row until COMMIT, so
    // the row and its event are written first and the lock is held as briefly as it can be.
    task = await transaction(deps.db, async (tx) => {
      const created = await tx.task.create({
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
        budgetMonth: monthOf(now, timeZone),
        status: "submitting",
        apiKeyId: opts.apiKeyId ?? null,
        clientCallbackUrl: opts.clientCallbackUrl ?? null,
        // The instant the budget month was taken from: usage and budgets count the task in the same period.
        createdAt: now,
      },
    });
      await recordTaskEvent(tx, id, { kind: "stored", status: "submitting", source: "portal" });
      // Over budget: throws, and the transaction stores nothing.
      const reserved = await reserveBudget(tx, { userId: user.id, estimate, timeZone, currency: deps.prices.currency, now });
      alerts = reserved.alerts;
      return created;
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
  // Claim the submission: only one caller may make the paid call for a task,
  // and none after its owner cancelled it (cancelTask needs the same row unclaimed).
  // One statement (atomic without a transaction of its own): the claim and its timeline line.
  const at = new Date();
  const claimed =
    (await deps.db.$executeRaw`
      WITH claimed AS (
        UPDATE "Task" SET "submitAttemptedAt" = ${at}, "updatedAt" = ${at}
        WHERE id = ${id} AND status = 'submitting' AND "submitAttemptedAt" IS NULL
        RETURNING id
      )
      INSERT INTO "TaskEvent" ("taskId", "at", kind, source) SELECT id, ${at}, 'sent', 'submit' FROM claimed`) === 1;
  if (!claimed) return deps.db.task.findUniqueOrThrow({ where: { id } });
  return sendClaimed(deps, { ...task, submitAttemptedAt: at, updatedAt: at });
}

/**
 * Makes the paid create call for a task this caller has claimed
 * (submitAttemptedAt set by it) and records the answer.
 */
async function sendClaimed(deps: TaskDeps, task: Task): Promise<Task> {
  const { id } = task;
  let answer: ProviderTask;
  try {
    answer = await deps.provider.createGeneration(task.request as unknown as GenerationRequestBody, { idempotencyKey: id });
  } catch (err) {
    // outcomeUnknown: the request may have reached the provider (502, timeout, cut connection, unreadable answer).
    if (err instanceof ProviderError && err.kind === "rate_limited" && !err.outcomeUnknown) {
      // Busy (429) past the client's own retries: nothing was started. The
      // claim is given back and the reconciler sends the task when the
      // provider asked; until then its owner may still cancel it.
      await deferSubmission(deps.db, id, err.details.retryAfterSeconds);
      return deps.db.task.findUniqueOrThrow({ where: { id } });
    }
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
      }, { source: "submit" });
      throw refusal;
    }
    // No answer: the task may exist at the provider. Its callback (which names
    // this task) or the reconciler resolves it; it is never resubmitted blindly.
    await transaction(deps.db, async (tx) => {
      await tx.task.update({
        where: { id },
        data: { errorMessage: "The provider did not confirm the submission yet; the portal is checking." },
      });
      await recordTaskEvent(tx, id, { kind: "no_answer", source: "submit", detail: noAnswerDetail(err) });
    });
    return deps.db.task.findUniqueOrThrow({ where: { id } });
  }
  await deps.afterProviderAnswer?.(answer);

  // The usual answer (queued or running, to a task nothing else has touched): its id, its
  // state and both timeline lines in one statement (atomic without a transaction of its own);
  // the task returned is the one stored with what this statement wrote.
  const status: TaskStatus = answer.status;
  if (!isTerminal(status) && STATUS_RANK[status] > STATUS_RANK.submitting) {
    const progress = Math.round(answer.progress);
    const at = new Date();
    const usage = answer.usage ?? null;
    const events = taskEventsJson(id, [
      { kind: "accepted", source: "submit", detail: answer.id },
      { kind: "progress", status, progress, source: "submit" },
    ]);
    const recorded = await deps.db.$executeRaw`
      WITH accepted AS (
        UPDATE "Task" SET "providerTaskId" = ${answer.id}, "usage" = COALESCE(${usage === null ? null : JSON.stringify(usage)}::jsonb, "usage"),
          "submittedAt" = ${at}, "errorMessage" = NULL, "status" = ${status}::"TaskStatus", "progress" = ${progress}, "updatedAt" = ${at}
        WHERE "id" = ${id} AND "providerTaskId" IS NULL AND "status" = 'submitting'
        RETURNING "id"
      )
      INSERT INTO "TaskEvent" ("taskId", "at", "kind", "status", "progress", "source", "detail")
      SELECT accepted."id", ${at}, e.v->>'kind', (e.v->>'status')::"TaskStatus", (e.v->>'progress')::int, e.v->>'source', e.v->>'detail'
      FROM accepted, jsonb_array_elements(${events}::jsonb) WITH ORDINALITY AS e(v, n)
      ORDER BY e.n`;
    if (recorded === 2) {
      return { ...task, providerTaskId: answer.id, usage: (usage ?? task.usage) as Task["usage"], submittedAt: at, errorMessage: null, status, progress, updatedAt: at };
    }
  }

  // Otherwise (the task already moved, or the answer is final): the id first, then the state
  // through the same monotonic path as callbacks and polls.
  await transaction(deps.db, async (tx) => {
    const { count } = await tx.task.updateMany({
      where: { id, providerTaskId: null },
      data: {
        providerTaskId: answer.id,
        usage: (answer.usage ?? undefined) as object | undefined,
        submittedAt: new Date(),
        errorMessage: null,
      },
    });
    if (count === 1) await recordTaskEvent(tx, id, { kind: "accepted", source: "submit", detail: answer.id });
  });
  const stored = await deps.db.task.findUniqueOrThrow({ where: { id } });
  await applyProviderTask(deps.db, stored, answer, "submit");
  return deps.db.task.findUniqueOrThrow({ where: { id } });
}

/** Why a submission's outcome is unknown, for the timeline (no URLs, no keys). */
function noAnswerDetail(err: unknown): string {
  if (err instanceof ProviderError) {
    if (err.kind === "upstream") return "The service answered 502 (its upstream failed) after the request reached it.";
    if (err.kind === "network") return "The connection ended without an answer (a timeout or a cut connection).";
    if (err.kind === "invalid_response") return "The service's answer could not be read.";
  }
  return "No readable answer came back.";
}

/** Seconds to wait before sending a task again when the provider said it is busy and named no time. */
export const BUSY_RETRY_SECONDS = 60;

/**
 * Gives a claimed submission back after the provider said "busy" (429):
 * nothing was started, so the task may be sent again, by the reconciler, from
 * `retryAfterSeconds` on. Conditional on the claim still being unanswered.
 */
async function deferSubmission(db: Db, id: string, retryAfterSeconds: number | undefined): Promise<void> {
  const seconds = Math.max(1, retryAfterSeconds ?? BUSY_RETRY_SECONDS);
  const at = new Date(Date.now() + seconds * 1000);
  await transaction(db, async (tx) => {
    const { count } = await tx.task.updateMany({
      where: { id, status: "submitting", providerTaskId: null, submitAttemptedAt: { not: null } },
      data: {
        submitAttemptedAt: null,
        nextPollAt: at,
        errorMessage: "The video service is busy; the portal sends the task again when it asked to. Nothing has been charged.",
      },
    });
    if (count === 1) {
      await recordTaskEvent(tx, id, { kind: "deferred", source: "submit", detail: `The service asked the portal to wait ${seconds} s before sending it again.` });
    }
  });
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

interface FinishOptions {
  /** Where the final state came from, for the timeline. */
  source: TaskEventSource;
  /** The timeline's word for it; the final status by default. */
  kind?: TaskEventKind;
  /** Further conditions on the row (a cancel: only while nothing was sent). */
  onlyIf?: { status?: TaskStatus; submitAttemptedAt?: null; providerTaskId?: null };
  /** A provider callback that brought this state: its timeline line and its log row, written with the change. */
  callback?: CallbackRecord;
}

/**
 * What a provider callback leaves behind, whatever it changes: a line of the
 * task's timeline (before the change it brings) and a CallbackEvent row whose
 * outcome is "applied" when it changed the task, else "duplicate".
 */
export interface CallbackRecord {
  line: string;
  reportedStatus: string;
  confirmedStatus: string;
  detail?: string;
}

/**
 * Writes a terminal state, its budget settlement, its billing record and its
 * timeline event (and a callback's line and log) in one statement, once: the
 * conditional update lets exactly one caller through, and the rest of the
 * statement writes nothing but the callback's line and log unless it did.
 */
async function finishTask(db: Db, task: Task, final: FinalState, opts: FinishOptions): Promise<boolean> {
  const billedSeconds = billedSecondsFor({ mode: task.mode, durationSeconds: task.durationSeconds }, final.status);
  const cost = costAt(Number(task.pricePerSecond), billedSeconds);
  const at = new Date();
  const onlyIf = opts.onlyIf ?? {};
  const usage = final.usage ?? task.usage ?? null;
  const archive = final.status === "completed" && final.resultUrls.length > 0 ? "pending" : "none";
  // The callback's line is written whatever happens (first: it comes before the change); the end's only with the change.
  const log = opts.callback;
  const events = taskEventsJson(task.id, [
    ...(log ? [{ kind: "callback" as const, source: "callback" as const, detail: log.line, always: true }] : []),
    { kind: opts.kind ?? final.status, status: final.status, progress: final.progress, source: opts.source, detail: final.errorCode },
  ]);
  const [row] = await db.$queryRaw<Array<{ changed: number }>>`
    WITH ended AS (
      UPDATE "Task" SET "status" = ${final.status}::"TaskStatus", "progress" = ${final.progress}, "resultUrls" = ${final.resultUrls}::text[],
        "errorCode" = ${final.errorCode}, "errorMessage" = ${final.errorMessage}, "billedSeconds" = ${billedSeconds}, "cost" = ${cost},
        "reservedCost" = 0, "completedAt" = ${at}, "nextPollAt" = NULL, "archiveStatus" = ${archive}::"ArchiveStatus", "updatedAt" = ${at},
        "clientCallbackStatus" = CASE WHEN "clientCallbackUrl" IS NULL THEN "clientCallbackStatus" ELSE 'pending' END
      WHERE "id" = ${task.id} AND "status" NOT IN ('completed', 'failed')
        AND (${onlyIf.status ?? null}::"TaskStatus" IS NULL OR "status" = ${onlyIf.status ?? null}::"TaskStatus")
        AND (NOT ${"submitAttemptedAt" in onlyIf}::boolean OR "submitAttemptedAt" IS NULL)
        AND (NOT ${"providerTaskId" in onlyIf}::boolean OR "providerTaskId" IS NULL)
      RETURNING "id"
    ), ${task.budgetMonth ? settleBudgetCtes(task, cost, "ended") : Prisma.sql`settle_none AS (SELECT 1)`}, billing AS (
      INSERT INTO "BillingRecord" ("id", "taskId", "userId", "billedSeconds", "quality", "pricePerSecond", "currency", "cost", "usage", "createdAt")
      SELECT ${randomUUID()}, "id", ${task.userId}, ${billedSeconds}, ${task.quality}, ${task.pricePerSecond}, ${task.currency}, ${cost},
             ${usage === null ? null : JSON.stringify(usage)}::jsonb, ${at}
      FROM ended
    ), events AS (
      INSERT INTO "TaskEvent" ("taskId", "at", "kind", "status", "progress", "source", "detail")
      SELECT e.v->>'taskId', ${at}, e.v->>'kind', (e.v->>'status')::"TaskStatus", (e.v->>'progress')::int, e.v->>'source', e.v->>'detail'
      FROM jsonb_array_elements(${events}::jsonb) WITH ORDINALITY AS e(v, n)
      WHERE (e.v->>'always')::boolean OR EXISTS (SELECT 1 FROM ended)
      ORDER BY e.n
    ), logged AS (
      INSERT INTO "CallbackEvent" ("id", "taskId", "receivedAt", "reportedStatus", "confirmedStatus", "outcome", "detail")
      SELECT ${randomUUID()}, ${task.id}, ${at}, ${log?.reportedStatus ?? null}, ${log?.confirmedStatus ?? null},
             CASE WHEN EXISTS (SELECT 1 FROM ended) THEN 'applied' ELSE 'duplicate' END, ${log?.detail ?? null}
      WHERE ${log !== undefined}::boolean
    )
    SELECT (SELECT count(*)::int FROM ended) AS changed`;
  return row?.changed === 1;
}

/** Ends a task that the provider will not finish for us (deadline, unknown submission). */
export async function failTask(db: Db, task: Task, errorCode: string, errorMessage: string): Promise<boolean> {
  return finishTask(db, task, { status: "failed", progress: task.progress, resultUrls: [], errorCode, errorMessage, usage: null }, { source: "portal" });
}

/** Whether a task can still be cancelled: stored, and its paid call never attempted. */
export function isCancellable(task: Pick<Task, "status" | "submitAttemptedAt" | "providerTaskId">): boolean {
  return task.status === "submitting" && task.submitAttemptedAt === null && task.providerTaskId === null;
}

/**
 * The owner cancels a task whose paid call has not been attempted. The end
 * is written by the same conditional, once-only path as every end (budget
 * hold released once, a billing record of 0 s), with the extra condition
 * that the submission is still unclaimed: a submit racing it either claimed
 * first (the cancel is refused) or finds the task ended and never calls.
 */
export async function cancelTask(db: Db, user: SessionUser, taskId: string): Promise<Task> {
  const task = await getTaskForUser(db, user, taskId);
  if (task.userId !== user.id) throw new AppError("FORBIDDEN", "Only the person who started this task can cancel it.");
  const refuse = (t: Task): never => {
    if (isTerminal(t.status)) throw new AppError("CONFLICT", "This task has already ended; there is nothing to cancel.");
    throw new AppError(
      "CONFLICT",
      "The portal has already sent this task to the video service, so it can no longer be cancelled: the service may still make and bill the video. The page says how long the portal waits for it.",
    );
  };
  if (!isCancellable(task)) refuse(task);
  const ended = await finishTask(
    db,
    task,
    {
      status: "failed",
      progress: 0,
      resultUrls: [],
      errorCode: "cancelled",
      errorMessage: "You cancelled this task before it was sent to the video service. Nothing was charged.",
      usage: null,
    },
    { source: "owner", kind: "cancelled", onlyIf: { status: "submitting", submitAttemptedAt: null, providerTaskId: null } },
  );
  const now = await db.task.findUniqueOrThrow({ where: { id: task.id } });
  if (!ended) refuse(now);
  return now;
}

/**
 * Records a provider-reported state. Never moves backwards; a terminal state
 * (with its billing) is written once, by whichever caller gets there first.
 * Returns true when something changed. With `callback`, the callback's
 * timeline line (before the change) and its log row are written too, in the
 * same statement as a terminal state.
 */
export async function applyProviderTask(db: Db, task: Task, reported: ProviderTask, source: TaskEventSource = "poll", callback?: CallbackRecord): Promise<boolean> {
  const status: TaskStatus = reported.status;
  const progress = Math.round(reported.progress);
  if (status === "completed" || status === "failed") {
    // A task already ended is left alone by the statement's condition; the callback is still recorded.
    if (isTerminal(task.status) && !callback) return false;
    return finishTask(db, task, {
      status,
      progress: status === "completed" ? 100 : progress,
      resultUrls: reported.results ?? [],
      errorCode: reported.error?.code ?? null,
      errorMessage: reported.error?.message ?? null,
      usage: reported.usage,
    }, { source, callback });
  }
  if (callback) await recordTaskEvent(db, task.id, { kind: "callback", source: "callback", detail: callback.line });
  const changed = await applyProgress(db, task, status, progress, source);
  if (callback) await logCallback(db, task.id, callback, changed ? "applied" : "duplicate");
  return changed;
}

/**
 * A provider callback's first statement: when the task has already ended and
 * the body names its provider task (or it has none yet), records the callback
 * as a duplicate — its log row and its timeline line — and answers true; else
 * writes nothing and answers false (the caller reads the task and goes on).
 * Providers deliver a callback up to 4 times, seconds apart, so for most
 * deliveries this one statement is all the work there is.
 */
export async function recordCallbackToEndedTask(db: Db, taskId: string, reported: { id: string; status: string }): Promise<boolean> {
  const status = storableText(reported.status);
  const [row] = await db.$queryRaw<Array<{ duplicate: boolean }>>`
    WITH dup AS (
      SELECT "id", "status"::text AS status FROM "Task"
      WHERE "id" = ${taskId} AND "status" IN ('completed', 'failed') AND ("providerTaskId" IS NULL OR "providerTaskId" = ${reported.id})
    ), logged AS (
      INSERT INTO "CallbackEvent" ("id", "taskId", "receivedAt", "reportedStatus", "outcome", "detail")
      SELECT ${randomUUID()}, "id", now(), ${status}, 'duplicate', 'the task had already ended (' || status || ')' FROM dup
    ), line AS (
      INSERT INTO "TaskEvent" ("taskId", "at", "kind", "source", "detail")
      SELECT "id", now(), 'callback', 'callback', 'It said ' || ${status} || '; the task had already ended (' || status || '), so nothing changes.' FROM dup
    )
    SELECT EXISTS (SELECT 1 FROM dup) AS duplicate`;
  return row?.duplicate === true;
}

async function applyProgress(db: Db, task: Task, status: TaskStatus, progress: number, source: TaskEventSource): Promise<boolean> {
  if (isTerminal(task.status)) return false;
  if (STATUS_RANK[status] < STATUS_RANK[task.status]) return false;
  if (STATUS_RANK[status] === STATUS_RANK[task.status] && progress <= task.progress) return false;
  return transaction(db, async (tx) => {
    const { count } = await tx.task.updateMany({
      where: { id: task.id, status: NOT_ENDED, progress: status === task.status ? { lt: progress } : undefined },
      data: { status, progress },
    });
    if (count === 1) await recordTaskEvent(tx, task.id, { kind: "progress", status, progress, source });
    return count === 1;
  });
}

async function logCallback(db: Db, taskId: string, callback: CallbackRecord, outcome: "applied" | "duplicate"): Promise<void> {
  await db.callbackEvent.create({
    data: { taskId, outcome, reportedStatus: callback.reportedStatus, confirmedStatus: callback.confirmedStatus, detail: callback.detail },
  });
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
  /** Where the browser plays the result: our archived copy when there is one, else the provider's link; null once deleted. */
  videoUrl: string | null;
  /** When the owner deleted the video and uploaded inputs from the portal's storage. */
  filesDeletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

/** The columns a TaskView is made of (lists select only these: not the stored request or usage). */
export const TASK_VIEW_SELECT = {
  id: true,
  mode: true,
  prompt: true,
  status: true,
  progress: true,
  providerTaskId: true,
  resultUrls: true,
  errorCode: true,
  errorMessage: true,
  durationSeconds: true,
  billedSeconds: true,
  quality: true,
  currency: true,
  estimatedCost: true,
  cost: true,
  archiveStatus: true,
  archiveError: true,
  filesDeletedAt: true,
  createdAt: true,
  updatedAt: true,
  completedAt: true,
} as const satisfies Partial<Record<keyof Task, true>>;
export type TaskViewRow = Pick<Task, keyof typeof TASK_VIEW_SELECT>;

export function toTaskView(t: TaskViewRow, owner: TaskOwner): TaskView {
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
    videoUrl: t.filesDeletedAt ? null : t.archiveStatus === "archived" ? `/api/media/${t.id}` : (t.resultUrls[0] ?? null),
    filesDeletedAt: t.filesDeletedAt,
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

/** A person's task as the "task ended" notice needs it. */
export interface ActivityTask {
  id: string;
  status: TaskStatus;
  progress: number;
  /** The prompt's start, to name the task. */
  prompt: string;
  completedAt: Date | null;
}

/** At most this many rows answer one activity query. */
export const ACTIVITY_LIMIT = 20;

/**
 * The person's running tasks and those that ended after `since`, in one small
 * query (index on userId, completedAt), for the portal-wide notice that a task
 * ended. `now` is the server's clock, for the next call's `since`.
 */
export async function taskActivity(db: Db, user: SessionUser, since?: Date): Promise<{ now: Date; tasks: ActivityTask[] }> {
  const now = new Date();
  const rows = await db.task.findMany({
    where: { userId: user.id, OR: [{ completedAt: null }, ...(since ? [{ completedAt: { gt: since } }] : [])] },
    select: { id: true, status: true, progress: true, prompt: true, completedAt: true },
    orderBy: { createdAt: "desc" },
    take: ACTIVITY_LIMIT,
  });
  return { now, tasks: rows.map((t) => ({ ...t, prompt: Array.from(t.prompt).slice(0, 80).join("") })) };
}

export async function listTasksForUser(db: Db, user: SessionUser, opts: { limit?: number } = {}): Promise<Task[]> {
  return db.task.findMany({
    where: { userId: user.id },
    orderBy: { createdAt: "desc" },
    take: Math.min(opts.limit ?? 100, 500),
  });
}

