/**
 * Task statuses and their order, shared by the server (monotonic updates) and
 * the pages (poll while a task runs). Pure: safe to import in the browser.
 */
import type { TaskStatus } from "../db/client.ts";

export const TERMINAL_STATUSES: readonly TaskStatus[] = ["completed", "failed"];

/** A status never moves to a lower rank. */
export const STATUS_RANK: Record<TaskStatus, number> = { submitting: 0, pending: 1, processing: 2, completed: 3, failed: 3 };

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Prisma filter for tasks that have not ended: every state change is conditional on it. */
export const NOT_ENDED = { notIn: [...TERMINAL_STATUSES] };
