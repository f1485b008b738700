/**
 * Reporting periods in the team's reporting time zone: this month, last
 * month, a day, a week (Monday to Sunday), any range of days. Each resolves
 * to the instants [from, to) that tasks are counted in (a task counts in the
 * period in which it was submitted), and the previous period to compare
 * with: the calendar month, week, day or run of days before it; while a
 * period is still running, only as far into the previous one as this one has
 * gone (month to date against the same days of last month). Pure, so the
 * pages and the tests share it.
 */
import { TZDate } from "@date-fns/tz";
import { subDays, subMonths } from "date-fns";
import { z } from "zod";

export type PeriodSpec =
  | { kind: "this-month" }
  | { kind: "last-month" }
  | { kind: "month"; month: string } // YYYY-MM
  | { kind: "day"; day: string } // YYYY-MM-DD
  | { kind: "week"; day: string } // any day of the week
  | { kind: "range"; from: string; to: string }; // days, inclusive

export interface Period {
  from: Date;
  to: Date;
  timeZone: string;
  /** What the page says it is, e.g. "November 2026" or "3 Nov 2026 to 9 Nov 2026". */
  label: string;
  /** The days it covers, as YYYY-MM-DD in the time zone (the chart's x axis). */
  days: string[];
  /** The first instant of each of those days, in the time zone. */
  dayStarts: Date[];
  /** The budget month its figures belong to, when it lies within one month. */
  month: string | null;
  /** What its figures are compared with. */
  previous: { from: Date; to: Date; label: string };
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;
const MAX_DAYS = 400;

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

/** Midnight at the start of a calendar day in `tz`, as an instant. */
function startOfDay(y: number, m: number, d: number, tz: string): Date {
  return new Date(new TZDate(y, m - 1, d, tz).getTime());
}

/** Years the portal reports on (Date.UTC reads 0–99 as 1900–1999). */
const inRange = (y: number) => y >= 1970 && y <= 9999;

function parseDay(day: string): [number, number, number] {
  const match = DAY.exec(day);
  if (!match) throw new RangeError(`not a day: ${day}`);
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (!inRange(y)) throw new RangeError(`not a day the portal reports on: ${day}`);
  const check = new Date(Date.UTC(y, m - 1, d));
  if (check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) throw new RangeError(`not a day: ${day}`);
  return [y, m, d];
}

/** YYYY-MM-DD of an instant in `tz`. */
export function dayOf(instant: Date, tz: string): string {
  const t = new TZDate(instant.getTime(), tz);
  return `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, "0")}-${String(t.getDate()).padStart(2, "0")}`;
}

/** The first instant of a YYYY-MM-DD day in `tz`, and of the day after it (RangeError for a day that does not exist). */
export function dayBounds(day: string, tz: string): { from: Date; to: Date } {
  const [y, m, d] = parseDay(day);
  const [y2, m2, d2] = parseDay(addDays(day, 1));
  return { from: startOfDay(y, m, d, tz), to: startOfDay(y2, m2, d2, tz) };
}

/** YYYY-MM (the budget month) of an instant in `tz`. */
export function monthOf(instant: Date, tz: string): string {
  return dayOf(instant, tz).slice(0, 7);
}

/** The first instant of a YYYY-MM month in `tz`, and of the month after it. */
export function monthBounds(month: string, tz: string): { from: Date; to: Date } {
  const match = MONTH.exec(month);
  if (!match) throw new RangeError(`not a month: ${month}`);
  const [y, m] = [Number(match[1]), Number(match[2])];
  if (m < 1 || m > 12 || !inRange(y)) throw new RangeError(`not a month: ${month}`);
  return { from: startOfDay(y, m, 1, tz), to: m === 12 ? startOfDay(y + 1, 1, 1, tz) : startOfDay(y, m + 1, 1, tz) };
}

function addDays(day: string, n: number): string {
  const [y, m, d] = parseDay(day);
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return t.toISOString().slice(0, 10);
}

function daysBetween(first: string, last: string): string[] {
  const out: string[] = [];
  for (let d = first; d <= last && out.length <= MAX_DAYS; d = addDays(d, 1)) out.push(d);
  return out;
}

const fmtDay = (day: string) => {
  const [y, m, d] = parseDay(day);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
};
const fmtMonth = (month: string) => new Date(`${month}-01T00:00:00Z`).toLocaleDateString("en-GB", { month: "long", year: "numeric", timeZone: "UTC" });

type Span = Omit<Period, "previous">;

/** The period of days [first, last] (inclusive) in `tz`. */
function daysPeriod(first: string, last: string, tz: string, label: string): Span {
  if (last < first) throw new RangeError("the period ends before it starts");
  const days = daysBetween(first, last);
  if (days.length > MAX_DAYS) throw new RangeError(`a period is at most ${MAX_DAYS} days`);
  const [y2, m2, d2] = parseDay(addDays(last, 1));
  const month = first.slice(0, 7) === last.slice(0, 7) ? first.slice(0, 7) : null;
  const dayStarts = days.map((day) => {
    const [y, m, d] = parseDay(day);
    return startOfDay(y, m, d, tz);
  });
  return { from: dayStarts[0]!, to: startOfDay(y2, m2, d2, tz), timeZone: tz, label, days, dayStarts, month };
}

/** The period without its comparison: the calendar unit it is made of, for stepping back. */
function resolveSpan(spec: PeriodSpec, tz: string, now: Date): { span: Span; unit: "month" | { days: number } } {
  switch (spec.kind) {
    case "this-month":
      return resolveSpan({ kind: "month", month: monthOf(now, tz) }, tz, now);
    case "last-month": {
      const { from } = monthBounds(monthOf(now, tz), tz);
      return resolveSpan({ kind: "month", month: monthOf(new Date(from.getTime() - 1), tz) }, tz, now);
    }
    case "month": {
      const { to } = monthBounds(spec.month, tz);
      const last = dayOf(new Date(to.getTime() - 1), tz);
      return { span: daysPeriod(`${spec.month}-01`, last, tz, fmtMonth(spec.month)), unit: "month" };
    }
    case "day":
      return { span: daysPeriod(spec.day, spec.day, tz, fmtDay(spec.day)), unit: { days: 1 } };
    case "week": {
      const [y, m, d] = parseDay(spec.day);
      const weekday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7; // Monday = 0
      const monday = addDays(spec.day, -weekday);
      return { span: daysPeriod(monday, addDays(monday, 6), tz, `Week of ${fmtDay(monday)}`), unit: { days: 7 } };
    }
    case "range": {
      const span = daysPeriod(spec.from, spec.to, tz, `${fmtDay(spec.from)} to ${fmtDay(spec.to)}`);
      return { span, unit: { days: span.days.length } };
    }
  }
}

export function resolvePeriod(spec: PeriodSpec, tz: string, now: Date = new Date()): Period {
  const { span, unit } = resolveSpan(spec, tz, now);
  // One unit back in the calendar of the time zone (a month back from 31 March is 28 or 29 February).
  const back = (instant: Date) => {
    const local = new TZDate(instant.getTime(), tz);
    return new Date((unit === "month" ? subMonths(local, 1) : subDays(local, unit.days)).getTime());
  };
  const first = span.days[0]!;
  const before =
    unit === "month"
      ? resolveSpan({ kind: "month", month: monthOf(back(span.from), tz) }, tz, now).span
      : daysPeriod(addDays(first, -unit.days), addDays(first, -1), tz, "");
  const running = now.getTime() > span.from.getTime() && now.getTime() < span.to.getTime();
  const to = running ? new Date(Math.min(back(now).getTime(), before.to.getTime())) : before.to;
  const lastDay = dayOf(new Date(to.getTime() - 1), tz);
  const label =
    unit === "month" && !running
      ? before.label
      : `${before.days[0] === lastDay ? fmtDay(lastDay) : `${fmtDay(before.days[0]!)} to ${fmtDay(lastDay)}`}${running ? " (as far as now)" : ""}`;
  return { ...span, previous: { from: before.from, to, label } };
}

/** A period as the pages send it (shared by the tRPC inputs and the CSV routes). */
const dayString = z.string().regex(DAY, "a day is YYYY-MM-DD");
export const periodSpecSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("this-month") }),
  z.object({ kind: z.literal("last-month") }),
  z.object({ kind: z.literal("month"), month: z.string().regex(MONTH, "a month is YYYY-MM") }),
  z.object({ kind: z.literal("day"), day: dayString }),
  z.object({ kind: z.literal("week"), day: dayString }),
  z.object({ kind: z.literal("range"), from: dayString, to: dayString }),
]);
