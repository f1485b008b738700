"use client";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { money } from "@/app/_components/format.ts";
import { ShowMore } from "@/app/_components/show-more.tsx";
import { modeLabel, STATUS_LABELS } from "@/app/_components/task-status.tsx";
import { TaskTable } from "@/app/_components/task-table.tsx";
import { useTRPC } from "@/app/_components/trpc.ts";
import { GENERATION_MODES, QUALITIES } from "@/server/generation/request-schema.ts";
import { isTerminal } from "@/server/generation/status.ts";
import { filtersFromSearchParams, filtersToSearchParams, TASK_STATUSES, type TaskListFilters } from "@/server/tasks/list-filters.ts";

const PAGE_SIZE = 20;

/** One's history: filters in the URL (a view can be shared and reloaded), totals of the filtered set, keyset pages. */
export function History() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const query = params.toString();
  const filters = filtersFromSearchParams(new URLSearchParams(query));
  const [search, setSearch] = useState(filters.q ?? "");
  // The filters last asked for: two changes in a row must not undo each other while the URL catches up.
  const latest = useRef(filters);
  useEffect(() => {
    latest.current = filtersFromSearchParams(new URLSearchParams(query));
  }, [query]);

  const apply = (next: TaskListFilters) => {
    latest.current = next;
    const q = filtersToSearchParams(next).toString();
    router.replace(q ? `${pathname}?${q}` : pathname, { scroll: false });
  };
  const set = <K extends keyof TaskListFilters>(key: K) => (value: string) => apply({ ...latest.current, [key]: value === "" ? undefined : value });
  const submitSearch = (e: FormEvent) => {
    e.preventDefault();
    apply({ ...latest.current, q: search.trim() === "" ? undefined : search.trim() });
  };

  const pages = useInfiniteQuery(
    trpc.tasks.history.infiniteQueryOptions({ ...filters, limit: PAGE_SIZE }, {
      getNextPageParam: (last) => last.nextCursor ?? undefined,
      // Running tasks show live progress: the loaded pages refresh while any of them runs.
      refetchInterval: (q) => (q.state.data?.pages.some((p) => p.tasks.some((t) => !isTerminal(t.status))) ? 3000 : false),
    }),
  );
  const totals = useQuery(trpc.tasks.historyTotals.queryOptions(filters));
  const tasks = pages.data?.pages.flatMap((p) => p.tasks) ?? [];
  const filtered = Object.keys(filters).some((k) => k !== "sort");
  const timeZone = pages.data?.pages[0]?.timeZone;

  return (
    <section className="stack" aria-label="History">
      <form className="card filters" aria-label="Filter the history" onSubmit={submitSearch}>
        <div className="field">
          <label htmlFor="h-q">Prompt contains</label>
          <div className="row">
            <input id="h-q" type="search" value={search} onChange={(e) => setSearch(e.target.value)} maxLength={200} />
            <button type="submit" className="secondary">
              Search
            </button>
          </div>
        </div>
        <div className="field">
          <label htmlFor="h-status">Status</label>
          <select id="h-status" value={filters.status ?? ""} onChange={(e) => set("status")(e.target.value)}>
            <option value="">Any</option>
            {TASK_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="h-mode">Mode</label>
          <select id="h-mode" value={filters.mode ?? ""} onChange={(e) => set("mode")(e.target.value)}>
            <option value="">Any</option>
            {GENERATION_MODES.map((m) => (
              <option key={m} value={m}>
                {modeLabel(m)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="h-quality">Quality</label>
          <select id="h-quality" value={filters.quality ?? ""} onChange={(e) => set("quality")(e.target.value)}>
            <option value="">Any</option>
            {QUALITIES.map((q) => (
              <option key={q} value={q}>
                {q}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="h-from">From</label>
          <input id="h-from" type="date" value={filters.from ?? ""} onChange={(e) => set("from")(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="h-to">To</label>
          <input id="h-to" type="date" value={filters.to ?? ""} onChange={(e) => set("to")(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="h-sort">Order</label>
          <select id="h-sort" value={filters.sort ?? "newest"} onChange={(e) => set("sort")(e.target.value)}>
            <option value="newest">Newest first</option>
            <option value="oldest">Oldest first</option>
            <option value="cost">Highest cost first</option>
          </select>
        </div>
        {filtered && (
          <button
            type="button"
            className="link"
            onClick={() => {
              setSearch("");
              apply(latest.current.sort ? { sort: latest.current.sort } : {});
            }}
          >
            Clear filters
          </button>
        )}
      </form>

      {totals.data && (
        <p className="totals" data-testid="history-totals" aria-live="polite">
          <strong>{totals.data.tasks}</strong> {totals.data.tasks === 1 ? "task" : "tasks"} · <strong>{totals.data.billedSeconds}</strong> s billed ·{" "}
          <strong>{money(totals.data.cost, totals.data.currency)}</strong>
          {filtered ? " for these filters" : " in all"}
          {timeZone && (filters.from || filters.to) ? ` (days in ${timeZone})` : ""}
        </p>
      )}
      {pages.error && <p className="error">{pages.error.message}</p>}
      {pages.isLoading && <p className="muted">Loading…</p>}
      {pages.data && tasks.length === 0 && (
        <p className="muted">
          {filtered ? (
            "No task matches these filters."
          ) : (
            <>
              Nothing yet. <Link href="/tasks/new">Make your first video</Link>.
            </>
          )}
        </p>
      )}
      {tasks.length > 0 && <TaskTable tasks={tasks} testId="history" />}
      <ShowMore query={pages} />
    </section>
  );
}
