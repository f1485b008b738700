"use client";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { utcDay } from "@/app/_components/format.ts";
import { PersonSelect } from "@/app/_components/person-select.tsx";
import { ShowMore } from "@/app/_components/show-more.tsx";
import { modeLabel, STATUS_LABELS } from "@/app/_components/task-status.tsx";
import { TaskTable } from "@/app/_components/task-table.tsx";
import { useTRPC } from "@/app/_components/trpc.ts";
import { GENERATION_MODES as MODES } from "@/server/generation/request-schema.ts";
import { TASK_STATUSES as STATUSES } from "@/server/tasks/list-filters.ts";

type Status = (typeof STATUSES)[number];
type Mode = (typeof MODES)[number];

export interface AllTasksFilters {
  userId: string;
  status: Status | "";
  mode: Mode | "";
  /** yyyy-mm-dd, inclusive; empty for open-ended. */
  from: string;
  to: string;
  /** Exact instants (a usage page's period, in its time zone); they replace the days when set. */
  since?: string;
  until?: string;
}

export function AllTasks({ initial }: { initial: AllTasksFilters }) {
  const trpc = useTRPC();
  const [filters, setFilters] = useState<AllTasksFilters>(initial);
  const input = {
    ...(filters.userId && { userId: filters.userId }),
    ...(filters.status && { status: filters.status }),
    ...(filters.mode && { mode: filters.mode }),
    ...(utcDay(filters.from) && { from: utcDay(filters.from) }),
    ...(utcDay(filters.to, true) && { to: utcDay(filters.to, true) }),
    ...(filters.since && { from: new Date(filters.since) }),
    ...(filters.until && { to: new Date(filters.until) }),
    limit: 50,
  };
  const tasks = useInfiniteQuery(trpc.admin.tasks.infiniteQueryOptions(input, { getNextPageParam: (last) => last.nextCursor ?? undefined }));
  // Editing the dates replaces a period that came from the usage page.
  const set = <K extends keyof AllTasksFilters>(key: K) => (value: AllTasksFilters[K]) =>
    setFilters((f) => ({ ...f, [key]: value, ...((key === "from" || key === "to") && { since: undefined, until: undefined }) }));
  const rows = tasks.data?.pages.flatMap((p) => p.tasks) ?? [];

  return (
    <div className="stack">
      <form className="card filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="f-person">Person</label>
          <PersonSelect id="f-person" value={filters.userId} onChange={set("userId")} empty="Everyone" />
        </div>
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={filters.status} onChange={(e) => set("status")(e.target.value as Status | "")}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-mode">Mode</label>
          <select id="f-mode" value={filters.mode} onChange={(e) => set("mode")(e.target.value as Mode | "")}>
            <option value="">Any</option>
            {MODES.map((m) => (
              <option key={m} value={m}>
                {modeLabel(m)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-from">From (UTC)</label>
          <input id="f-from" type="date" value={filters.from} onChange={(e) => set("from")(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="f-to">To (UTC)</label>
          <input id="f-to" type="date" value={filters.to} onChange={(e) => set("to")(e.target.value)} />
        </div>
      </form>

      {filters.since && filters.until && (
        <p className="muted small" data-testid="since-until">
          From {new Date(filters.since).toLocaleString()} to {new Date(filters.until).toLocaleString()} (the usage page&apos;s period).
        </p>
      )}
      {tasks.error && <p className="error">{tasks.error.message}</p>}
      {tasks.isLoading && <p className="muted">Loading…</p>}
      {tasks.data && rows.length === 0 && <p className="muted">No task matches these filters.</p>}
      {rows.length > 0 && <TaskTable tasks={rows} showOwner testId="all-tasks" />}
      <ShowMore query={tasks} />
    </div>
  );
}
