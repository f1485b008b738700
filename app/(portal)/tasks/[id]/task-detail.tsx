"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/app/_components/trpc.ts";
import { billedLabel, modeLabel, StatusBadge } from "@/app/_components/task-status.tsx";
import { isTerminal } from "@/server/generation/status.ts";

function archiveLabel(status: string, error: string | null): string {
  if (status === "archived") return "Saved in the portal";
  if (status === "failed") return `Not saved: ${error ?? "unknown error"} (the provider's link expires 24 h after completion)`;
  return error ? `Saving… (${error})` : "Saving…";
}

function CallbackLog({ id }: { id: string }) {
  const trpc = useTRPC();
  const { data } = useQuery(trpc.tasks.callbacks.queryOptions({ id }, { refetchInterval: 5000 }));
  if (!data || data.length === 0) return null;
  return (
    <details className="callbacks">
      <summary>Provider callbacks ({data.length})</summary>
      <table className="history">
        <thead>
          <tr>
            <th>Received</th>
            <th>Said</th>
            <th>Confirmed</th>
            <th>Outcome</th>
          </tr>
        </thead>
        <tbody>
          {data.map((c) => (
            <tr key={c.id} title={c.detail ?? undefined}>
              <td>{c.receivedAt.toLocaleString()}</td>
              <td>{c.reportedStatus ?? "—"}</td>
              <td>{c.confirmedStatus ?? "—"}</td>
              <td>{c.outcome}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function TaskDetail({ id, viewerId }: { id: string; viewerId: string }) {
  const trpc = useTRPC();
  const { data: task, error, isLoading } = useQuery(
    trpc.tasks.get.queryOptions(
      { id },
      // Poll while the task runs; stop once it has ended.
      {
        refetchInterval: (q) =>
          q.state.data && isTerminal(q.state.data.status) && q.state.data.archiveStatus !== "pending" ? false : 1500,
      },
    ),
  );
  if (isLoading) return <p className="muted">Loading…</p>;
  if (error || !task) return <p className="error">{error?.message ?? "Task not found"}</p>;
  const video = task.videoUrl;
  const mine = task.owner.id === viewerId;
  return (
    <article className="task">
      <p>{mine ? <Link href="/tasks">← My history</Link> : <Link href="/admin/tasks">← All tasks</Link>}</p>
      <h1>
        Task <StatusBadge status={task.status} />
      </h1>
      <p className="prompt">{task.prompt}</p>
      {!isTerminal(task.status) && (
        <div className="progress" role="progressbar" aria-valuenow={task.progress} aria-valuemin={0} aria-valuemax={100}>
          <div className="progress-bar" style={{ width: `${task.progress}%` }} />
          <span>{task.progress}%</span>
        </div>
      )}
      {task.status === "completed" && video && (
        <video data-testid="result-video" src={video} controls autoPlay muted loop playsInline className="result" />
      )}
      {task.status === "failed" && (
        <p className="error" role="alert">
          {task.errorCode ? `${task.errorCode}: ` : ""}
          {task.errorMessage ?? "The task failed."}
        </p>
      )}
      <dl className="facts">
        <dt>Owner</dt>
        <dd data-testid="owner">{mine ? "You" : task.owner.name ? `${task.owner.name} (${task.owner.email})` : task.owner.email}</dd>
        <dt>Mode</dt>
        <dd>{modeLabel(task.mode)}</dd>
        <dt>Duration</dt>
        <dd>{task.durationSeconds} s</dd>
        <dt>Quality</dt>
        <dd>{task.quality}</dd>
        <dt>Estimated cost</dt>
        <dd>
          {task.estimatedCost.toFixed(3)} {task.currency}
        </dd>
        <dt>Billed</dt>
        <dd data-testid="billed">{billedLabel(task)}</dd>
        {task.cost !== null && (
          <>
            <dt>Cost</dt>
            <dd data-testid="cost">
              {task.cost.toFixed(3)} {task.currency}
            </dd>
          </>
        )}
        {task.status === "completed" && (
          <>
            <dt>Portal copy</dt>
            <dd data-testid="archive">{archiveLabel(task.archiveStatus, task.archiveError)}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>{task.createdAt.toLocaleString()}</dd>
        <dt>Provider task</dt>
        <dd className="mono">{task.providerTaskId ?? "—"}</dd>
      </dl>
      <CallbackLog id={task.id} />
    </article>
  );
}
