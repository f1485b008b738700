"use client";
import type { PeriodSpec } from "@/server/usage/periods.ts";

type Kind = PeriodSpec["kind"];

const KINDS: Array<[Kind, string]> = [
  ["this-month", "This month"],
  ["last-month", "Last month"],
  ["month", "A month"],
  ["week", "A week"],
  ["day", "A day"],
  ["range", "Dates"],
];

/** Today in the reporting time zone (en-CA formats as YYYY-MM-DD). */
const today = (timeZone?: string) => new Intl.DateTimeFormat("en-CA", { timeZone: timeZone ?? "UTC", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());

/** The period selector: this month (default), last month, a month, a week, a day, or any dates. */
export function PeriodPicker({ value, onChange, timeZone }: { value: PeriodSpec; onChange: (spec: PeriodSpec) => void; timeZone?: string | undefined }) {
  const setKind = (kind: Kind) => {
    const day = "day" in value ? value.day : today(timeZone);
    if (kind === "this-month" || kind === "last-month") onChange({ kind });
    else if (kind === "month") onChange({ kind, month: day.slice(0, 7) });
    else if (kind === "day" || kind === "week") onChange({ kind, day });
    else onChange({ kind, from: `${day.slice(0, 7)}-01`, to: day });
  };
  return (
    <div className="filters" role="group" aria-label="Reporting period">
      <div className="field">
        <label htmlFor="period-kind">Period</label>
        <select id="period-kind" value={value.kind} onChange={(e) => setKind(e.target.value as Kind)}>
          {KINDS.map(([k, label]) => (
            <option key={k} value={k}>
              {label}
            </option>
          ))}
        </select>
      </div>
      {value.kind === "month" && (
        <div className="field">
          <label htmlFor="period-month">Month</label>
          <input id="period-month" type="month" value={value.month} onChange={(e) => e.target.value && onChange({ kind: "month", month: e.target.value })} />
        </div>
      )}
      {(value.kind === "day" || value.kind === "week") && (
        <div className="field">
          <label htmlFor="period-day">{value.kind === "week" ? "A day of the week" : "Day"}</label>
          <input id="period-day" type="date" value={value.day} onChange={(e) => e.target.value && onChange({ kind: value.kind, day: e.target.value })} />
        </div>
      )}
      {value.kind === "range" && (
        <>
          <div className="field">
            <label htmlFor="period-from">From</label>
            <input id="period-from" type="date" value={value.from} onChange={(e) => e.target.value && onChange({ ...value, from: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor="period-to">To</label>
            <input id="period-to" type="date" value={value.to} onChange={(e) => e.target.value && onChange({ ...value, to: e.target.value })} />
          </div>
        </>
      )}
    </div>
  );
}

/** The CSV links' query for a period. */
export function periodQuery(spec: PeriodSpec): string {
  return new URLSearchParams(Object.entries(spec).map(([k, v]) => [k, String(v)])).toString();
}
