import Link from "next/link";
import type { TaskView } from "@/server/tasks/tasks.ts";
import { isTerminal } from "@/server/generation/status.ts";
import { sourceLabel } from "@/server/tasks/source.ts";
import { when } from "./format.ts";
import { billedLabel, modeLabel, StatusBadge } from "./task-status.tsx";

/**
 * The first frame of a finished video, drawn by the browser from the portal's
 * copy (or the provider's link until it is copied): no server-side video tools.
 */
function Thumbnail({ task }: { task: TaskView }) {
  if (task.status !== "completed" || !task.videoUrl) return <span className="thumb thumb-empty" aria-hidden="true" />;
  return <video className="thumb" src={`${task.videoUrl}#t=0.1`} preload="metadata" muted playsInline aria-hidden="true" tabIndex={-1} />;
}

/** A running task's progress, live while the list refreshes. */
function Progress({ task }: { task: TaskView }) {
  if (isTerminal(task.status)) return null;
  return (
    // The figure beside the bar, not over it: dark text on the bar's colour would not be readable.
    <div className="progress-row">
      <div className="progress progress-small" role="progressbar" aria-label={`Progress of “${task.prompt.slice(0, 40)}”`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={task.progress}>
        <div className="progress-bar" style={{ width: `${task.progress}%` }} />
      </div>
      <span className="progress-label">{task.progress} %</span>
    </div>
  );
}

/**
 * A list of tasks (one's history; the admins' list of every task, with the
 * owner): a thumbnail, the prompt (whole on hover or focus), live progress.
 * Rows become cards on phones.
 */
export function TaskTable({ tasks, showOwner = false, testId }: { tasks: TaskView[]; showOwner?: boolean; testId?: string }) {
  return (
    <table className="history task-list" data-testid={testId}>
      <thead>
        <tr>
          <th>
            <span className="visually-hidden">Video</span>
          </th>
          <th>Prompt</th>
          {showOwner && <th>Owner</th>}
          <th>Created</th>
          <th>Mode</th>
          <th>Made with</th>
          <th>Status</th>
          <th>Billed</th>
          <th>Cost</th>
        </tr>
      </thead>
      <tbody>
        {tasks.map((t) => (
          <tr key={t.id} data-task-id={t.id}>
            <td className="thumb-cell">
              <Thumbnail task={t} />
            </td>
            <td className="prompt-cell">
              <Link href={`/tasks/${t.id}`} className="prompt-text">
                {t.prompt}
              </Link>
              <Progress task={t} />
            </td>
            {showOwner && <td data-label="Owner">{t.owner.email}</td>}
            <td data-label="Created">{when(t.createdAt)}</td>
            <td data-label="Mode">
              {modeLabel(t.mode)} · {t.quality}
            </td>
            <td data-label="Made with" data-testid="source">
              {sourceLabel(t.source)}
            </td>
            <td data-label="Status">
              <StatusBadge status={t.status} errorCode={t.errorCode} />
            </td>
            <td data-label="Billed" data-testid="billed">
              {billedLabel(t)}
            </td>
            <td data-label="Cost" data-testid="cost">
              {t.cost === null ? "—" : `${t.cost.toFixed(3)} ${t.currency}`}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
