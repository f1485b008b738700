/**
 * The Task row's bookkeeping writes that other domains ask for (callbacks,
 * the reconciler, the archiver). Every write to a Task row lives in tasks/:
 * state changes and billing in tasks.ts, these small conditional updates
 * here. Each is conditional, so it is safe to repeat or to race; the ones a
 * person would want on the task's timeline write its event in the same
 * transaction.
 */
import { transaction, type Db } from "../db/client.ts";
import { NOT_ENDED } from "../generation/status.ts";
import { recordTaskEvent } from "./events.ts";

/** Asks the reconciler to look at a running task at once (a callback could not be confirmed). */
export async function pollSoon(db: Db, taskId: string, now = new Date()): Promise<void> {
  await db.task.updateMany({ where: { id: taskId, status: NOT_ENDED }, data: { nextPollAt: now } });
}

/** Schedules the next poll of a running task, with what the last poll found. */
export async function schedulePoll(db: Db, taskId: string, at: Date, extra: { lastPolledAt?: Date; pollFailures?: number } = {}): Promise<void> {
  await db.task.updateMany({ where: { id: taskId, status: NOT_ENDED }, data: { nextPollAt: at, ...extra } });
}

/**
 * Records the provider's id for a task whose create answer was lost, once
 * the provider confirmed it (its callback named this task).
 */
export async function adoptProviderTaskId(db: Db, taskId: string, providerTaskId: string): Promise<void> {
  await db.task.updateMany({ where: { id: taskId, providerTaskId: null }, data: { providerTaskId, submittedAt: new Date() } });
}

/** Counts an attempt to archive the result; false when the task is not waiting for one. */
export async function claimArchiveAttempt(db: Db, taskId: string): Promise<boolean> {
  const { count } = await db.task.updateMany({ where: { id: taskId, archiveStatus: "pending" }, data: { archiveAttempts: { increment: 1 } } });
  return count === 1;
}

/** The result is in our storage under `key`. */
export async function recordArchived(db: Db, taskId: string, key: string, detail?: string): Promise<void> {
  await transaction(db, async (tx) => {
    const { count } = await tx.task.updateMany({
      where: { id: taskId, archiveStatus: "pending" },
      data: { archiveStatus: "archived", archiveKey: key, archivedAt: new Date(), archiveError: null },
    });
    if (count === 1) await recordTaskEvent(tx, taskId, { kind: "archived", source: "portal", detail });
  });
}

/** An archive attempt failed; after the last allowed one the archive is given up (`failed`). */
export async function recordArchiveFailure(db: Db, taskId: string, message: string, givenUp: boolean): Promise<void> {
  await transaction(db, async (tx) => {
    const { count } = await tx.task.updateMany({
      where: { id: taskId, archiveStatus: "pending" },
      data: { archiveError: message, archiveStatus: givenUp ? "failed" : "pending" },
    });
    if (count === 1) {
      await recordTaskEvent(tx, taskId, {
        kind: "archive_failed",
        source: "portal",
        detail: givenUp ? `${message} The portal gave up; the service's own link works until it expires.` : `${message} It tries again.`,
      });
    }
  });
}
