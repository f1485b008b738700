"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/app/_components/trpc.ts";
import { billedLabel, modeLabel, StatusBadge } from "@/app/_components/task-status.tsx";

const ACTIVE = new Set(["submitting", "pending", "processing"]);

export function TaskDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const { data: task, error, isLoading } = useQuery(
    trpc.tasks.get.queryOptions(
      { id },
      // Poll while the task runs; stop once it has ended.
      { refetchInterval: (q) => (q.state.data && !ACTIVE.has(q.state.data.status) ? false : 1500) },
    ),
  );
  if (isLoading) return <p className="muted">Loading…</p>;
  if (error || !task) return <p className="error">{error?.message ?? "Task not found"}</p>;
  const video = task.resultUrls[0];
  return (
    <article className="task">
      <p>
        <Link href="/tasks">← My history</Link>
      </p>
      <h1>
        Task <StatusBadge status={task.status} />
      </h1>
      <p className="prompt">{task.prompt}</p>
      {ACTIVE.has(task.status) && (
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
        <dt>Mode</dt>
        <dd>{modeLabel(task.mode)}</dd>
        <dt>Duration</dt>
        <dd>{task.durationSeconds} s</dd>
        <dt>Billed</dt>
        <dd data-testid="billed">{billedLabel(task)}</dd>
        <dt>Created</dt>
        <dd>{task.createdAt.toLocaleString()}</dd>
        <dt>Provider task</dt>
        <dd className="mono">{task.providerTaskId ?? "—"}</dd>
      </dl>
    </article>
  );
}
