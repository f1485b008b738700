"use client";
import { useQuery } from "@tanstack/react-query";
import { money } from "@/app/_components/format.ts";
import { modeLabel } from "@/app/_components/task-status.tsx";
import { useTRPC } from "@/app/_components/trpc.ts";
import { UsageChart } from "./usage-chart.tsx";

/** A person's own month at the top of their history: what they made, what it cost, their budget, a chart. */
export function MyUsage() {
  const trpc = useTRPC();
  const { data } = useQuery(trpc.usage.mine.queryOptions({ period: { kind: "this-month" } }));
  if (!data) return null;
  const { totals, budget, currency, period } = data;
  const personal = budget.personal;
  const team = budget.team;
  const renews = new Date(`${budget.renewsOn}T00:00:00Z`).toLocaleDateString("en-GB", { day: "numeric", month: "long", timeZone: "UTC" });
  const level = (used: number | null) => (used !== null && used >= 1 ? "danger" : used !== null && used >= 0.8 ? "warn" : "");
  return (
    <section className="card stack" data-testid="my-usage" aria-label="This month">
      <div className="stats">
        <div className="stat">
          <div className="muted small">{period.label}</div>
          <div className="stat-value">{totals.tasks} videos</div>
          <span className="small muted">
            {totals.completed} completed · {totals.failed} failed · {totals.running} running
          </span>
        </div>
        <div className="stat">
          <div className="muted small">Billed</div>
          <div className="stat-value">{totals.billedSeconds} s</div>
        </div>
        <div className="stat">
          <div className="muted small">Cost</div>
          <div className="stat-value" data-testid="my-cost">
            {money(totals.cost, currency)}
          </div>
        </div>
        <div className="stat" data-testid="my-budget">
          <div className="muted small">Your budget</div>
          {personal.limit === null ? (
            <div className="stat-value muted">None</div>
          ) : (
            <>
              <div className={`stat-value ${level(personal.used)}`}>{money(personal.remaining ?? 0, currency)} left</div>
              <span className="small muted">
                of {money(personal.limit, currency)}; renews on {renews}
                {personal.used !== null && personal.used >= 0.8 ? ` (${Math.round(personal.used * 100)} % used)` : ""}
              </span>
            </>
          )}
          {team.limit !== null && team.used !== null && team.used >= 0.8 && <span className={`small ${level(team.used)}`}>The team&apos;s budget is {Math.round(team.used * 100)} % used.</span>}
        </div>
      </div>
      {totals.tasks > 0 && (
        <UsageChart
          days={period.days}
          keys={data.series.keys}
          labels={Object.fromEntries(data.series.keys.map((k) => [k, k === "others" ? "Others" : (modeLabel(k as never) ?? k)]))}
          points={data.series.points}
          metric="cost"
          currency={currency}
          title={`Your cost per day (${currency}), by mode`}
        />
      )}
    </section>
  );
}
