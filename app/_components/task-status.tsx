import type { TaskView } from "@/server/tasks/tasks.ts";

const LABELS: Record<TaskView["status"], string> = {
  submitting: "Submitting",
  pending: "Queued",
  processing: "Generating",
  completed: "Completed",
  failed: "Failed",
};

export function StatusBadge({ status }: { status: TaskView["status"] }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      {LABELS[status]}
    </span>
  );
}

export function billedLabel(task: Pick<TaskView, "billedSeconds">): string {
  return task.billedSeconds === null ? "—" : `${task.billedSeconds} s`;
}

export function modeLabel(mode: TaskView["mode"]): string {
  return { first_frame: "First frame", first_last_frame: "First + last frame", video_continuation: "Continuation" }[mode];
}
