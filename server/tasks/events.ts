/**
 * A task's timeline (TaskEvent rows): what happened to it, in order. The
 * writers are the functions of server/tasks/ that make the change an event
 * records, inside the same transaction where there is one, so the timeline
 * never shows a change that did not happen nor misses one that did
 * (docs/decisions/0014-task-events-cancel-delete.md). The page reads it
 * through `listTaskTimeline`, with the words `describeTaskEvent` gives.
 */
import type { Prisma, TaskStatus } from "../db/client.ts";
import { storableText } from "../http/text.ts";

export const TASK_EVENT_KINDS = [
  "stored",
  "sent",
  "deferred",
  "no_answer",
  "accepted",
  "progress",
  "callback",
  "poll",
  "poll_failed",
  "not_known",
  "completed",
  "failed",
  "cancelled",
  "archived",
  "archive_failed",
  "files_deleted",
] as const;
export type TaskEventKind = (typeof TASK_EVENT_KINDS)[number];

/** Where a state change came from. */
export type TaskEventSource = "submit" | "callback" | "poll" | "portal" | "owner" | "retention";

export interface TaskEventInput {
  kind: TaskEventKind;
  status?: TaskStatus;
  progress?: number;
  source?: TaskEventSource;
  detail?: string | null;
}

/** A client or a transaction: whatever the change being recorded is written with. */
export type EventWriter = Pick<Prisma.TransactionClient, "taskEvent">;

const MAX_DETAIL_CHARS = 1000;

function eventRow(taskId: string, event: TaskEventInput) {
  return {
    taskId,
    kind: event.kind,
    status: event.status ?? null,
    progress: event.progress ?? null,
    source: event.source ?? null,
    detail: event.detail ? storableText(event.detail.slice(0, MAX_DETAIL_CHARS)) : null,
  };
}

/** Appends one event to a task's timeline. */
export async function recordTaskEvent(db: EventWriter, taskId: string, event: TaskEventInput): Promise<void> {
  await db.taskEvent.create({ data: eventRow(taskId, event) });
}

/**
 * Rows for a statement that writes timeline lines itself (as JSON, read with
 * jsonb_array_elements … WITH ORDINALITY so ids follow the array's order).
 */
export function taskEventsJson(taskId: string, events: Array<TaskEventInput & { always?: boolean }>): string {
  return JSON.stringify(events.map((e) => ({ ...eventRow(taskId, e), always: e.always ?? false })));
}

/** Appends several events in their order, in one statement (ids follow the array's order). */
export async function recordTaskEvents(db: EventWriter, taskId: string, events: TaskEventInput[]): Promise<void> {
  await db.taskEvent.createMany({ data: events.map((e) => eventRow(taskId, e)) });
}

/** One line of the timeline as the page shows it. */
export interface TimelineEntry {
  id: string;
  at: Date;
  kind: string;
  title: string;
  detail: string | null;
}

const STATUS_WORDS: Record<TaskStatus, string> = {
  submitting: "submitting",
  pending: "queued",
  processing: "generating",
  completed: "completed",
  failed: "failed",
};

const FROM: Record<TaskEventSource, string> = {
  submit: "from the answer to the submission",
  callback: "reported by a callback, confirmed with the service",
  poll: "found by the portal's check",
  portal: "by the portal",
  owner: "by its owner",
  retention: "by the portal's retention setting",
};

/** The words of an event, for people; unknown kinds (from a later version) are shown as they are. */
export function describeTaskEvent(e: { kind: string; status: TaskStatus | null; progress: number | null; source: string | null; detail: string | null }): {
  title: string;
  detail: string | null;
} {
  const from = e.source && e.source in FROM ? FROM[e.source as TaskEventSource] : null;
  const state = e.status ? `${STATUS_WORDS[e.status]}${e.progress !== null && e.status === "processing" ? `, ${e.progress} %` : ""}` : null;
  switch (e.kind as TaskEventKind) {
    case "stored":
      return { title: "Stored by the portal (nothing sent or charged yet)", detail: e.detail };
    case "sent":
      return { title: "Sent to the video service (the paid call)", detail: e.detail };
    case "deferred":
      return { title: "The video service was busy: not sent, the portal tries again later", detail: e.detail };
    case "no_answer":
      return { title: "No answer to the submission: the portal waits for the service to report it", detail: e.detail };
    case "accepted":
      return { title: "Accepted by the video service", detail: e.detail ? `Its task id: ${e.detail}` : null };
    case "progress":
      return { title: `Now ${state ?? "running"}`, detail: from };
    case "callback":
      return { title: "Callback from the video service", detail: e.detail };
    case "poll":
      return { title: "Checked with the video service", detail: e.detail ?? (state ? `It says ${state}` : null) };
    case "poll_failed":
      return { title: "Could not check with the video service (will try again)", detail: e.detail };
    case "not_known":
      return { title: "The video service said it does not know this task (checked again before giving up)", detail: e.detail };
    case "completed":
      return { title: "Completed", detail: from };
    case "failed":
      return { title: "Failed", detail: [e.detail, from].filter(Boolean).join(" · ") || null };
    case "cancelled":
      return { title: "Cancelled before it was sent (nothing charged)", detail: from };
    case "archived":
      return { title: "Copied to the portal's storage", detail: e.detail };
    case "archive_failed":
      return { title: "Copying the video to the portal failed", detail: e.detail };
    case "files_deleted":
      return { title: "Video and uploaded inputs deleted from the portal's storage", detail: [from, e.detail].filter(Boolean).join(" · ") || null };
    default:
      return { title: e.kind, detail: e.detail };
  }
}

/** At most this many events are shown: the first few (how it started) and the latest. */
export const TIMELINE_HEAD = 20;
export const TIMELINE_TAIL = 280;
