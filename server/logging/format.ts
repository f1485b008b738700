/**
 * The readable form of a log record, for a person at a terminal (LOG_FORMAT
 * unset or `text`): one line, `[service] level: message key=value …`, the
 * launcher's own lines without a prefix (as `npm start` always printed them),
 * the level only when it is a warning or worse, an error's stack on the lines
 * after it. LOG_FORMAT=json writes the record itself instead.
 */

/** What every record has, shown in the line's own form rather than as key=value. */
const OWN = new Set(["time", "level", "msg", "pid", "hostname", "service", "err"]);

const LOUD: Record<string, string> = { warn: "warning", error: "error", fatal: "fatal" };

function valueText(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}

interface SerializedError {
  type?: string;
  message?: string;
  stack?: string;
}

/** One log record (as pino writes it in JSON) as a line of text, with the error's stack indented below when there is one. */
export function formatRecord(record: Record<string, unknown>): string {
  const service = typeof record.service === "string" && record.service !== "launcher" ? `[${record.service}] ` : "";
  const level = typeof record.level === "string" ? LOUD[record.level] : undefined;
  const msg = typeof record.msg === "string" ? record.msg : "";
  const fields = Object.entries(record)
    .filter(([key, value]) => !OWN.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${valueText(value)}`);
  let line = `${service}${level ? `${level}: ` : ""}${msg}${fields.length > 0 ? `${msg ? "  " : ""}${fields.join(" ")}` : ""}`;
  const err = record.err as SerializedError | undefined;
  if (err && typeof err === "object") {
    const detail = err.stack ?? `${err.type ?? "Error"}: ${err.message ?? ""}`;
    line += `\n${detail
      .split("\n")
      .map((l) => `    ${l.trimStart()}`)
      .join("\n")}`;
  }
  return line;
}

/** A line pino wrote (JSON) as text; a line that is not a JSON object is returned as it is. */
export function formatJsonLine(line: string): string {
  const trimmed = line.endsWith("\n") ? line.slice(0, -1) : line;
  try {
    const record = JSON.parse(trimmed) as unknown;
    if (record && typeof record === "object" && !Array.isArray(record)) return formatRecord(record as Record<string, unknown>);
  } catch {
    // not ours
  }
  return trimmed;
}
