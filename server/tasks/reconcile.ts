/**
 * The reconciler: asks the provider about tasks whose callback has not (yet)
 * come, ends tasks that passed their deadline, and resolves submissions whose
 * outcome is unknown. Each function handles one task and is safe to run twice
 * or concurrently (every write is conditional).
 */
import type { Db, Task } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { ProviderError } from "../provider/types.ts";
import { isTerminal } from "../generation/status.ts";
import { applyProviderTask, failTask, submitTask, type TaskDeps } from "./tasks.ts";
import { recordTaskEvent } from "./events.ts";
import { schedulePoll } from "./updates.ts";
import { logger, taskFields } from "../logging/logger.ts";

export interface ReconcilePolicy {
  pollIntervalSeconds: number;
  pollMaxIntervalSeconds: number;
  taskDeadlineMinutes: number;
  /** How long a submission with no answer may wait for a callback before it is given up. */
  submitUnknownGraceMinutes: number;
  /**
   * Checks in a row in which the provider says it does not know a task it
   * accepted (404, or an `invalid_task_id` / `task_not_found` code) before the
   * task is ended as `provider_lost_task`. Default 3; one such answer never
   * ends a task (the provider may be briefly inconsistent).
   */
  unknownTaskConfirmations?: number;
}

export const DEFAULT_UNKNOWN_TASK_CONFIRMATIONS = 3;
export const PROVIDER_LOST_TASK = "provider_lost_task";

/** The provider's answer means "no such task" (rather than "cannot answer now"). */
export function saysTaskUnknown(err: ProviderError): boolean {
  return err.kind === "not_found" || err.details.code === "invalid_task_id" || err.details.code === "task_not_found";
}

/**
 * How many of the latest checks in a row found the task unknown: counted on
 * the task's timeline back to the last check the provider answered with the
 * task (checks that could not reach it neither count nor break the run).
 */
export async function unknownChecksInARow(db: Db, taskId: string, limit: number): Promise<number> {
  const latest = await db.taskEvent.findMany({
    where: { taskId, kind: { in: ["poll", "not_known"] } },
    orderBy: { id: "desc" },
    take: limit,
    select: { kind: true },
  });
  const firstKnown = latest.findIndex((e) => e.kind !== "not_known");
  return firstKnown < 0 ? latest.length : firstKnown;
}

export interface ReconcileDeps {
  taskDeps: TaskDeps;
  policy: ReconcilePolicy;
  now?: () => Date;
}

/** A stored task that was never sent (crash right after the insert) is sent after this long. */
export const UNSENT_AFTER_MS = 30_000;

/** Ids of the tasks that are due for a look now. */
export async function findDueTasks(db: Db, now: Date, limit = 200): Promise<string[]> {
  const rows = await db.task.findMany({
    where: {
      status: { in: ["pending", "processing", "submitting"] },
      OR: [{ nextPollAt: null }, { nextPollAt: { lte: now } }],
      // Not the tasks being submitted right now (stored, call not yet made).
      NOT: { status: "submitting", submitAttemptedAt: null, createdAt: { gt: new Date(now.getTime() - UNSENT_AFTER_MS) } },
    },
    select: { id: true },
    orderBy: { nextPollAt: { sort: "asc", nulls: "first" } },
    take: limit,
  });
  return rows.map((r) => r.id);
}

/** Seconds until the next poll: the provider suggests ~15 s; older tasks are asked less often. */
export function pollDelaySeconds(policy: ReconcilePolicy, task: Pick<Task, "createdAt" | "pollFailures">, now: Date): number {
  const ageMinutes = (now.getTime() - task.createdAt.getTime()) / 60_000;
  const ageFactor = ageMinutes < 10 ? 1 : ageMinutes < 60 ? 2 : 4;
  const failureFactor = 2 ** Math.min(task.pollFailures, 6);
  return Math.min(policy.pollMaxIntervalSeconds, policy.pollIntervalSeconds * ageFactor * failureFactor);
}

export type ReconcileOutcome = "not_due" | "ended" | "polled" | "poll_failed" | "submitted" | "waiting";

export async function reconcileTask(deps: ReconcileDeps, taskId: string): Promise<ReconcileOutcome> {
  const { db, provider } = deps.taskDeps;
  const now = deps.now?.() ?? new Date();
  const task = await db.task.findUnique({ where: { id: taskId } });
  if (!task || isTerminal(task.status)) return "not_due";
  if (task.nextPollAt && task.nextPollAt > now) return "not_due";
  const later = (seconds: number, extra: { lastPolledAt?: Date; pollFailures?: number } = {}) =>
    schedulePoll(db, task.id, new Date(now.getTime() + seconds * 1000), extra);

  if (now.getTime() - task.createdAt.getTime() > deps.policy.taskDeadlineMinutes * 60_000) {
    if (!task.submitAttemptedAt && !task.providerTaskId) {
      // Never sent (the provider stayed busy, or the portal was down): nothing can exist there.
      await failTask(
        db,
        task,
        "not_sent",
        `The portal could not send this task within ${deps.policy.taskDeadlineMinutes} minutes (the video service kept asking it to wait). Nothing was sent or charged.`,
      );
      return "ended";
    }
    await failTask(
      db,
      task,
      "deadline_exceeded",
      `The provider did not finish this task within ${deps.policy.taskDeadlineMinutes} minutes; the portal stopped waiting. It is not billed.`,
    );
    return "ended";
  }

  if (!task.providerTaskId) {
    if (!task.submitAttemptedAt) {
      // Stored but never sent (the process stopped between the insert and the call).
      try {
        await submitTask(deps.taskDeps, task);
      } catch (err) {
        if (!(err instanceof AppError)) throw err; // refusals are recorded on the task by submitTask
      }
      return "submitted";
    }
    // Sent, but no answer reached us: the task may exist at the provider. Its
    // callback names this task and would adopt it; there is no way to look it
    // up otherwise, and resubmitting could pay twice.
    const waitedMs = now.getTime() - task.submitAttemptedAt.getTime();
    if (waitedMs > deps.policy.submitUnknownGraceMinutes * 60_000) {
      await failTask(
        db,
        task,
        "submission_unknown",
        "The provider never confirmed this submission. It may or may not have been created there; " +
          "check the provider's console before submitting it again. The portal has not billed it.",
      );
      return "ended";
    }
    await later(deps.policy.pollIntervalSeconds);
    return "waiting";
  }

  try {
    const reported = await provider.getTask(task.providerTaskId);
    await recordTaskEvent(db, task.id, {
      kind: "poll",
      source: "poll",
      status: reported.status,
      progress: Math.round(reported.progress),
    });
    // A poll that changes the task is logged where the change is written (tasks.ts); one that does not, only at debug level.
    const changed = await applyProviderTask(db, task, reported, "poll");
    if (!changed) logger().debug({ ...taskFields(task), reportedStatus: reported.status }, "poll: no change");
    await later(pollDelaySeconds(deps.policy, { createdAt: task.createdAt, pollFailures: 0 }, now), { lastPolledAt: now, pollFailures: 0 });
    return "polled";
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    const failures = task.pollFailures + 1;
    if (saysTaskUnknown(err)) {
      const needed = deps.policy.unknownTaskConfirmations ?? DEFAULT_UNKNOWN_TASK_CONFIRMATIONS;
      await recordTaskEvent(db, task.id, { kind: "not_known", source: "poll", detail: pollFailureDetail(err) });
      logger().warn({ ...taskFields(task), detail: pollFailureDetail(err) }, "poll: the provider does not know the task");
      const inARow = await unknownChecksInARow(db, task.id, needed);
      if (inARow >= needed) {
        await failTask(
          db,
          task,
          PROVIDER_LOST_TASK,
          `The video service no longer knows this task: it answered ${inARow} checks in a row that it has no such task, ` +
            "so it will not finish it. Nothing was charged; run it again if you still want the video.",
        );
        return "ended";
      }
    } else {
      await recordTaskEvent(db, task.id, { kind: "poll_failed", source: "poll", detail: pollFailureDetail(err) });
      logger().info({ ...taskFields(task), failures, detail: pollFailureDetail(err) }, "poll failed");
    }
    const delay =
      err.kind === "rate_limited"
        ? Math.max(err.details.retryAfterSeconds ?? 60, pollDelaySeconds(deps.policy, task, now))
        : pollDelaySeconds(deps.policy, { createdAt: task.createdAt, pollFailures: failures }, now);
    await later(delay, { lastPolledAt: now, pollFailures: failures });
    return "poll_failed";
  }
}

/** Why a check failed, for the timeline (no URLs, no keys). */
function pollFailureDetail(err: ProviderError): string {
  if (err.kind === "rate_limited") return "The service asked the portal to slow down.";
  if (err.kind === "network") return "The service could not be reached.";
  if (saysTaskUnknown(err)) return `The service answered that it has no such task (HTTP ${err.details.status ?? "?"}${err.details.code ? `, ${err.details.code}` : ""}).`;
  if (err.details.status) return `The service answered HTTP ${err.details.status}.`;
  return "The service's answer could not be read.";
}
