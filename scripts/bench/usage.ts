/**
 * The usage page's queries at 1,000,000 tasks across 1,000 people (one year,
 * 2026), in a benchmark database of its own: an embedded PostgreSQL in
 * <DATA_DIR>/bench/pg (kept between runs, so the seeding is paid once), never
 * the portal's data. `--clean` drops it first. Seeding is set-based SQL.
 * Prints, per query, the median and worst of 7 runs for a month and for the
 * year, and the plan of the heaviest ones (for docs/benchmarks.md).
 *
 *   npm run bench -- usage [--clean]
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { createDb, Prisma, type Db } from "../../server/db/client.ts";
import { startEmbeddedPostgres } from "../../server/db/embedded.ts";
import { applyMigrations } from "../../server/db/migrate.ts";
import { resolvePeriod, type PeriodSpec } from "../../server/usage/periods.ts";
import { myUsage, teamUsage } from "../../server/usage/service.ts";
import { aggregate, outcomeUnknownTasks, usageGroups, usageReport, usageSeries, usageSql, usageTotals } from "../../server/usage/usage.ts";

const TASKS = 1_000_000;
const PEOPLE = 1_000;
const RUNS = 7;

/** The shared seed of the benchmark database (the other benchmarks reuse it): set-based, once. */
export async function seed(db: Db, log: (line: string) => void): Promise<void> {
  const have = await db.task.count();
  if (have >= TASKS && (await db.budget.count()) > 0) return log(`seeded already: ${have} tasks`);
  log(`seeding ${PEOPLE} people and ${TASKS} tasks (set-based INSERT … SELECT, once)…`);
  const started = Date.now();
  await db.$executeRawUnsafe(`TRUNCATE "Task", "User", "Budget", "BudgetLedger" CASCADE`);
  await db.$executeRawUnsafe(`
    INSERT INTO "User" ("id", "email", "name", "role", "status", "updatedAt")
    SELECT 'bench-user-' || g, 'person' || g || '@bench.test', 'Person ' || g, 'member', 'active', now()
    FROM generate_series(1, ${PEOPLE}) g`);
  // Spread evenly over 2026 in insertion order (as a live portal writes them); 10 % failed, 1 % running.
  await db.$executeRawUnsafe(`
    INSERT INTO "Task" ("id", "userId", "mode", "prompt", "quality", "request", "status", "progress", "resultUrls",
                        "durationSeconds", "billedSeconds", "cost", "pricePerSecond", "currency", "estimatedCost",
                        "errorCode", "createdAt", "updatedAt", "archiveStatus")
    SELECT 'bench-task-' || g, 'bench-user-' || (1 + (g * 7919) % ${PEOPLE}),
           (ARRAY['first_frame', 'first_last_frame', 'video_continuation'])[1 + (g % 3)]::"GenerationMode",
           repeat('A lighthouse at dawn, waves rolling in, gulls overhead, the camera slowly pushes in. ', 2), q.quality,
           jsonb_build_object('model', 'wan2.7-image-to-video', 'generation_mode', 'first_frame', 'prompt', 'A lighthouse at dawn, waves rolling in',
             'image_start', 'https://cdn.example.com/uploads/' || md5(g::text) || '.png', 'duration', d.seconds, 'quality', q.quality,
             'callback_url', 'https://video.example.com/api/callbacks/evolink/' || md5(g::text) || '?token=' || md5((g * 3)::text)),
           s.status::"TaskStatus", 100,
           CASE WHEN s.status = 'completed' THEN ARRAY['https://files.example.com/results/' || md5(g::text) || '.mp4'] ELSE '{}' END,
           d.seconds,
           CASE WHEN s.status = 'completed' THEN d.seconds WHEN s.status = 'failed' THEN 0 END,
           CASE WHEN s.status = 'completed' THEN round(q.price * d.seconds, 6) WHEN s.status = 'failed' THEN 0 END,
           q.price, 'USD', round(q.price * d.seconds, 6),
           CASE WHEN s.status = 'failed' THEN (ARRAY['content_policy_violation', 'generation_timeout', 'submission_unknown'])[1 + (g % 3)] END,
           t.at, t.at, 'none'
    FROM generate_series(1::bigint, ${TASKS}) g
    CROSS JOIN LATERAL (SELECT 2 + (g * 31) % 14 AS seconds) d
    CROSS JOIN LATERAL (SELECT CASE WHEN g % 4 = 0 THEN '1080p' ELSE '720p' END AS quality,
                               CASE WHEN g % 4 = 0 THEN 0.144 ELSE 0.086 END AS price) q
    CROSS JOIN LATERAL (SELECT CASE WHEN g % 100 = 0 THEN 'processing' WHEN g % 10 = 0 THEN 'failed' ELSE 'completed' END AS status) s
    CROSS JOIN LATERAL (SELECT timestamp '2026-01-01' + (g::float8 / ${TASKS}) * interval '365 days' AS at) t`);
  // Budgets: the team's, a default, and 100 people's own; this month's ledger rows for everyone.
  await db.$executeRawUnsafe(`
    INSERT INTO "Budget" ("key", "userId", "monthlyLimit", "updatedAt")
    SELECT 'team', NULL, 50000, now() UNION ALL SELECT 'default', NULL, 40, now()
    UNION ALL SELECT 'user:bench-user-' || g, 'bench-user-' || g, 80, now() FROM generate_series(1, 100) g`);
  await db.$executeRawUnsafe(`
    INSERT INTO "BudgetLedger" ("key", "month", "reserved", "spent")
    SELECT 'user:bench-user-' || g, '2026-11', 0, 10 + g % 30 FROM generate_series(1, ${PEOPLE}) g
    UNION ALL SELECT 'team', '2026-11', 0, 25000`);
  // As autovacuum would soon: statistics, and the visibility map that lets index-only scans skip the table.
  await db.$executeRawUnsafe(`VACUUM (ANALYZE) "Task"`);
  await db.$executeRawUnsafe(`VACUUM (ANALYZE) "User"`);
  log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function time(fn: () => Promise<unknown>): Promise<{ median: number; worst: number }> {
  await fn(); // warm
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    runs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  runs.sort((a, b) => a - b);
  return { median: runs[Math.floor(runs.length / 2)]!, worst: runs.at(-1)! };
}

export async function benchUsage(opts: { dataDir: string; port: number; clean: boolean; log: (line: string) => void }): Promise<void> {
  const { log } = opts;
  const dir = path.join(opts.dataDir, "bench", "pg");
  if (opts.clean) await rm(path.join(opts.dataDir, "bench"), { recursive: true, force: true });
  const pg = await startEmbeddedPostgres({ dataDir: dir, port: opts.port, password: "bench-only-password", database: "wan_bench" });
  try {
    await applyMigrations(pg.url);
    const db = createDb(pg.url);
    try {
      await seed(db, log);
      const deps = { db, defaultTimeZone: "Europe/Paris", currency: "USD", now: () => new Date("2026-11-26T12:00:00Z") };
      const specs: Array<[string, PeriodSpec]> = [
        ["month (Nov 2026, ~83k tasks)", { kind: "month", month: "2026-11" }],
        ["year (2026, 1M tasks)", { kind: "range", from: "2026-01-01", to: "2026-12-31" }],
        ["second half-year (500k tasks; the previous half full too)", { kind: "range", from: "2026-07-01", to: "2026-12-31" }],
      ];
      const [size] = await db.$queryRaw<Array<{ table: string; index: string }>>`
        SELECT pg_size_pretty(pg_table_size('"Task"')) AS table, pg_size_pretty(pg_relation_size('"Task_usage_covering_idx"')) AS index`;
      log(`Task table ${size?.table}, its covering index ${size?.index}`);
      const periods = specs.map(([label, spec]) => [label, resolvePeriod(spec, "Europe/Paris"), spec] as const);
      for (const [label, period, spec] of periods) {
        const f = { from: period.from, to: period.to };
        log(`\n${label}, time zone ${period.timeZone}: median / worst of ${RUNS} runs`);
        const cases: Array<[string, () => Promise<unknown>]> = [
          ["totals", () => usageTotals(db, f)],
          ["series by person (per day)", () => usageSeries(db, { ...f, days: period.days, dayStarts: period.dayStarts, groupBy: "person" })],
          ["series by quality (per day)", () => usageSeries(db, { ...f, days: period.days, dayStarts: period.dayStarts, groupBy: "quality" })],
          ["people, modes, qualities, failure codes (one pass)", () => usageGroups(db, f)],
          ["outcome unknown list", () => outcomeUnknownTasks(db, f)],
          ["one person's figures", () => usageTotals(db, { ...f, userId: "bench-user-42" })],
          ["the page's figures (usageReport: 3 queries at once)", () => usageReport(db, period, { groupBy: "person" })],
          ["the whole page (usage.team: figures, budgets, unknown)", () => teamUsage(deps, spec, "person")],
          ["a member's own figures (usage.mine)", () => myUsage(deps, "bench-user-42", spec)],
        ];
        for (const [name, fn] of cases) {
          const t = await time(fn);
          log(`  ${name.padEnd(52)} ${t.median.toFixed(1).padStart(7)} ms / ${t.worst.toFixed(1).padStart(7)} ms`);
        }
      }
      // The plans of the page's queries for the year (long literal arrays cut short).
      const [, year] = periods[1]!;
      const f = { from: year.from, to: year.to };
      const plans: Array<[string, Prisma.Sql]> = [
        ["people, modes, qualities, failure codes (usageSql.groups)", usageSql.groups(f)],
        ["series by person (usageSql.series)", usageSql.series({ ...f, days: year.days, dayStarts: year.dayStarts, groupBy: "person", top: 5 })],
        ["totals, the floor; also the previous period's (usageSql.totals)", usageSql.totals(f)],
      ];
      for (const [name, sql] of plans) {
        log(`\nplan for the year: ${name}`);
        const rows = await aggregate<{ "QUERY PLAN": string }>(db, Prisma.sql`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`);
        for (const r of rows) log(`  ${r["QUERY PLAN"].replace(/'\{[^}]{60,}\}'/g, "'{…days…}'")}`);
      }
    } finally {
      await db.$disconnect();
    }
  } finally {
    await pg.stop();
  }
}
