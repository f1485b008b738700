/**
 * Reporting periods in a time zone: their instants, their days (DST days of
 * 23 and 25 hours included), and the previous period each is compared with.
 */
import { describe, expect, it } from "vitest";
import { resolvePeriod, type PeriodSpec } from "@/server/usage/periods.ts";

const at = (iso: string) => new Date(iso);
const NOW = at("2026-11-26T12:00:00Z");

describe("periods", () => {
  it("a month in Paris runs from its local midnight to the next month's; its DST day has 25 hours", () => {
    const p = resolvePeriod({ kind: "month", month: "2026-10" }, "Europe/Paris", NOW);
    expect(p.from).toEqual(at("2026-09-30T22:00:00Z"));
    expect(p.to).toEqual(at("2026-10-31T23:00:00Z"));
    expect(p.days).toHaveLength(31);
    const i = p.days.indexOf("2026-10-25");
    expect(p.dayStarts[i + 1]!.getTime() - p.dayStarts[i]!.getTime()).toBe(25 * 3600_000);
    expect(p.month).toBe("2026-10");
  });

  it("Kathmandu (+05:45) and Chatham (+13:45) days start at their own midnight", () => {
    expect(resolvePeriod({ kind: "day", day: "2026-11-02" }, "Asia/Kathmandu", NOW).from).toEqual(at("2026-11-01T18:15:00Z"));
    expect(resolvePeriod({ kind: "day", day: "2026-11-02" }, "Pacific/Chatham", NOW).from).toEqual(at("2026-11-01T10:15:00Z"));
  });

  it("a finished month is compared with the whole calendar month before it", () => {
    const march = resolvePeriod({ kind: "month", month: "2026-03" }, "Europe/Paris", NOW);
    expect(march.previous.from).toEqual(at("2026-01-31T23:00:00Z"));
    expect(march.previous.to).toEqual(at("2026-02-28T23:00:00Z"));
    expect(march.previous.label).toBe("February 2026");
  });

  it("the running month is compared with last month as far as the same day and hour", () => {
    const p = resolvePeriod({ kind: "this-month" }, "UTC", at("2026-11-05T09:30:00Z"));
    expect(p.from).toEqual(at("2026-11-01T00:00:00Z"));
    expect(p.previous).toEqual({ from: at("2026-10-01T00:00:00Z"), to: at("2026-10-05T09:30:00Z"), label: "1 Oct 2026 to 5 Oct 2026 (as far as now)" });
    // 31 March: a month back is the end of February, not 3 March.
    const endOfMarch = resolvePeriod({ kind: "this-month" }, "UTC", at("2026-03-31T10:00:00Z"));
    expect(endOfMarch.previous.to).toEqual(at("2026-02-28T10:00:00Z"));
  });

  it("a day, a week and a range are compared with as many days just before them, DST or not", () => {
    const day = resolvePeriod({ kind: "day", day: "2026-03-30" }, "Europe/Paris", NOW);
    expect(day.previous).toMatchObject({ from: at("2026-03-28T23:00:00Z"), to: at("2026-03-29T22:00:00Z"), label: "29 Mar 2026" });
    const week = resolvePeriod({ kind: "week", day: "2026-11-11" }, "UTC", NOW);
    expect(week.from).toEqual(at("2026-11-09T00:00:00Z")); // Monday
    expect(week.previous).toMatchObject({ from: at("2026-11-02T00:00:00Z"), to: at("2026-11-09T00:00:00Z") });
    const range = resolvePeriod({ kind: "range", from: "2026-01-01", to: "2026-12-31" }, "UTC", at("2027-02-01T00:00:00Z"));
    expect(range.previous).toMatchObject({ from: at("2025-01-01T00:00:00Z"), to: at("2026-01-01T00:00:00Z") });
  });

  it("refuses periods that do not exist or are too long", () => {
    const bad: PeriodSpec[] = [
      { kind: "day", day: "2026-02-30" },
      { kind: "day", day: "0000-01-01" },
      { kind: "month", month: "2026-13" },
      { kind: "month", month: "0099-01" },
      { kind: "range", from: "2026-02-01", to: "2026-01-01" },
      { kind: "range", from: "2024-01-01", to: "2026-01-01" },
    ];
    for (const spec of bad) expect(() => resolvePeriod(spec, "UTC", NOW), JSON.stringify(spec)).toThrow(RangeError);
  });
});
