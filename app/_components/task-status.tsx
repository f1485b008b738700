import { MODE_LABELS } from "@/server/generation/labels.ts";
import type { TaskView } from "@/server/tasks/tasks.ts";

/** How each status is named to people (badges, filters). */
export const STATUS_LABELS: Readonly<Record<TaskView["status"], string>> = {
  submitting: "Submitting",
  pending: "Queued",
  processing: "Generating",
  completed: "Completed",
  failed: "Failed",
};

/** A task's status; a task its owner cancelled before it was sent says so rather than "Failed". */
export function StatusBadge({ status, errorCode }: { status: TaskView["status"]; errorCode?: string | null }) {
  const cancelled = status === "failed" && errorCode === "cancelled";
  return (
    <span className={`badge badge-${cancelled ? "cancelled" : status}`} data-status={status} data-cancelled={cancelled || undefined}>
      {cancelled ? "Cancelled" : STATUS_LABELS[status]}
    </span>
  );
}

export function billedLabel(task: Pick<TaskView, "billedSeconds">): string {
  return task.billedSeconds === null ? "—" : `${task.billedSeconds} s`;
}

export function modeLabel(mode: TaskView["mode"]): string {
  return MODE_LABELS[mode];
}
