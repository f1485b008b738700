/**
 * Usage figures and budgets against a real PostgreSQL and the simulator:
 * totals equal the per-task sums for random data, periods and time zones
 * (property-style, seeded); budgets hold under 20 concurrent submits, from
 * one person and from several against the team's; a failed or refused task
 * releases its reservation exactly once; the CSV exports parse back (with a
 * CSV library) to the page's totals; members are refused the exports.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { budgetStatus, OverBudgetError, setBudget, TEAM_KEY, userKey, type BudgetAlert } from "@/server/budgets/budgets.ts";
import { budgetNotifier } from "@/server/budgets/notify.ts";
import { DEFAULT_MIGRATIONS_DIR } from "@/server/db/migrate.ts";
import { createMailer } from "@/server/mail/mailer.ts";
import type { Role } from "@/server/db/client.ts";
import { AppError } from "@/server/errors.ts";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";
import { reportingTimeZone, setReportingTimeZone } from "@/server/settings/settings.ts";
import { applyProviderTask, createTask, failTask } from "@/server/tasks/tasks.ts";
import { dayOf, monthOf, resolvePeriod, type PeriodSpec } from "@/server/usage/periods.ts";
import { peopleCsvRoute, tasksCsvRoute } from "@/server/usage/export.ts";
import { teamUsage } from "@/server/usage/service.ts";
import { Prisma } from "@/server/db/client.ts";
import { usageByPerson, usageGroups, usageSeries, usageSql, usageTotals } from "@/server/usage/usage.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { serveFetch } from "../helpers/http.ts";
import { startSmtpCatcher } from "../helpers/smtp.ts";
import { startTestPortal, type TestPortal } from "../helpers/services.ts";

const input = (prompt: string, duration = 5) => createGenerationInputSchema().parse({ prompt, image_start: "https://example.com/first.png", duration });

/** A small deterministic PRNG (mulberry32): the same "random" data on every run. */
function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("usage totals are the sums of their tasks (random data, periods and time zones)", () => {
  let db: TestDatabase;
  const tasks: Array<{ userId: string; createdAt: Date; cost: number | null; seconds: number | null; status: string; quality: string; mode: string; apiKeyId: string | null }> = [];
  /** Each person's API keys (two each for the first two people, none for the others). */
  const keysOf = new Map<string, Array<{ id: string; name: string; prefix: string }>>();
  const ZONES = ["UTC", "America/New_York", "Europe/Paris", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe"];

  beforeAll(async () => {
    db = await createTestDatabase();
    const random = prng(20261126);
    const users = await Promise.all(["a", "b", "c", "d"].map((n) => db.db.user.create({ data: { email: `${n}@usage.test` } })));
    for (const u of users.slice(0, 2)) {
      const keys = [];
      for (const n of [1, 2]) {
        const prefix = `wvp_${u.email[0]}${n}xxxxxxx`;
        keys.push(await db.db.apiKey.create({ data: { userId: u.id, name: `${u.email[0]}'s key ${n}`, prefix, secretHash: `hash-${prefix}` }, select: { id: true, name: true, prefix: true } }));
      }
      keysOf.set(u.id, keys);
    }
    const start = Date.UTC(2026, 8, 25); // late September to early December: month and DST edges
    const data = Array.from({ length: 600 }, (_, i) => {
      const status = (["completed", "completed", "completed", "failed", "processing"] as const)[Math.floor(random() * 5)]!;
      const quality = random() < 0.7 ? "720p" : "1080p";
      const mode = (["first_frame", "first_last_frame", "video_continuation"] as const)[Math.floor(random() * 3)]!;
      const seconds = status === "completed" ? 2 + Math.floor(random() * 14) : status === "failed" ? 0 : null;
      const price = quality === "720p" ? 0.086 : 0.144;
      const cost = seconds === null ? null : Math.round(price * seconds * 1e6) / 1e6;
      // Some tasks right at midnight UTC and at local month starts.
      const offset = i % 50 === 0 ? Math.floor(random() * 70) * 86_400_000 : Math.floor(random() * 70 * 86_400_000);
      const userId = users[Math.floor(random() * users.length)]!.id;
      // Every third task of a person with keys came through the API, alternately with each key (no extra draws: the data stays as it was).
      const keys = keysOf.get(userId);
      const apiKeyId = keys && i % 3 === 0 ? keys[(i / 3) % 2]!.id : null;
      const row = { userId, createdAt: new Date(start + offset), cost, seconds, status, quality, mode, apiKeyId };
      tasks.push(row);
      return {
        userId: row.userId,
        mode,
        prompt: `t${i}`,
        request: {},
        durationSeconds: seconds ?? 5,
        quality,
        status,
        billedSeconds: seconds,
        cost,
        pricePerSecond: price,
        createdAt: row.createdAt,
        apiKeyId,
        ...(status === "failed" && i % 7 === 0 && { errorCode: "submission_unknown" }),
      };
    });
    await db.db.task.createMany({ data: data as never });
  });
  afterAll(() => db?.drop());

  const specs = (random: () => number): PeriodSpec[] => {
    const day = () => new Date(Date.UTC(2026, 8, 25) + Math.floor(random() * 70) * 86_400_000).toISOString().slice(0, 10);
    const a = day();
    const b = day();
    return [
      { kind: "month", month: "2026-10" },
      { kind: "month", month: "2026-11" },
      { kind: "day", day: a },
      { kind: "week", day: b },
      { kind: "range", from: a < b ? a : b, to: a < b ? b : a },
    ];
  };

  it("for 60 random period and zone pairs: totals, people, days and the per-task sum agree to the micro-unit", async () => {
    const random = prng(7);
    let checked = 0;
    for (let round = 0; round < 12; round++) {
      const tz = ZONES[Math.floor(random() * ZONES.length)]!;
      for (const spec of specs(random)) {
        const period = resolvePeriod(spec, tz, new Date("2026-11-15T12:00:00Z"));
        const inside = tasks.filter((t) => t.createdAt >= period.from && t.createdAt < period.to);
        const expectedCost = inside.reduce((s, t) => s + Math.round((t.cost ?? 0) * 1e6), 0) / 1e6;
        const totals = await usageTotals(db.db, { from: period.from, to: period.to });
        const label = `${tz} ${JSON.stringify(spec)}`;
        expect(totals.tasks, label).toBe(inside.length);
        expect(totals.cost.toFixed(6), label).toBe(expectedCost.toFixed(6));
        expect(totals.billedSeconds, label).toBe(inside.reduce((s, t) => s + (t.seconds ?? 0), 0));
        expect(totals.completed + totals.failed + totals.running, label).toBe(inside.length);
        // The per-person table adds up to the totals.
        const people = await usageByPerson(db.db, { from: period.from, to: period.to });
        expect(people.reduce((s, p) => s + Math.round(p.cost * 1e6), 0) / 1e6, label).toBe(expectedCost);
        // Each task lands on its own local day.
        const series = await usageSeries(db.db, { from: period.from, to: period.to, days: period.days, dayStarts: period.dayStarts, groupBy: "mode" });
        const byDay = new Map<string, number>();
        for (const t of inside) byDay.set(dayOf(t.createdAt, tz), Math.round(((byDay.get(dayOf(t.createdAt, tz)) ?? 0) + (t.cost ?? 0)) * 1e6) / 1e6);
        const seriesByDay = new Map<string, number>();
        for (const p of series) seriesByDay.set(p.day, Math.round(((seriesByDay.get(p.day) ?? 0) + p.cost) * 1e6) / 1e6);
        for (const [day, cost] of byDay) expect(seriesByDay.get(day) ?? 0, `${label} ${day}`).toBe(cost);
        for (const day of seriesByDay.keys()) expect(period.days, `${label} ${day}`).toContain(day);
        checked++;
      }
    }
    expect(checked).toBe(60);
  });

  it("the breakdown by source: the form and each API key with its owner, adding up to the totals", async () => {
    const random = prng(11);
    for (let round = 0; round < 4; round++) {
      for (const spec of specs(random)) {
        const period = resolvePeriod(spec, "Europe/Paris", new Date("2026-11-15T12:00:00Z"));
        const inside = tasks.filter((t) => t.createdAt >= period.from && t.createdAt < period.to);
        const { totals, breakdowns } = await usageGroups(db.db, { from: period.from, to: period.to });
        const label = JSON.stringify(spec);
        const expected = new Map<string, { tasks: number; micro: number; seconds: number }>();
        for (const t of inside) {
          const e = expected.get(t.apiKeyId ?? "form") ?? { tasks: 0, micro: 0, seconds: 0 };
          e.tasks += 1;
          e.micro += Math.round((t.cost ?? 0) * 1e6);
          e.seconds += t.seconds ?? 0;
          expected.set(t.apiKeyId ?? "form", e);
        }
        expect(breakdowns.bySource.map((s) => s.key).sort(), label).toEqual([...expected.keys()].sort());
        if (breakdowns.bySource.length > 0) expect(breakdowns.bySource[0]!.kind, label).toBe(expected.has("form") ? "form" : "api");
        for (const s of breakdowns.bySource) {
          const e = expected.get(s.key)!;
          expect([s.tasks, Math.round(s.cost * 1e6), s.billedSeconds], `${label} ${s.key}`).toEqual([e.tasks, e.micro, e.seconds]);
          if (s.kind === "form") {
            expect([s.name, s.prefix, s.ownerEmail]).toEqual([null, null, null]);
          } else {
            const [owner, keys] = [...keysOf.entries()].find(([, ks]) => ks.some((k) => k.id === s.key))!;
            const key = keys.find((k) => k.id === s.key)!;
            expect([s.name, s.prefix, s.ownerEmail]).toEqual([key.name, key.prefix, (await db.db.user.findUniqueOrThrow({ where: { id: owner } })).email]);
          }
        }
        expect(breakdowns.bySource.reduce((n, s) => n + s.tasks, 0), label).toBe(totals.tasks);
      }
    }
  });

  it("the usage figures, with the source, are read from the covering index alone (an index-only scan)", async () => {
    await db.db.$executeRawUnsafe(`VACUUM ANALYZE "Task"`);
    const f = { from: new Date("2026-10-01T00:00:00Z"), to: new Date("2026-11-01T00:00:00Z") };
    // The table is small here: without a sequential scan to choose, the planner shows whether the index holds every column the query reads.
    const [, plan] = await db.db.$transaction([
      db.db.$executeRaw`SET LOCAL enable_seqscan = off`,
      db.db.$queryRaw<Array<{ "QUERY PLAN": string }>>(Prisma.sql`EXPLAIN (COSTS OFF) ${usageSql.groups(f)}`),
    ]);
    const text = plan.map((r) => r["QUERY PLAN"]).join("\n");
    expect(text).toContain("Index Only Scan using \"Task_usage_covering_idx\"");
    expect(text).not.toMatch(/Heap Scan|Seq Scan/);
  });
});

describe("budgets", () => {
  let portal: TestPortal;
  let admin: SessionUser;
  const make = (email: string, role: Role = "member") => createUser(portal.services.db, { email, password: "password-123", role });
  beforeAll(async () => {
    portal = await startTestPortal();
    admin = await make("boss@budget.test", "admin");
  });
  afterAll(() => portal?.close());
  const actor = () => ({ id: admin.id, email: admin.email });
  const ledger = (key: string) => portal.services.db.budgetLedger.findFirst({ where: { key, month: monthOf(new Date(), "UTC") } });

  it("20 concurrent submits from one person can never pass their budget; the refusal says what remains and when it renews", async () => {
    const ann = await make("ann@budget.test");
    await setBudget(portal.services.db, actor(), { scope: "user", userId: ann.id, monthlyLimit: 0.43 * 7 + 0.1 }); // room for 7 five-second 720p videos
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => createTask(portal.services.taskDeps, ann, input(`ann ${i}`))));
    const made = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(made).toHaveLength(7);
    expect(refused).toHaveLength(13);
    const err = refused[0]!.reason as AppError;
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("PAYMENT_REQUIRED");
    expect(err.message).toMatch(/^This video is estimated at 0\.43 USD, but your monthly budget has 0\.10 USD left \(of 3\.11 USD\)\. It renews on 1 \w+ \d{4}\./);
    expect(await portal.services.db.task.count({ where: { userId: ann.id } })).toBe(7);
    const row = await ledger(userKey(ann.id));
    expect(Number(row!.reserved) + Number(row!.spent)).toBeCloseTo(0.43 * 7, 6);
  });

  it("the team's budget holds against several people submitting at once", async () => {
    const db = portal.services.db;
    const before = await budgetStatus(db, admin.id, "UTC");
    const used = before.team.spent + before.team.reserved;
    await setBudget(db, actor(), { scope: "team", monthlyLimit: Math.round((used + 0.43 * 5 + 0.2) * 1e6) / 1e6 }); // room for 5 more
    const people = await Promise.all(["p1", "p2", "p3", "p4"].map((n) => make(`${n}@budget.test`)));
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => createTask(portal.services.taskDeps, people[i % 4]!, input(`team ${i}`))));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    const refusals = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => (r.reason as Error).message);
    expect(refusals.every((m) => m.includes("the team's monthly budget"))).toBe(true);
    const status = await budgetStatus(db, admin.id, "UTC");
    expect(status.team.spent + status.team.reserved).toBeLessThanOrEqual(status.team.limit! + 1e-9);
    await setBudget(db, actor(), { scope: "team", monthlyLimit: null });
  });

  it("a completed task settles to its billed cost; a refused or failed one releases its hold, exactly once", async () => {
    const db = portal.services.db;
    const bo = await make("bo@budget.test");
    // Refused by the provider (400): nothing held afterwards, nothing spent.
    portal.simulator.faults.http({ endpoint: "create", status: 400, count: 1 });
    await expect(createTask(portal.services.taskDeps, bo, input("refused"))).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await ledger(userKey(bo.id))).toMatchObject({ reserved: expect.anything() });
    expect(Number((await ledger(userKey(bo.id)))!.reserved)).toBe(0);
    expect(Number((await ledger(userKey(bo.id)))!.spent)).toBe(0);

    // Given up (deadline, unknown submission): released once, even when ended again.
    const task = await createTask(portal.services.taskDeps, bo, input("given up"));
    expect(Number((await ledger(userKey(bo.id)))!.reserved)).toBeCloseTo(0.43, 6);
    const row = await db.task.findUniqueOrThrow({ where: { id: task.id } });
    expect(await failTask(db, row, "submission_unknown", "unknown")).toBe(true);
    expect(await failTask(db, row, "submission_unknown", "unknown")).toBe(false);
    expect(await applyProviderTask(db, row, { id: "task-unified-1-x", status: "failed", progress: 0 } as never)).toBe(false);
    expect(Number((await ledger(userKey(bo.id)))!.reserved)).toBe(0);
    expect(Number((await ledger(userKey(bo.id)))!.spent)).toBe(0);

    // Completed: the hold becomes the billed cost.
    const done = await createTask(portal.services.taskDeps, bo, input("completed", 6));
    await expect
      .poll(async () => (await db.task.findUniqueOrThrow({ where: { id: done.id } })).status, { timeout: 10_000 })
      .toBe("completed");
    const settled = await ledger(userKey(bo.id));
    expect(Number(settled!.reserved)).toBe(0);
    expect(Number(settled!.spent)).toBeCloseTo(0.516, 6);
    expect(Number((await db.task.findUniqueOrThrow({ where: { id: done.id } })).cost)).toBeCloseTo(0.516, 6);
  });

  it("80 % and 100 % are noticed once a month each, also when a refusal reaches the budget; the mails go to the person and the admins", async () => {
    const db = portal.services.db;
    const dee = await make("dee@budget.test");
    await setBudget(db, actor(), { scope: "user", userId: dee.id, monthlyLimit: 1 }); // two 0.43 videos fit, a third does not
    const smtp = await startSmtpCatcher();
    const { received } = smtp;
    try {
      const notifier = budgetNotifier({ db, mailer: createMailer({ smtpUrl: smtp.url, from: "Portal <portal@example.test>" }), currency: "USD" })!;
      const alerts: BudgetAlert[] = [];
      let sent = Promise.resolve();
      const deps = { ...portal.services.taskDeps, notifyBudget: async (a: BudgetAlert[]) => {
          alerts.push(...a);
          sent = sent.then(() => notifier(a));
        },
      };
      await createTask(deps, dee, input("dee 1")); // 43 %
      expect(alerts).toEqual([]);
      await createTask(deps, dee, input("dee 2")); // 86 %
      expect(alerts.map((a) => [a.scope, a.threshold])).toEqual([["personal", 0.8]]);
      await expect(createTask(deps, dee, input("dee 3"))).rejects.toBeInstanceOf(OverBudgetError); // 0.14 left: reached
      await expect(createTask(deps, dee, input("dee 4"))).rejects.toMatchObject({ code: "PAYMENT_REQUIRED" }); // noticed already
      expect(alerts.map((a) => [a.scope, a.threshold, a.refusedEstimate ?? null])).toEqual([
        ["personal", 0.8, null],
        ["personal", 1, 0.43],
      ]);
      expect((await budgetStatus(db, dee.id, "UTC")).personal).toMatchObject({ reached: true });
      await sent;
      const to = (subject: RegExp) => received.filter((m) => subject.test(m.subject)).map((m) => m.to).sort();
      expect(to(/dee@budget\.test has used 80 %/)).toEqual(["boss@budget.test", "dee@budget.test"]);
      expect(to(/dee@budget\.test has reached their video budget/)).toEqual(["boss@budget.test", "dee@budget.test"]);
      expect(received).toHaveLength(4);
      // A refusal with most of the budget left is the person's news only.
      const eve = await make("eve@budget.test");
      await setBudget(db, actor(), { scope: "user", userId: eve.id, monthlyLimit: 0.3 });
      await expect(createTask(deps, eve, input("eve"))).rejects.toMatchObject({ code: "PAYMENT_REQUIRED" });
      expect(alerts).toHaveLength(2);
    } finally {
      await smtp.close();
    }
  });

  it("budget and time zone changes are audited; a person's own budget overrides the default", async () => {
    const db = portal.services.db;
    const cy = await make("cy@budget.test");
    await setBudget(db, actor(), { scope: "default", monthlyLimit: 1 });
    expect((await budgetStatus(db, cy.id, "UTC")).personal).toMatchObject({ limit: 1, source: "default" });
    await setBudget(db, actor(), { scope: "user", userId: cy.id, monthlyLimit: 2 });
    expect((await budgetStatus(db, cy.id, "UTC")).personal).toMatchObject({ limit: 2, source: "own" });
    await setBudget(db, actor(), { scope: "user", userId: cy.id, monthlyLimit: null });
    expect((await budgetStatus(db, cy.id, "UTC")).personal).toMatchObject({ limit: 1, source: "default" });
    await setBudget(db, actor(), { scope: "default", monthlyLimit: null });
    const changes = await db.auditEvent.findMany({ where: { action: "budget.changed", targetLabel: { in: ["cy@budget.test", "Default budget"] } }, orderBy: { at: "asc" } });
    expect(changes.map((c) => [c.targetLabel, c.before, c.after])).toEqual([
      ["Default budget", { monthlyLimit: null }, { monthlyLimit: 1 }],
      ["cy@budget.test", { monthlyLimit: null }, { monthlyLimit: 2 }],
      ["cy@budget.test", { monthlyLimit: 2 }, { monthlyLimit: null }],
      ["Default budget", { monthlyLimit: 1 }, { monthlyLimit: null }],
    ]);
    await expect(setReportingTimeZone(db, actor(), "Mars/Olympus", "UTC")).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await setReportingTimeZone(db, actor(), "Europe/Paris", "UTC");
    expect(await reportingTimeZone(db, "UTC")).toBe("Europe/Paris");
    expect(await db.auditEvent.count({ where: { action: "settings.changed" } })).toBe(1);
    await setReportingTimeZone(db, actor(), "UTC", "UTC");
  });

  it("the CSV exports parse back to the page's totals; members and anonymous callers are refused", async () => {
    const db = portal.services.db;
    const config = portal.services.config;
    const deps = (user: SessionUser | null) => () => ({
      db,
      databaseUrl: config.databaseUrl,
      defaultTimeZone: "UTC",
      currency: "USD",
      currentUser: async () => user,
    });
    // One task made through the API, with a key whose name a spreadsheet would run as a formula.
    const member = await make("csv-member@budget.test");
    const key = await db.apiKey.create({ data: { userId: member.id, name: "=Mia's notebook", prefix: "wvp_Ab3dE6gH", secretHash: "hash-csv-key" } });
    const apiTask = await db.task.create({
      data: { userId: member.id, mode: "first_frame", prompt: "from a script", quality: "720p", request: {}, durationSeconds: 5, status: "completed", billedSeconds: 5, cost: 0.43, pricePerSecond: 0.086, apiKeyId: key.id },
    });
    const report = await teamUsage({ db, defaultTimeZone: "UTC", currency: "USD" }, { kind: "this-month" }, "person");
    expect(report.totals.tasks).toBeGreaterThan(10);
    for (const route of [peopleCsvRoute, tasksCsvRoute]) {
      const asAdmin = await serveFetch((req) => route(deps(admin))(req));
      const asMember = await serveFetch((req) => route(deps(member))(req));
      const anonymous = await serveFetch((req) => route(deps(null))(req));
      try {
        const res = await fetch(`${asAdmin.url}/x.csv?kind=this-month`);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
        expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="usage-(people|tasks)-[\w-]+\.csv"$/);
        const bytes = new Uint8Array(await res.arrayBuffer());
        expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // UTF-8 BOM: spreadsheets read it as UTF-8
        const text = new TextDecoder().decode(bytes);
        expect(text).toContain("\r\n");
        const rows = parse(text, { bom: true, columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
        const sum = rows.reduce((s, r) => s + Math.round(Number(r.cost || 0) * 1e6), 0) / 1e6;
        expect(sum.toFixed(6)).toBe(report.totals.cost.toFixed(6));
        if (route === tasksCsvRoute) {
          expect(rows).toHaveLength(report.totals.tasks);
          expect(Object.keys(rows[0]!)).toEqual([
            "owner_email", "owner_name", "task_id", "provider_task_id", "mode", "quality", "duration_asked_seconds", "billed_seconds",
            "price_per_second", "cost", "currency", "status", "error_code", "submitted_at", "ended_at", "time_zone", "source",
          ]);
          expect(rows.find((r) => r.task_id === apiTask.id)?.source).toBe("'=Mia's notebook (wvp_Ab3dE6gH…)");
          expect(new Set(rows.filter((r) => r.task_id !== apiTask.id).map((r) => r.source))).toEqual(new Set(["form"]));
        } else {
          expect(rows.reduce((s, r) => s + Number(r.tasks), 0)).toBe(report.totals.tasks);
          expect(Object.keys(rows[0]!).slice(-3)).toEqual(["budget_month", "budget_limit", "budget_spent_and_reserved"]);
        }
        expect((await fetch(`${asMember.url}/x.csv`)).status).toBe(403);
        expect((await fetch(`${anonymous.url}/x.csv`)).status).toBe(401);
        expect((await fetch(`${asAdmin.url}/x.csv?kind=month&month=2026-13`)).status).toBe(400);
      } finally {
        await Promise.all([asAdmin.close(), asMember.close(), anonymous.close()]);
      }
    }
    expect(TEAM_KEY).toBe("team");
  });
});

describe("budgets start from what was spent before them (migration 20261126190000_budget_ledger_backfill)", () => {
  it("tasks without a budget month count in their month's ledgers; running ones then settle against it", async () => {
    const db = await createTestDatabase();
    try {
      const ann = await db.db.user.create({ data: { email: "ann@backfill.test" } });
      const bob = await db.db.user.create({ data: { email: "bob@backfill.test" } });
      const task = (userId: string, createdAt: string, status: "completed" | "failed" | "processing", cost: number | null) =>
        db.db.task.create({ data: { userId, mode: "first_frame", prompt: "x", request: {}, durationSeconds: 5, status, cost, createdAt: new Date(createdAt) } });
      await task(ann.id, "2026-11-02T10:00:00Z", "completed", 0.43);
      await task(ann.id, "2026-11-20T10:00:00Z", "failed", 0);
      await task(bob.id, "2026-10-31T23:00:00Z", "completed", 0.72);
      const running = await task(bob.id, "2026-11-25T10:00:00Z", "processing", null);
      await db.db.budgetLedger.create({ data: { key: "team", month: "2026-11", spent: 1 } }); // already counted since budgets came
      const sql = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, "20261126190000_budget_ledger_backfill", "migration.sql"), "utf8");
      await db.db.$executeRawUnsafe(`DO $$ BEGIN ${sql.replace(/--[^\n]*\n/g, "")} END $$`);
      const ledgers = Object.fromEntries((await db.db.budgetLedger.findMany()).map((l) => [`${l.key.replace(ann.id, "ann").replace(bob.id, "bob")} ${l.month}`, Number(l.spent)]));
      expect(ledgers).toEqual({ "team 2026-11": 1.43, "team 2026-10": 0.72, "user:ann 2026-11": 0.43, "user:bob 2026-10": 0.72, "user:bob 2026-11": 0 });
      expect(await db.db.task.findUniqueOrThrow({ where: { id: running.id } })).toMatchObject({ budgetMonth: "2026-11" });
      expect(await db.db.task.count({ where: { budgetMonth: null } })).toBe(0);
    } finally {
      await db.drop();
    }
  });
});
