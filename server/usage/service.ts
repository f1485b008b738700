/**
 * What the usage procedures and the CSV routes ask for, in one place each:
 * the period resolved in the team's reporting time zone, the report, the
 * budgets, the "outcome unknown" tasks.
 */
import { budgetOverview, budgetStatus } from "../budgets/budgets.ts";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { reportingTimeZone } from "../settings/settings.ts";
import { monthOf, resolvePeriod, type Period, type PeriodSpec } from "./periods.ts";
import { outcomeUnknownTasks, usageReport, type SeriesGroup } from "./usage.ts";

export interface UsageDeps {
  db: Db;
  defaultTimeZone: string;
  currency: string;
  now?: () => Date;
}

/** The period a page asked for, in the reporting time zone; BAD_REQUEST for one that does not exist. */
export async function periodFor(deps: UsageDeps, spec: PeriodSpec): Promise<Period> {
  const tz = await reportingTimeZone(deps.db, deps.defaultTimeZone);
  try {
    return resolvePeriod(spec, tz, deps.now?.() ?? new Date());
  } catch (err) {
    throw new AppError("BAD_REQUEST", `That period cannot be shown: ${(err as Error).message}.`);
  }
}

/** The admins' usage page. */
export async function teamUsage(deps: UsageDeps, spec: PeriodSpec, groupBy: SeriesGroup) {
  const period = await periodFor(deps, spec);
  const budgetMonth = period.month ?? monthOf(deps.now?.() ?? new Date(), period.timeZone);
  const [report, budgets, unknown] = await Promise.all([
    usageReport(deps.db, period, { groupBy }),
    budgetOverview(deps.db, budgetMonth),
    outcomeUnknownTasks(deps.db, { from: period.from, to: period.to }),
  ]);
  return {
    ...report,
    currency: deps.currency,
    budgets: { month: budgetMonth, team: budgets.team, defaultLimit: budgets.defaultLimit, people: Object.fromEntries(budgets.people) },
    outcomeUnknown: unknown.map((t) => ({ id: t.id, createdAt: t.createdAt, prompt: t.prompt, owner: t.user.email, estimatedCost: Number(t.estimatedCost), currency: t.currency })),
  };
}

/** A member's own figures (top of their history page): the same queries, for them only. */
export async function myUsage(deps: UsageDeps, userId: string, spec: PeriodSpec) {
  const period = await periodFor(deps, spec);
  const [report, budget] = await Promise.all([
    usageReport(deps.db, period, { groupBy: "mode", userId }),
    budgetStatus(deps.db, userId, period.timeZone, deps.now?.() ?? new Date()),
  ]);
  return { period, totals: report.totals, previous: report.previous, series: report.series, currency: deps.currency, budget };
}

/** A member's budget right now (the form: what remains next to the estimate). */
export async function myBudget(deps: UsageDeps, userId: string) {
  const tz = await reportingTimeZone(deps.db, deps.defaultTimeZone);
  return { ...(await budgetStatus(deps.db, userId, tz, deps.now?.() ?? new Date())), currency: deps.currency, timeZone: tz };
}
