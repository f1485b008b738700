/**
 * The usage figures: what was spent, by whom, when and on what, for a period
 * of the reporting time zone. A task counts in the period in which it was
 * submitted (its createdAt), in usage and in budgets alike. Every money total
 * is the SQL sum of the stored per-task costs (6 decimals, exact numeric), so
 * any filter's total equals the sum of its tasks and of the CSV's rows; pages
 * round to the cent only for display.
 *
 * The queries read Task alone (its stored cost and billed seconds), through
 * the index on (createdAt, id): docs/benchmarks.md has their plans and times
 * at 1,000,000 tasks.
 */
import { Prisma, type Db } from "../db/client.ts";
import type { Period } from "./periods.ts";

export interface UsageFilter {
  from: Date;
  to: Date;
  /** One person's figures only (a member's own, or an admin's click). */
  userId?: string;
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

const whereOf = (f: UsageFilter) =>
  Prisma.sql`t."createdAt" >= ${f.from} AND t."createdAt" < ${f.to}${f.userId ? Prisma.sql` AND t."userId" = ${f.userId}` : Prisma.empty}`;

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

export async function usageTotals(db: Db, f: UsageFilter): Promise<UsageTotals> {
  const [row] = await db.$queryRaw<TotalsRow[]>`SELECT ${TOTALS} FROM "Task" t WHERE ${whereOf(f)}`;
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

/** Cost and billed seconds per day of the period (in its time zone), per person, quality or mode. */
export async function usageSeries(db: Db, f: UsageFilter & { timeZone: string; groupBy: SeriesGroup }): Promise<SeriesPoint[]> {
  const key = f.groupBy === "person" ? Prisma.sql`t."userId"` : f.groupBy === "quality" ? Prisma.sql`t."quality"` : Prisma.sql`t."mode"::text`;
  const rows = await db.$queryRaw<Array<{ day: string; key: string; cost: string | null; seconds: bigint | null }>>`
    SELECT to_char((t."createdAt" AT TIME ZONE 'UTC') AT TIME ZONE ${f.timeZone}, 'YYYY-MM-DD') AS day, ${key} AS key,
           sum(t."cost")::text AS cost, sum(t."billedSeconds") AS seconds
    FROM "Task" t WHERE ${whereOf(f)}
    GROUP BY 1, 2 ORDER BY 1, 2`;
  return rows.map((r) => ({ day: r.day, key: r.key, cost: Number(r.cost ?? 0), billedSeconds: Number(r.seconds ?? 0) }));
}

export interface PersonUsage extends UsageTotals {
  userId: string;
  email: string;
  name: string | null;
  secondsByQuality: { "720p": number; "1080p": number };
  secondsByMode: { first_frame: number; first_last_frame: number; video_continuation: number };
}

/** The per-person table. */
export async function usageByPerson(db: Db, f: UsageFilter): Promise<PersonUsage[]> {
  const rows = await db.$queryRaw<Array<TotalsRow & { userId: string; email: string; name: string | null; s720: bigint | null; s1080: bigint | null; sff: bigint | null; sflf: bigint | null; svc: bigint | null }>>`
    SELECT t."userId", u."email", u."name", ${TOTALS},
      sum(t."billedSeconds") FILTER (WHERE t."quality" = '720p') AS s720,
      sum(t."billedSeconds") FILTER (WHERE t."quality" = '1080p') AS s1080,
      sum(t."billedSeconds") FILTER (WHERE t."mode" = 'first_frame') AS sff,
      sum(t."billedSeconds") FILTER (WHERE t."mode" = 'first_last_frame') AS sflf,
      sum(t."billedSeconds") FILTER (WHERE t."mode" = 'video_continuation') AS svc
    FROM "Task" t JOIN "User" u ON u."id" = t."userId"
    WHERE ${whereOf(f)}
    GROUP BY t."userId", u."email", u."name"
    ORDER BY sum(t."cost") DESC NULLS LAST, u."email"`;
  return rows.map((r) => ({
    userId: r.userId,
    email: r.email,
    name: r.name,
    ...totalsOf(r),
    secondsByQuality: { "720p": Number(r.s720 ?? 0), "1080p": Number(r.s1080 ?? 0) },
    secondsByMode: { first_frame: Number(r.sff ?? 0), first_last_frame: Number(r.sflf ?? 0), video_continuation: Number(r.svc ?? 0) },
  }));
}

export interface Breakdowns {
  byMode: Array<{ key: string; tasks: number; billedSeconds: number; cost: number }>;
  byQuality: Array<{ key: string; tasks: number; billedSeconds: number; cost: number }>;
  /** Failed tasks by the provider's (or the portal's) error code. */
  byErrorCode: Array<{ key: string; tasks: number }>;
}

export async function usageBreakdowns(db: Db, f: UsageFilter): Promise<Breakdowns> {
  const group = (key: Prisma.Sql) =>
    db.$queryRaw<Array<{ key: string; tasks: bigint; seconds: bigint | null; cost: string | null }>>`
      SELECT ${key} AS key, count(*) AS tasks, sum(t."billedSeconds") AS seconds, sum(t."cost")::text AS cost
      FROM "Task" t WHERE ${whereOf(f)} GROUP BY 1 ORDER BY sum(t."cost") DESC NULLS LAST, 1`;
  const [byMode, byQuality, byErrorCode] = await Promise.all([
    group(Prisma.sql`t."mode"::text`),
    group(Prisma.sql`t."quality"`),
    db.$queryRaw<Array<{ key: string; tasks: bigint }>>`
      SELECT coalesce(t."errorCode", 'unknown') AS key, count(*) AS tasks
      FROM "Task" t WHERE ${whereOf(f)} AND t."status" = 'failed' GROUP BY 1 ORDER BY 2 DESC, 1`,
  ]);
  const shape = (rows: Array<{ key: string; tasks: bigint; seconds: bigint | null; cost: string | null }>) =>
    rows.map((r) => ({ key: r.key, tasks: Number(r.tasks), billedSeconds: Number(r.seconds ?? 0), cost: Number(r.cost ?? 0) }));
  return { byMode: shape(byMode), byQuality: shape(byQuality), byErrorCode: byErrorCode.map((r) => ({ key: r.key, tasks: Number(r.tasks) })) };
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

/** Everything the usage page shows for a period, from the queries above. */
export async function usageReport(db: Db, period: Period, opts: { groupBy: SeriesGroup; userId?: string; top?: number }): Promise<UsageReport> {
  const f: UsageFilter = { from: period.from, to: period.to, ...(opts.userId && { userId: opts.userId }) };
  const before = { ...f, from: new Date(period.from.getTime() - (period.to.getTime() - period.from.getTime())), to: period.from };
  const [totals, previous, points, people, breakdowns] = await Promise.all([
    usageTotals(db, f),
    usageTotals(db, before),
    usageSeries(db, { ...f, timeZone: period.timeZone, groupBy: opts.groupBy }),
    usageByPerson(db, f),
    usageBreakdowns(db, f),
  ]);
  const series = opts.groupBy === "person" ? topKeys(points, opts.top ?? 5) : topKeys(points, 99);
  const labels: Record<string, string> = { others: "Others" };
  if (opts.groupBy === "person") for (const p of people) labels[p.userId] = p.name ? `${p.name}` : p.email;
  return { period, totals, previous, series: { groupBy: opts.groupBy, ...series, labels }, people, breakdowns };
}
