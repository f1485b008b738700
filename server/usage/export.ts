/**
 * CSV exports of a period: the per-person table, and every task. Streamed
 * from the database (a server-side cursor through pg-query-stream into
 * csv-stringify), so a year of tasks never sits in memory; a header row and
 * a stable column order; UTF-8 with a byte-order mark and CRLF line ends, so
 * spreadsheets open it as it is; the stored costs (6 decimals), so the file's
 * sums match the page; times in the reporting time zone; cells that a
 * spreadsheet would run as a formula are defused.
 */
import { Readable } from "node:stream";
import { stringify } from "csv-stringify";
import pg from "pg";
import QueryStream from "pg-query-stream";
import { budgetOverview } from "../budgets/budgets.ts";
import { routeHandler, type HttpHandler } from "../http/errors.ts";
import { AppError } from "../errors.ts";
import type { SessionUser } from "../users/users.ts";
import { monthOf, periodSpecSchema, type PeriodSpec } from "./periods.ts";
import { periodFor, type UsageDeps } from "./service.ts";
import { usageByPerson } from "./usage.ts";

export interface ExportDeps extends UsageDeps {
  databaseUrl: string;
  currentUser: () => Promise<SessionUser | null>;
}

/** A cell a spreadsheet would evaluate (=, +, -, @, tab, CR) gets a leading apostrophe. */
export function defused(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

const csvOptions = (columns: Array<{ key: string; header: string }>) => ({
  header: true,
  bom: true,
  record_delimiter: "\r\n" as const,
  columns,
  cast: { string: defused, boolean: (b: boolean) => (b ? "true" : "false") },
});

function csvResponse(body: Readable, filename: string): Response {
  return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${filename}"`,
      "Cache-Control": "no-store",
    },
  });
}

/** The period of a CSV link's query (?kind=month&month=2026-11, …). */
export function periodSpecOf(url: string): PeriodSpec {
  const params = Object.fromEntries(new URL(url).searchParams);
  const parsed = periodSpecSchema.safeParse(Object.keys(params).length === 0 ? { kind: "this-month" } : params);
  if (!parsed.success) throw new AppError("BAD_REQUEST", "Choose a period: kind=this-month, last-month, month (month=YYYY-MM), day or week (day=YYYY-MM-DD), or range (from, to).");
  return parsed.data;
}

async function requireAdmin(deps: ExportDeps): Promise<void> {
  const user = await deps.currentUser();
  if (!user) throw new AppError("UNAUTHORIZED", "Sign in to export usage.");
  if (user.role !== "admin") throw new AppError("FORBIDDEN", "Only admins can export the team's usage.");
}

/** A person's budget for the month (their own or the default): limit, and spent plus reserved; empty without one. */
function budgetColumns(use: { limit: number | null; spent: number; reserved: number } | null, defaultLimit: number | null, budgetMonth: string) {
  const limit = use ? use.limit : defaultLimit;
  return {
    budgetMonth,
    budgetLimit: limit === null ? "" : limit.toFixed(6),
    budgetUsed: limit === null ? "" : ((use?.spent ?? 0) + (use?.reserved ?? 0)).toFixed(6),
  };
}

const slug = (label: string) => label.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

/** GET /api/usage/people.csv: the per-person table of a period. */
export function peopleCsvRoute(deps: () => ExportDeps): HttpHandler {
  return routeHandler("people CSV", async (req: Request) => {
    const d = deps();
    await requireAdmin(d);
    const period = await periodFor(d, periodSpecOf(req.url));
    const budgetMonth = period.month ?? monthOf(d.now?.() ?? new Date(), period.timeZone);
    const [people, budgets] = await Promise.all([usageByPerson(d.db, { from: period.from, to: period.to }), budgetOverview(d.db, budgetMonth)]);
    const columns = [
      { key: "email", header: "email" },
      { key: "name", header: "name" },
      { key: "tasks", header: "tasks" },
      { key: "completed", header: "completed" },
      { key: "failed", header: "failed" },
      { key: "running", header: "running" },
      { key: "outcomeUnknown", header: "outcome_unknown" },
      { key: "billedSeconds", header: "billed_seconds" },
      { key: "s720", header: "billed_seconds_720p" },
      { key: "s1080", header: "billed_seconds_1080p" },
      { key: "sff", header: "billed_seconds_first_frame" },
      { key: "sflf", header: "billed_seconds_first_last_frame" },
      { key: "svc", header: "billed_seconds_video_continuation" },
      { key: "cost", header: "cost" },
      { key: "currency", header: "currency" },
      { key: "failureRate", header: "failure_rate" },
      { key: "budgetMonth", header: "budget_month" },
      { key: "budgetLimit", header: "budget_limit" },
      { key: "budgetUsed", header: "budget_spent_and_reserved" },
    ];
    const rows = people.map((p) => ({
      ...p,
      name: p.name ?? "",
      s720: p.secondsByQuality["720p"],
      s1080: p.secondsByQuality["1080p"],
      sff: p.secondsByMode.first_frame,
      sflf: p.secondsByMode.first_last_frame,
      svc: p.secondsByMode.video_continuation,
      cost: p.cost.toFixed(6),
      currency: d.currency,
      failureRate: p.failureRate === null ? "" : p.failureRate.toFixed(4),
      ...budgetColumns(budgets.people.get(p.userId) ?? null, budgets.defaultLimit, budgetMonth),
    }));
    return csvResponse(Readable.from(rows).pipe(stringify(csvOptions(columns))), `usage-people-${slug(period.label)}.csv`);
  });
}

/** GET /api/usage/tasks.csv: every task of a period, streamed. */
export function tasksCsvRoute(deps: () => ExportDeps): HttpHandler {
  return routeHandler("tasks CSV", async (req: Request) => {
    const d = deps();
    await requireAdmin(d);
    const period = await periodFor(d, periodSpecOf(req.url));
    const tz = period.timeZone;
    const client = new pg.Client({ connectionString: d.databaseUrl });
    await client.connect();
    const local = (column: string) => `to_char((t."${column}" AT TIME ZONE 'UTC') AT TIME ZONE $3, 'YYYY-MM-DD HH24:MI:SS')`;
    const query = new QueryStream(
      `SELECT u."email" AS owner_email, coalesce(u."name", '') AS owner_name, t."id" AS task_id, coalesce(t."providerTaskId", '') AS provider_task_id,
              t."mode"::text AS mode, t."quality", t."durationSeconds" AS duration_asked_seconds,
              coalesce(t."billedSeconds"::text, '') AS billed_seconds, t."pricePerSecond"::text AS price_per_second,
              coalesce(t."cost"::text, '') AS cost, t."currency", t."status"::text AS status, coalesce(t."errorCode", '') AS error_code,
              ${local("createdAt")} AS submitted_at, coalesce(${local("completedAt")}, '') AS ended_at, $3 AS time_zone,
              CASE WHEN t."apiKeyId" IS NULL THEN 'form' ELSE coalesce(k."name" || ' (' || k."prefix" || '…)', 'API key') END AS source
       FROM "Task" t JOIN "User" u ON u."id" = t."userId" LEFT JOIN "ApiKey" k ON k."id" = t."apiKeyId"
       WHERE t."createdAt" >= $1 AND t."createdAt" < $2
       ORDER BY t."createdAt", t."id"`,
      [period.from, period.to, tz],
      { batchSize: 500 },
    );
    const rows = client.query(query);
    const headers = [
      "owner_email",
      "owner_name",
      "task_id",
      "provider_task_id",
      "mode",
      "quality",
      "duration_asked_seconds",
      "billed_seconds",
      "price_per_second",
      "cost",
      "currency",
      "status",
      "error_code",
      "submitted_at",
      "ended_at",
      "time_zone",
      // "form", or the personal API key it was made with through /v1: its name and prefix, as the keys page lists it.
      "source",
    ];
    // Stable headers whatever the zone: the zone of the times is a column of its own.
    const columns = headers.map((h) => ({ key: h, header: h }));
    const csv = stringify(csvOptions(columns));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      void client.end().catch(() => {});
    };
    // Rows flow from the cursor through the stringifier as the client reads; a client that goes away stops the query.
    rows.on("error", (err) => csv.destroy(err));
    rows.on("end", release);
    csv.on("close", () => {
      rows.destroy();
      release();
    });
    return csvResponse(rows.pipe(csv), `usage-tasks-${slug(period.label)}.csv`);
  });
}
