/**
 * The provider's task object (API-NOTES.md, "Task object"), made from a
 * portal task: the portal's own id (opaque to clients), the provider's
 * statuses (a task the portal is still sending is `pending`), and in
 * `results` the portal's link to the video, which serves the archived copy
 * once it exists and redirects to the provider's link until then, and does
 * not expire with the provider's 24 hours (results.ts).
 */
import { MODEL_ID } from "../provider/types.ts";
import type { TaskView } from "../tasks/tasks.ts";

export type V1Status = "pending" | "processing" | "completed" | "failed";

export interface V1Task {
  created: number;
  id: string;
  model: string;
  object: "video.generation.task";
  progress: number;
  status: V1Status;
  task_info: { can_cancel: boolean; video_duration: number };
  type: "video";
  /** The portal bills per second of video; these are the task's figures once it has ended. */
  usage: { billing_rule: "per_second"; billed_seconds: number | null; cost: number | null; estimated_cost: number; currency: string };
  results?: string[];
  error?: { code: string; message: string };
}

export type V1TaskSource = Pick<
  TaskView,
  "id" | "status" | "progress" | "durationSeconds" | "billedSeconds" | "cost" | "estimatedCost" | "currency" | "errorCode" | "errorMessage" | "createdAt" | "filesDeletedAt"
>;

export function toV1Status(status: TaskView["status"]): V1Status {
  return status === "submitting" ? "pending" : status;
}

/** `resultLink(taskId)`: the portal's lasting link to a completed task's video. */
export function toV1Task(task: V1TaskSource, resultLink: (taskId: string) => string): V1Task {
  const status = toV1Status(task.status);
  return {
    created: Math.floor(task.createdAt.getTime() / 1000),
    id: task.id,
    model: MODEL_ID,
    object: "video.generation.task",
    progress: status === "completed" ? 100 : task.progress,
    status,
    task_info: { can_cancel: false, video_duration: task.durationSeconds },
    type: "video",
    usage: { billing_rule: "per_second", billed_seconds: task.billedSeconds, cost: task.cost, estimated_cost: task.estimatedCost, currency: task.currency },
    ...(status === "completed" && task.filesDeletedAt === null && { results: [resultLink(task.id)] }),
    ...(status === "failed" && { error: { code: task.errorCode ?? "unknown_error", message: task.errorMessage ?? "The task failed." } }),
  };
}
