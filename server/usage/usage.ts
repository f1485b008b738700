/**
 * The usage figures: what was spent, by whom, when and on what, for a period
 * of the reporting time zone. A task counts in the period in which it was
 * submitted (its createdAt), in usage and in budgets alike. Every money total
 * is the SQL sum of the stored per-task costs (6 decimals, exact numeric), so
 * any filter's total equals the sum of its tasks and of the CSV's rows; pages
 * round to the cent only for display.
 *
 * The queries read Task alone (its stored cost and billed seconds), through
 * the covering index on createdAt (Task_usage_covering_idx): docs/benchmarks.md has their plans and times
 * at 1,000,000 tasks.
 */
import { Prisma, type Db } from "../db/client.ts";
import { apiKeyLabels } from "../tasks/source.ts";
import type { Period } from "./periods.ts";

export interface UsageFilter {
  from: Date;
  to: Date;
  /** One person's figures only (a member's own, or an admin's click). */
  userId?: string;
}

/** A filtered set of tasks (the history's filters): any period or none, and what the tasks were. */
export interface TaskSetFilter extends Partial<Pick<UsageFilter, "from" | "to">> {
  userId?: string;
  status?: string;
  mode?: string;
  quality?: string;
  /** Words the prompt contains, case-insensitive (as Prisma's `contains` with mode "insensitive"). */
  search?: string;
}

/** `text` as a literal inside a LIKE pattern (also for Prisma's `contains`, which does not escape). */
export const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export interface SeriesFilter extends UsageFilter {
  days: string[];
  dayStarts: Date[];
  groupBy: SeriesGroup;
  top?: number;
}

export interface UsageTotals {
  tasks: number;
  completed: number;
  failed: number;
  /** Not ended yet (submitting, pending, processing). */
  running: number;
  /** Given up because the provider never confirmed the submission: it may have charged; an admin should check. */
  outcomeUnknown: number;
  billedSeconds: number;
  /** Sum of the stored costs, 6 decimals. */
  cost: number;
  /** failed / (completed + failed); null when nothing ended. */
  failureRate: number | null;
}

const whereOf = (f: UsageFilter | TaskSetFilter) => {
  const parts: Prisma.Sql[] = [Prisma.sql`TRUE`];
  if (f.from) parts.push(Prisma.sql`t."createdAt" >= ${f.from}`);
  if (f.to) parts.push(Prisma.sql`t."createdAt" < ${f.to}`);
  if (f.userId) parts.push(Prisma.sql`t."userId" = ${f.userId}`);
  if ("status" in f && f.status) parts.push(Prisma.sql`t."status"::text = ${f.status}`);
  if ("mode" in f && f.mode) parts.push(Prisma.sql`t."mode"::text = ${f.mode}`);
  if ("quality" in f && f.quality) parts.push(Prisma.sql`t."quality" = ${f.quality}`);
  if ("search" in f && f.search) parts.push(Prisma.sql`t."prompt" ILIKE ${`%${likeLiteral(f.search)}%`}`);
  return Prisma.join(parts, " AND ");
};

/**
 * Runs one aggregate query with room to group in memory. At a year of tasks
 * the default work_mem (4 MB) makes PostgreSQL sort the rows on disk instead
 * of hashing a few thousand groups, which takes 2.5 times as long
 * (docs/benchmarks.md). SET LOCAL ends with the transaction.
 */
export async function aggregate<T>(db: Db, query: Prisma.Sql): Promise<T[]> {
  const [, rows] = await db.$transaction([db.$executeRaw`SET LOCAL work_mem = '64MB'`, db.$queryRaw<T[]>(query)]);
  return rows;
}

/** The SQL behind the usage figures, for the benchmark's EXPLAIN (docs/benchmarks.md). */
export const usageSql = {
  totals: (f: UsageFilter | TaskSetFilter) => Prisma.sql`SELECT ${TOTALS} FROM "Task" t WHERE ${whereOf(f)}`,
  series: (f: SeriesFilter) => seriesSql(f),
  groups: (f: UsageFilter) => groupsSql(f),
};

const rate = (failed: number, completed: number) => (failed + completed === 0 ? null : failed / (failed + completed));

interface TotalsRow {
  tasks: bigint;
  completed: bigint;
  failed: bigint;
  running: bigint;
  unknown: bigint;
  seconds: bigint | null;
  cost: string | null;
}

const TOTALS = Prisma.sql`
  count(*) AS tasks,
  count(*) FILTER (WHERE t."status" = 'completed') AS completed,
  count(*) FILTER (WHERE t."status" = 'failed') AS failed,
  count(*) FILTER (WHERE t."status" IN ('submitting', 'pending', 'processing')) AS running,
  count(*) FILTER (WHERE t."errorCode" = 'submission_unknown') AS unknown,
  sum(t."billedSeconds") AS seconds,
  sum(t."cost")::text AS cost`;

function totalsOf(r: TotalsRow | undefined): UsageTotals {
  const completed = Number(r?.completed ?? 0);
  const failed = Number(r?.failed ?? 0);
  return {
    tasks: Number(r?.tasks ?? 0),
    completed,
    failed,
    running: Number(r?.running ?? 0),
    outcomeUnknown: Number(r?.unknown ?? 0),
    billedSeconds: Number(r?.seconds ?? 0),
    cost: Number(r?.cost ?? 0),
    failureRate: rate(failed, completed),
  };
}

export async function usageTotals(db: Db, f: UsageFilter | TaskSetFilter): Promise<UsageTotals> {
  const [row] = await aggregate<TotalsRow>(db, usageSql.totals(f));
  return totalsOf(row);
}

export type SeriesGroup = "person" | "quality" | "mode";

export interface SeriesPoint {
  /** YYYY-MM-DD in the reporting time zone. */
  day: string;
  /** The person's id, the quality or the mode. */
  key: string;
  cost: number;
  billedSeconds: number;
}

function seriesSql(f: SeriesFilter): Prisma.Sql {
  const bounds = [...f.dayStarts, f.to].map((d) => d.toISOString().replace("T", " ").replace("Z", ""));
  const user = f.userId ? Prisma.sql` AND t."userId" = ${f.userId}` : Prisma.empty;
  // By person: the top people by cost keep their own stack, the rest are "others" (a few keys per day, not one per person).
  const key =
    f.groupBy === "person"
      ? Prisma.sql`CASE WHEN t."userId" IN (SELECT "userId" FROM top) THEN t."userId" ELSE 'others' END`
      : f.groupBy === "quality"
        ? Prisma.sql`t."quality"`
        : Prisma.sql`t."mode"::text`;
  const top =
    f.groupBy === "person"
      ? Prisma.sql`WITH top AS MATERIALIZED (SELECT t."userId" FROM "Task" t WHERE ${whereOf(f)} GROUP BY 1 ORDER BY sum(t."cost") DESC NULLS LAST, 1 LIMIT ${f.top ?? 5}),`
      : Prisma.sql`WITH`;
  return Prisma.sql`
  ${top} bounds AS (SELECT ${bounds}::timestamp[] AS b)
  SELECT d.n AS bucket, s.key, s.cost, s.seconds
  FROM bounds, unnest(bounds.b) WITH ORDINALITY AS d(start, n)
  CROSS JOIN LATERAL (
    SELECT ${key} AS key, sum(t."cost")::text AS cost, sum(t."billedSeconds") AS seconds
    FROM "Task" t WHERE t."createdAt" >= d.start AND t."createdAt" < bounds.b[d.n + 1]${user}
    GROUP BY 1) s
  WHERE d.n <= ${f.days.length}
  ORDER BY 1, 2`;
}

/**
 * Cost and billed seconds per day of the period (in its time zone), per
 * person, quality or mode. One small aggregate per day over that day's slice
 * of the createdAt index (days' first instants computed once in the time
 * zone), rather than converting a million timestamps to local days: grouping
 * by a computed day makes PostgreSQL expect a group per row and sort them
 * all (docs/benchmarks.md).
 */
export async function usageSeries(db: Db, f: SeriesFilter): Promise<SeriesPoint[]> {
  const rows = await aggregate<{ bucket: bigint; key: string; cost: string | null; seconds: bigint | null }>(db, usageSql.series(f));
  return rows.map((r) => ({ day: f.days[Number(r.bucket) - 1]!, key: r.key, cost: Number(r.cost ?? 0), billedSeconds: Number(r.seconds ?? 0) }));
}

export interface PersonUsage extends UsageTotals {
  userId: string;
  email: string;
  name: string | null;
  secondsByQuality: { "720p": number; "1080p": number };
  secondsByMode: { first_frame: number; first_last_frame: number; video_continuation: number };
}

/** Where tasks came from: the form, or one personal API key (with its owner). */
export interface SourceUsage {
  /** "form", or the API key's id. */
  key: string;
  kind: "form" | "api";
  /** The key's name and prefix; null for the form (or a key that no longer exists). */
  name: string | null;
  prefix: string | null;
  /** The key's owner; null for the form. */
  ownerEmail: string | null;
  tasks: number;
  billedSeconds: number;
  cost: number;
}

export interface Breakdowns {
  byMode: Array<{ key: string; tasks: number; billedSeconds: number; cost: number }>;
  byQuality: Array<{ key: string; tasks: number; billedSeconds: number; cost: number }>;
  /** The form, then each API key, dearest first. */
  bySource: SourceUsage[];
  /** Failed tasks by the provider's (or the portal's) error code. */
  byErrorCode: Array<{ key: string; tasks: number }>;
}

/** A decimal string as exact micro-units ("12.345678" -> 12345678n): sums stay exact. */
export function microUnits(decimal: string | null): bigint {
  if (!decimal) return 0n;
  const negative = decimal.startsWith("-");
  const [whole = "0", fraction = ""] = decimal.replace(/^-/, "").split(".");
  const units = BigInt(whole) * 1_000_000n + BigInt((fraction + "000000").slice(0, 6));
  return negative ? -units : units;
}

const fromMicro = (units: bigint) => Number(units) / 1e6;

/** One (person, mode, quality, failure code, API key) cell of the groups query. */
interface Cell extends TotalsRow {
  userId: string;
  mode: string;
  quality: string;
  failure: string | null;
  /** The personal key the tasks were made with through /v1; null: the form. */
  apiKeyId: string | null;
}

/** Adds cells up into totals, exactly (costs in micro-units). */
class Tally {
  tasks = 0;
  completed = 0;
  failed = 0;
  running = 0;
  unknown = 0;
  seconds = 0;
  micro = 0n;
  add(c: Cell): this {
    this.tasks += Number(c.tasks);
    this.completed += Number(c.completed);
    this.failed += Number(c.failed);
    this.running += Number(c.running);
    this.unknown += Number(c.unknown);
    this.seconds += Number(c.seconds ?? 0);
    this.micro += microUnits(c.cost);
    return this;
  }
  totals(): UsageTotals {
    return {
      tasks: this.tasks,
      completed: this.completed,
      failed: this.failed,
      running: this.running,
      outcomeUnknown: this.unknown,
      billedSeconds: this.seconds,
      cost: fromMicro(this.micro),
      failureRate: rate(this.failed, this.completed),
    };
  }
}

function tallyBy<K>(cells: Cell[], keyOf: (c: Cell) => K): Map<K, Tally> {
  const out = new Map<K, Tally>();
  for (const c of cells) {
    const k = keyOf(c);
    const t = out.get(k) ?? new Tally();
    out.set(k, t.add(c));
  }
  return out;
}

function groupsSql(f: UsageFilter): Prisma.Sql {
  return Prisma.sql`
  SELECT t."userId", t."mode"::text AS mode, t."quality",
         CASE WHEN t."status" = 'failed' THEN coalesce(t."errorCode", 'unknown') END AS failure,
         t."apiKeyId",
         ${TOTALS}
  FROM "Task" t WHERE ${whereOf(f)}
  GROUP BY 1, 2, 3, 4, 5`;
}

/**
 * The period's figures per person, per mode, per quality, per failure code
 * and per source (the form or an API key), and in all, from one pass over
 * its tasks: one GROUP BY on (person, mode, quality, failure code, API key),
 * a few thousand cells at most, added up here exactly (micro-units). Each
 * task row is read and aggregated once, from the covering index alone
 * (Task_usage_covering_idx, migration 20261126223000). The keys' names are
 * looked up only when the period has API tasks.
 */
export async function usageGroups(db: Db, f: UsageFilter): Promise<{ totals: UsageTotals; people: PersonUsage[]; breakdowns: Breakdowns }> {
  const cells = await aggregate<Cell>(db, usageSql.groups(f));
  const byUser = tallyBy(cells, (c) => c.userId);
  const [userRows, keys] = await Promise.all([
    db.user.findMany({ where: { id: { in: [...byUser.keys()] } }, select: { id: true, email: true, name: true } }),
    apiKeyLabels(
      db,
      cells.map((c) => c.apiKeyId),
    ),
  ]);
  const users = new Map(userRows.map((u) => [u.id, u]));
  // Billed seconds per person by quality and by mode, in one pass over the cells.
  const split = new Map<string, Pick<PersonUsage, "secondsByQuality" | "secondsByMode">>();
  for (const c of cells) {
    const s = split.get(c.userId) ?? { secondsByQuality: { "720p": 0, "1080p": 0 }, secondsByMode: { first_frame: 0, first_last_frame: 0, video_continuation: 0 } };
    const seconds = Number(c.seconds ?? 0);
    if (c.quality in s.secondsByQuality) s.secondsByQuality[c.quality as keyof PersonUsage["secondsByQuality"]] += seconds;
    if (c.mode in s.secondsByMode) s.secondsByMode[c.mode as keyof PersonUsage["secondsByMode"]] += seconds;
    split.set(c.userId, s);
  }
  const people = [...byUser.entries()]
    .map(([userId, tally]): PersonUsage => ({
      userId,
      email: users.get(userId)?.email ?? "(deleted)",
      name: users.get(userId)?.name ?? null,
      ...tally.totals(),
      ...split.get(userId)!,
    }))
    .sort((a, b) => b.cost - a.cost || a.email.localeCompare(b.email));
  const shape = (tallies: Map<string, Tally>) =>
    [...tallies.entries()]
      .map(([key, t]) => ({ key, tasks: t.tasks, billedSeconds: t.seconds, cost: fromMicro(t.micro) }))
      .sort((a, b) => b.cost - a.cost || a.key.localeCompare(b.key));
  const failures = tallyBy(
    cells.filter((c) => c.failure !== null),
    (c) => c.failure as string,
  );
  // A key belongs to one person: its cells all carry that person's id.
  const ownerOfKey = new Map(cells.filter((c) => c.apiKeyId !== null).map((c) => [c.apiKeyId!, c.userId]));
  const bySource = [...tallyBy(cells, (c) => c.apiKeyId ?? "form").entries()]
    .map(([key, t]): SourceUsage => {
      const label = key === "form" ? undefined : keys.get(key);
      const owner = key === "form" ? undefined : users.get(ownerOfKey.get(key)!);
      return {
        key,
        kind: key === "form" ? "form" : "api",
        name: label?.name ?? null,
        prefix: label?.prefix ?? null,
        ownerEmail: key === "form" ? null : (owner?.email ?? "(deleted)"),
        tasks: t.tasks,
        billedSeconds: t.seconds,
        cost: fromMicro(t.micro),
      };
    })
    .sort((a, b) => (a.kind === b.kind ? b.cost - a.cost || a.key.localeCompare(b.key) : a.kind === "form" ? -1 : 1));
  return {
    totals: cells.reduce((t, c) => t.add(c), new Tally()).totals(),
    people,
    breakdowns: {
      byMode: shape(tallyBy(cells, (c) => c.mode)),
      byQuality: shape(tallyBy(cells, (c) => c.quality)),
      bySource,
      byErrorCode: [...failures.entries()].map(([key, t]) => ({ key, tasks: t.failed })).sort((a, b) => b.tasks - a.tasks || a.key.localeCompare(b.key)),
    },
  };
}

/** The per-person table. */
export async function usageByPerson(db: Db, f: UsageFilter): Promise<PersonUsage[]> {
  return (await usageGroups(db, f)).people;
}

export async function usageBreakdowns(db: Db, f: UsageFilter): Promise<Breakdowns> {
  return (await usageGroups(db, f)).breakdowns;
}

/** Tasks given up as "outcome unknown" in the period: the provider may have charged; an admin checks its console. */
export async function outcomeUnknownTasks(db: Db, f: UsageFilter, limit = 100) {
  return db.task.findMany({
    where: { createdAt: { gte: f.from, lt: f.to }, errorCode: "submission_unknown", ...(f.userId && { userId: f.userId }) },
    orderBy: { createdAt: "desc" },
    take: limit,
    select: { id: true, createdAt: true, prompt: true, estimatedCost: true, currency: true, user: { select: { email: true } } },
  });
}

/** The change of a figure against the previous period: null when there is nothing to compare with. */
export function change(now: number, before: number): number | null {
  return before === 0 ? null : (now - before) / before;
}

/** Keeps the `top` keys by total cost and folds the rest into "others" (the chart's stacks). */
export function topKeys(points: SeriesPoint[], top: number): { keys: string[]; points: SeriesPoint[] } {
  const totals = new Map<string, number>();
  for (const p of points) totals.set(p.key, (totals.get(p.key) ?? 0) + p.cost + p.billedSeconds * 1e-9);
  const keys = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  if (keys.length <= top) return { keys, points };
  const kept = new Set(keys.slice(0, top));
  const folded = new Map<string, SeriesPoint>();
  for (const p of points) {
    const key = kept.has(p.key) ? p.key : "others";
    const id = `${p.day}|${key}`;
    const acc = folded.get(id) ?? { day: p.day, key, cost: 0, billedSeconds: 0 };
    acc.cost = Math.round((acc.cost + p.cost) * 1e6) / 1e6;
    acc.billedSeconds += p.billedSeconds;
    folded.set(id, acc);
  }
  return { keys: [...kept, "others"], points: [...folded.values()] };
}

export interface UsageReport {
  period: Period;
  totals: UsageTotals;
  previous: UsageTotals;
  series: { groupBy: SeriesGroup; keys: string[]; labels: Record<string, string>; points: SeriesPoint[] };
  people: PersonUsage[];
  breakdowns: Breakdowns;
}

/** Everything the usage page shows for a period: three passes over its tasks (groups, days, the previous period's totals). */
export async function usageReport(db: Db, period: Period, opts: { groupBy: SeriesGroup; userId?: string; top?: number }): Promise<UsageReport> {
  const f: UsageFilter = { from: period.from, to: period.to, ...(opts.userId && { userId: opts.userId }) };
  const before = { ...f, from: period.previous.from, to: period.previous.to };
  const [groups, previous, points] = await Promise.all([
    usageGroups(db, f),
    usageTotals(db, before),
    usageSeries(db, { ...f, days: period.days, dayStarts: period.dayStarts, groupBy: opts.groupBy, top: opts.top ?? 5 }),
  ]);
  const series = topKeys(points, 99); // by person, the query has already folded all but the top people into "others"
  const labels: Record<string, string> = { others: "Others" };
  if (opts.groupBy === "person") for (const p of groups.people) labels[p.userId] = p.name ? `${p.name}` : p.email;
  return { period, totals: groups.totals, previous, series: { groupBy: opts.groupBy, ...series, labels }, people: groups.people, breakdowns: groups.breakdowns };
}
