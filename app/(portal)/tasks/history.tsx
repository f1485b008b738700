"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/app/_components/trpc.ts";
import { TaskTable } from "@/app/_components/task-table.tsx";
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
  return <TaskTable tasks={tasks} />;
}
