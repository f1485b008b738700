"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent, type ReactNode } from "react";
import { money } from "@/app/_components/format.ts";
import { modeLabel } from "@/app/_components/task-status.tsx";
import { useTRPC } from "@/app/_components/trpc.ts";
import { PersonSelect } from "@/app/_components/person-select.tsx";
import { PeriodPicker, periodQuery } from "@/app/_components/usage/period-picker.tsx";
import { UsageChart } from "@/app/_components/usage/usage-chart.tsx";
import type { PeriodSpec } from "@/server/usage/periods.ts";
import { sourceLabel } from "@/server/tasks/source.ts";
import type { SourceUsage } from "@/server/usage/usage.ts";

type Group = "person" | "quality" | "mode";
type Metric = "cost" | "billedSeconds";

const pct = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)} %`);

/** "+12 %" against the previous period (named under the figures), or nothing to compare with. */
function Change({ now, before, better }: { now: number; before: number; better: "up" | "down" }) {
  if (before === 0) return <span className="muted small">no earlier figure</span>;
  const change = (now - before) / before;
  const good = better === "up" ? change >= 0 : change <= 0;
  return (
    <span className={`small ${good ? "ok" : "warn"}`}>
      {change >= 0 ? "+" : ""}
      {(change * 100).toFixed(0)} % vs previous
    </span>
  );
}

function Card({ label, value, children, testId }: { label: string; value: ReactNode; children?: ReactNode; testId?: string }) {
  return (
    <div className="stat card" data-testid={testId}>
      <div className="muted small">{label}</div>
      <div className="stat-value">{value}</div>
      {children}
    </div>
  );
}

/** Budget use as "1.20 / 5.00 USD (24 %)", flagged at 80 % and 100 %. */
export function BudgetUse({ use, currency }: { use: { limit: number | null; spent: number; reserved: number; used: number | null; reached?: boolean }; currency: string }) {
  if (use.limit === null) return <span className="muted">No budget</span>;
  const level = use.reached || (use.used !== null && use.used >= 1) ? "danger" : use.used !== null && use.used >= 0.8 ? "warn" : "";
  return (
    <span className={level} data-threshold={level || undefined}>
      {(use.spent + use.reserved).toFixed(2)} / {money(use.limit, currency)} ({pct(use.used)})
      {level === "danger" ? " — used up" : level === "warn" ? " — over 80 %" : ""}
    </span>
  );
}

function BudgetEditor({ label, current, onSave, onRemove, pending }: { label: string; current: number | null; onSave: (v: number) => void; onRemove: () => void; pending: boolean }) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(current === null ? "" : String(current));
  if (!editing) {
    return (
      <button type="button" className="link" onClick={() => setEditing(true)} aria-label={`${current === null ? "Set" : "Change"} ${label}`}>
        {current === null ? "Set" : "Change"}
      </button>
    );
  }
  const save = (e: FormEvent) => {
    e.preventDefault();
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0) return;
    onSave(n);
    setEditing(false);
  };
  return (
    <form className="row" onSubmit={save}>
      <input aria-label={label} type="number" min="0" step="0.01" value={value} onChange={(e) => setValue(e.target.value)} style={{ width: 100 }} />
      <button type="submit" disabled={pending}>
        Save
      </button>
      {current !== null && (
        <button
          type="button"
          className="secondary"
          onClick={() => {
            onRemove();
            setEditing(false);
          }}
        >
          Remove
        </button>
      )}
      <button type="button" className="link" onClick={() => setEditing(false)}>
        Cancel
      </button>
    </form>
  );
}

type SortKey = "email" | "tasks" | "completed" | "failed" | "running" | "billedSeconds" | "cost" | "failureRate";

export function UsageDashboard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [period, setPeriod] = useState<PeriodSpec>({ kind: "this-month" });
  const [groupBy, setGroupBy] = useState<Group>("person");
  const [metric, setMetric] = useState<Metric>("cost");
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "cost", desc: true });
  const usage = useQuery(trpc.usage.team.queryOptions({ period, groupBy }));
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.usage.team.queryKey() });
  const setBudget = useMutation(trpc.usage.setBudget.mutationOptions({ onSettled: refresh }));
  const setTimeZone = useMutation(trpc.usage.setTimeZone.mutationOptions({ onSettled: refresh }));
  const [zoneEditing, setZoneEditing] = useState(false);
  const [zone, setZone] = useState("");

  const data = usage.data;
  const currency = data?.currency ?? "";
  const people = [...(data?.people ?? [])].sort((a, b) => {
    const va = a[sort.key] ?? -1;
    const vb = b[sort.key] ?? -1;
    const cmp = typeof va === "string" ? va.localeCompare(vb as string) : (va as number) - (vb as number);
    return sort.desc ? -cmp : cmp;
  });
  const header = (key: SortKey, label: string) => (
    <th aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"}>
      <button type="button" className="link" onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== "email" }))}>
        {label}
        {sort.key === key ? (sort.desc ? " ↓" : " ↑") : ""}
      </button>
    </th>
  );
  const tasksLink = (userId: string) =>
    data ? `/admin/tasks?user=${encodeURIComponent(userId)}&since=${encodeURIComponent(data.period.from.toISOString())}&until=${encodeURIComponent(data.period.to.toISOString())}` : "#";

  return (
    <div className="stack">
      <section className="card stack">
        <PeriodPicker value={period} onChange={setPeriod} timeZone={data?.period.timeZone} />
        <div className="filters">
          <div className="field">
            <label htmlFor="group-by">Chart by</label>
            <select id="group-by" value={groupBy} onChange={(e) => setGroupBy(e.target.value as Group)}>
              <option value="person">Person</option>
              <option value="quality">Quality</option>
              <option value="mode">Mode</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="metric">Show</label>
            <select id="metric" value={metric} onChange={(e) => setMetric(e.target.value as Metric)}>
              <option value="cost">Cost</option>
              <option value="billedSeconds">Billed seconds</option>
            </select>
          </div>
        </div>
        {data && (
          <p className="muted small" data-testid="period-label">
            {data.period.label}, days in <strong>{data.period.timeZone}</strong> (the team&apos;s reporting time zone).{" "}
            {zoneEditing ? (
              <span className="row">
                <input aria-label="Reporting time zone" list="time-zones" value={zone} onChange={(e) => setZone(e.target.value)} placeholder="Europe/Paris" />
                <datalist id="time-zones">
                  {(Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone").map((z) => <option key={z} value={z} />)}
                </datalist>
                <button type="button" onClick={() => setTimeZone.mutate({ timeZone: zone }, { onSuccess: () => setZoneEditing(false) })}>
                  Save
                </button>
                <button type="button" className="link" onClick={() => setZoneEditing(false)}>
                  Cancel
                </button>
              </span>
            ) : (
              <button
                type="button"
                className="link"
                onClick={() => {
                  setZone(data.period.timeZone);
                  setZoneEditing(true);
                }}
              >
                Change the time zone
              </button>
            )}
          </p>
        )}
        {setTimeZone.error && (
          <p role="alert" className="error">
            {setTimeZone.error.message}
          </p>
        )}
      </section>

      {usage.error && <p className="error">{usage.error.message}</p>}
      {usage.isLoading && <p className="muted">Loading…</p>}
      {data && (
        <>
          <div className="stats" data-testid="headline">
            <Card label="Tasks" value={data.totals.tasks} testId="tasks-total">
              <span className="small muted">
                {data.totals.completed} completed · {data.totals.failed} failed · {data.totals.running} running
              </span>
              <Change now={data.totals.tasks} before={data.previous.tasks} better="up" />
            </Card>
            <Card label="Billed seconds" value={data.totals.billedSeconds}>
              <Change now={data.totals.billedSeconds} before={data.previous.billedSeconds} better="up" />
            </Card>
            <Card label="Cost" value={money(data.totals.cost, currency)} testId="cost-total">
              <Change now={data.totals.cost} before={data.previous.cost} better="down" />
            </Card>
            <Card label="Failure rate" value={pct(data.totals.failureRate)}>
              <Change now={data.totals.failureRate ?? 0} before={data.previous.failureRate ?? 0} better="down" />
            </Card>
          </div>
          <p className="muted small" data-testid="compared-with">
            Changes are against {data.period.previous.label}.
          </p>

          <section className="card">
            <UsageChart
              days={data.period.days}
              keys={data.series.keys}
              labels={{ ...data.series.labels, ...(groupBy === "mode" ? Object.fromEntries(data.series.keys.map((k) => [k, modeLabel(k as never) ?? k])) : {}) }}
              points={data.series.points}
              metric={metric}
              currency={currency}
              title={`${metric === "cost" ? `Cost (${currency})` : "Billed seconds"} per day, by ${groupBy}`}
            />
          </section>

          <section className="card stack">
            <div className="row spread">
              <h2>People</h2>
              <div className="row">
                <a href={`/api/usage/people.csv?${periodQuery(period)}`} download>
                  Download people (CSV)
                </a>
                <a href={`/api/usage/tasks.csv?${periodQuery(period)}`} download>
                  Download every task (CSV)
                </a>
              </div>
            </div>
            {people.length === 0 ? (
              <p className="muted">Nobody submitted anything in this period.</p>
            ) : (
              <div className="table-scroll">
              <table className="history" data-testid="people">
                <thead>
                  <tr>
                    {header("email", "Person")}
                    {header("tasks", "Tasks")}
                    {header("completed", "Completed")}
                    {header("failed", "Failed")}
                    {header("running", "Running")}
                    {header("billedSeconds", "Billed s")}
                    <th>720p / 1080p s</th>
                    <th>By mode (s)</th>
                    {header("cost", "Cost")}
                    {header("failureRate", "Failure rate")}
                    <th>Budget ({data.budgets.month})</th>
                  </tr>
                </thead>
                <tbody>
                  {people.map((p) => {
                    const budget = data.budgets.people[p.userId];
                    return (
                      <tr key={p.userId} data-person={p.email}>
                        <td data-label="Person">
                          <Link href={tasksLink(p.userId)}>{p.name ? `${p.name} (${p.email})` : p.email}</Link>
                        </td>
                        <td data-label="Tasks">{p.tasks}</td>
                        <td data-label="Completed">{p.completed}</td>
                        <td data-label="Failed">{p.failed}</td>
                        <td data-label="Running">{p.running}</td>
                        <td data-label="Billed s">{p.billedSeconds}</td>
                        <td data-label="720p / 1080p s">
                          {p.secondsByQuality["720p"]} / {p.secondsByQuality["1080p"]}
                        </td>
                        <td data-label="By mode (s)" className="small">
                          {p.secondsByMode.first_frame} / {p.secondsByMode.first_last_frame} / {p.secondsByMode.video_continuation}
                        </td>
                        <td data-label="Cost" data-testid="person-cost">
                          {money(p.cost, currency)}
                        </td>
                        <td data-label="Failure rate">{pct(p.failureRate)}</td>
                        <td data-label="Budget">
                          <BudgetUse use={budget ?? { limit: data.budgets.defaultLimit, spent: 0, reserved: 0, used: data.budgets.defaultLimit ? 0 : null }} currency={currency} />{" "}
                          <BudgetEditor
                            label={`monthly budget of ${p.email}`}
                            current={budget?.source === "own" ? budget.limit : null}
                            pending={setBudget.isPending}
                            onSave={(v) => setBudget.mutate({ scope: "user", userId: p.userId, monthlyLimit: v })}
                            onRemove={() => setBudget.mutate({ scope: "user", userId: p.userId, monthlyLimit: null })}
                          />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
                <tfoot>
                  <tr>
                    <td data-label="Person">
                      <strong>Total</strong>
                    </td>
                    <td data-label="Tasks">{data.totals.tasks}</td>
                    <td data-label="Completed">{data.totals.completed}</td>
                    <td data-label="Failed">{data.totals.failed}</td>
                    <td data-label="Running">{data.totals.running}</td>
                    <td data-label="Billed s">{data.totals.billedSeconds}</td>
                    <td />
                    <td />
                    <td data-label="Cost">
                      <strong>{money(data.totals.cost, currency)}</strong>
                    </td>
                    <td data-label="Failure rate">{pct(data.totals.failureRate)}</td>
                    <td />
                  </tr>
                </tfoot>
              </table>
              </div>
            )}
          </section>

          <section className="card stack" data-testid="budgets">
            <h2>Budgets for {data.budgets.month}</h2>
            <p className="muted small">Monthly, in the reporting time zone. A person without a budget of their own gets the default, if set; the team&apos;s budget applies to everyone.</p>
            <dl className="facts">
              <dt>Team</dt>
              <dd>
                <BudgetUse use={data.budgets.team} currency={currency} />{" "}
                <BudgetEditor
                  label="team budget"
                  current={data.budgets.team.limit}
                  pending={setBudget.isPending}
                  onSave={(v) => setBudget.mutate({ scope: "team", monthlyLimit: v })}
                  onRemove={() => setBudget.mutate({ scope: "team", monthlyLimit: null })}
                />
              </dd>
              <dt>Default per person</dt>
              <dd>
                {data.budgets.defaultLimit === null ? <span className="muted">None</span> : money(data.budgets.defaultLimit, currency)}{" "}
                <BudgetEditor
                  label="default budget"
                  current={data.budgets.defaultLimit}
                  pending={setBudget.isPending}
                  onSave={(v) => setBudget.mutate({ scope: "default", monthlyLimit: v })}
                  onRemove={() => setBudget.mutate({ scope: "default", monthlyLimit: null })}
                />
              </dd>
            </dl>
            <PersonBudget
              currency={currency}
              pending={setBudget.isPending}
              onSave={(userId, monthlyLimit, onDone) => setBudget.mutate({ scope: "user", userId, monthlyLimit }, { onSuccess: onDone })}
            />
            {setBudget.error && (
              <p role="alert" className="error">
                {setBudget.error.message}
              </p>
            )}
          </section>

          <div className="grid-3">
            <Breakdown title="By mode" rows={data.breakdowns.byMode.map((r) => ({ ...r, key: modeLabel(r.key as never) ?? r.key }))} currency={currency} />
            <Breakdown title="By quality" rows={data.breakdowns.byQuality} currency={currency} />
            <Breakdown title="By source" rows={data.breakdowns.bySource.map((r) => ({ ...r, label: <SourceName source={r} /> }))} currency={currency} testId="usage-by-source" />
            <section className="card">
              <h2>Failures by error code</h2>
              {data.breakdowns.byErrorCode.length === 0 ? (
                <p className="muted">No failures.</p>
              ) : (
                <table className="history">
                  <tbody>
                    {data.breakdowns.byErrorCode.map((r) => (
                      <tr key={r.key}>
                        <td className="mono">{r.key}</td>
                        <td>{r.tasks}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </div>

          {data.outcomeUnknown.length > 0 && (
            <section className="card notice" data-testid="outcome-unknown">
              <h2>Outcome unknown: check the provider&apos;s console</h2>
              <p className="small">
                These submissions were never confirmed; the provider may have charged for them. Their reservations were released.
                {data.totals.outcomeUnknown > data.outcomeUnknown.length && ` The latest ${data.outcomeUnknown.length} of ${data.totals.outcomeUnknown} are listed.`}
              </p>
              <ul>
                {data.outcomeUnknown.map((t) => (
                  <li key={t.id}>
                    <Link href={`/tasks/${t.id}`}>{t.prompt.slice(0, 60)}</Link> — {t.owner}, estimated {money(t.estimatedCost, t.currency)}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </div>
  );
}

/** Anyone's own budget, also for people with no task in the period (the table lists only those who have one). */
function PersonBudget({
  currency,
  pending,
  onSave,
}: {
  currency: string;
  pending: boolean;
  onSave: (userId: string, monthlyLimit: number | null, onDone: () => void) => void;
}) {
  const trpc = useTRPC();
  const members = useQuery(trpc.team.members.queryOptions());
  const [userId, setUserId] = useState("");
  const [amount, setAmount] = useState("");
  const [done, setDone] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = Number(amount);
    if (!userId || (amount.trim() !== "" && (!Number.isFinite(n) || n < 0))) return;
    const who = members.data?.members.find((m) => m.id === userId)?.email ?? "";
    const limit = amount.trim() === "" ? null : n;
    setDone("");
    onSave(userId, limit, () => setDone(limit === null ? `${who} now has the default budget.` : `${who} now has ${money(limit, currency)} a month.`));
    setAmount("");
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="A person's own budget">
      <div className="field">
        <label htmlFor="budget-person">Person</label>
        <PersonSelect id="budget-person" value={userId} onChange={setUserId} empty="Choose…" activeOnly />
      </div>
      <div className="field">
        <label htmlFor="budget-amount">Own monthly budget ({currency}; empty: the default)</label>
        <input id="budget-amount" type="number" min="0" step="0.01" value={amount} onChange={(e) => setAmount(e.target.value)} />
      </div>
      <button type="submit" disabled={pending || !userId}>
        Set
      </button>
      <p role="status" className="small ok">
        {done}
      </p>
    </form>
  );
}

/** The form, or an API key with its owner. */
function SourceName({ source }: { source: SourceUsage }) {
  if (source.kind === "form") return <>{sourceLabel({ kind: "form" })}</>;
  return (
    <>
      {sourceLabel({ kind: "api", keyId: source.key, name: source.name, prefix: source.prefix })}
      <br />
      <span className="muted small">{source.ownerEmail}</span>
    </>
  );
}

function Breakdown({
  title,
  rows,
  currency,
  testId,
}: {
  title: string;
  rows: Array<{ key: string; label?: ReactNode; tasks: number; billedSeconds: number; cost: number }>;
  currency: string;
  testId?: string;
}) {
  return (
    <section className="card" data-testid={testId}>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">Nothing.</p>
      ) : (
        <table className="history">
          <thead>
            <tr>
              <th />
              <th>Tasks</th>
              <th>Billed s</th>
              <th>Cost</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <td data-label="">{r.label ?? r.key}</td>
                <td data-label="Tasks">{r.tasks}</td>
                <td data-label="Billed s">{r.billedSeconds}</td>
                <td data-label="Cost">{money(r.cost, currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
