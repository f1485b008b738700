"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/app/_components/trpc.ts";
import { billedLabel, modeLabel, StatusBadge } from "@/app/_components/task-status.tsx";
import { isTerminal } from "@/server/generation/status.ts";

export function History() {
  const trpc = useTRPC();
  const { data: tasks, error, isLoading } = useQuery(
    trpc.tasks.mine.queryOptions(undefined, {
      refetchInterval: (q) => (q.state.data?.some((t) => !isTerminal(t.status)) ? 3000 : false),
    }),
  );
  if (isLoading) return <p className="muted">Loading…</p>;
  if (error) return <p className="error">{error.message}</p>;
  if (!tasks || tasks.length === 0) {
    return (
      <p className="muted">
        Nothing yet. <Link href="/tasks/new">Make your first video</Link>.
      </p>
    );
  }
  return (
    <table className="history">
      <thead>
        <tr>
          <th>Created</th>
          <th>Prompt</th>
          <th>Mode</th>
          <th>Status</th>
          <th>Billed</th>
          <th>Cost</th>
        </tr>
      </thead>
      <tbody>
        {tasks.map((t) => (
          <tr key={t.id} data-task-id={t.id}>
            <td data-label="Created">{t.createdAt.toLocaleString()}</td>
            <td data-label="Prompt">
              <Link href={`/tasks/${t.id}`}>{t.prompt.length > 60 ? `${t.prompt.slice(0, 60)}…` : t.prompt}</Link>
            </td>
            <td data-label="Mode">{modeLabel(t.mode)}</td>
            <td data-label="Status">
              <StatusBadge status={t.status} />
            </td>
            <td data-label="Billed" data-testid="billed">{billedLabel(t)}</td>
            <td data-label="Cost" data-testid="cost">{t.cost === null ? "—" : `${t.cost.toFixed(3)} ${t.currency}`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
