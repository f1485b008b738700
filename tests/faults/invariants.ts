/**
 * What every fault scenario ends with: all of the member's tasks reach a
 * final state (and completed results their archive) within a bounded wait,
 * then the books are checked:
 * - none lost: every idempotency key the clients used (answered, or retried
 *   through network errors) has exactly one task row, the one the answer named;
 *   no row exists that no client asked for;
 * - none billed twice: one billing record per ended task, equal to the task's
 *   stored cost; completed tasks billed their duration, failed ones nothing;
 *   the sums of billing records equal the sums of tasks' costs; the budget
 *   ledgers spent exactly that and hold nothing once every task has ended;
 * - the provider's side agrees: no task was created twice at the provider
 *   (one paid create per portal task), and every task the provider created
 *   for the member is the portal task it names, ended as the provider ended it.
 */
import type pg from "pg";
import { expect } from "vitest";
import type { Account, Submission } from "./harness.ts";
import { waitFor } from "./processes.ts";

const ENDED = ["completed", "failed", "cancelled"];

/** What the checks need of a suite's world (the fault suite's World, the topology test's Topology). */
export interface World {
  /** A connection to the portal's database. */
  db: pg.Pool;
  /** Ids of the tasks the simulator logged creating. */
  simulatorCreatedIds(): string[];
  /** A simulator task as it knows it, or null. */
  simulatorTask(id: string): Promise<{ task: { id: string; status: string }; callbackUrl?: string } | null>;
}

export interface Findings {
  scenario: string;
  submissions: number;
  networkErrors: number;
  keysRetriedAfterNetworkError: number;
  answers: Record<string, number>;
  tasks: number;
  byStatus: Record<string, number>;
  byError: Record<string, number>;
  archived: number;
  archiveFailed: number;
  billedTotal: string;
  providerCreated: number;
  /** Provider tasks that ended completed at the provider but not as billed tasks in the portal. */
  providerOnly: string[];
  waitedForEndMs: number;
}

interface TaskRow {
  id: string;
  clientRequestId: string | null;
  status: string;
  errorCode: string | null;
  providerTaskId: string | null;
  billedSeconds: number | null;
  durationSeconds: number;
  cost: string | null;
  pricePerSecond: string;
  reservedCost: string;
  budgetMonth: string | null;
  archiveStatus: string;
  billingCount: number;
  billingCost: string | null;
  billingSeconds: number | null;
}

const count = <T>(items: T[], key: (t: T) => string) => items.reduce<Record<string, number>>((acc, t) => ((acc[key(t)] = (acc[key(t)] ?? 0) + 1), acc), {});

async function tasksOf(world: World, userId: string): Promise<TaskRow[]> {
  const { rows } = await world.db.query<TaskRow>(
    `SELECT t.id, t."clientRequestId", t.status::text, t."errorCode", t."providerTaskId", t."billedSeconds", t."durationSeconds",
            t.cost::text, t."pricePerSecond"::text, t."reservedCost"::text, t."budgetMonth", t."archiveStatus"::text,
            (SELECT count(*)::int FROM "BillingRecord" b WHERE b."taskId" = t.id) AS "billingCount",
            (SELECT b.cost::text FROM "BillingRecord" b WHERE b."taskId" = t.id LIMIT 1) AS "billingCost",
            (SELECT b."billedSeconds" FROM "BillingRecord" b WHERE b."taskId" = t.id LIMIT 1) AS "billingSeconds"
     FROM "Task" t WHERE t."userId" = $1`,
    [userId],
  );
  return rows;
}

/** Waits (polling, generous limits) until every task of the member has ended and no completed result waits for its archive. */
export async function waitUntilSettled(world: World, account: Account, timeoutMs = 300_000): Promise<number> {
  const started = Date.now();
  try {
    await waitFor(
      "every task to reach a final state and every completed result to be archived",
      async () => {
        const rows = await tasksOf(world, account.userId);
        return rows.every((t) => ENDED.includes(t.status) && t.archiveStatus !== "pending");
      },
      timeoutMs,
      500,
    );
  } catch (err) {
    // Say what was left, and what the job queue holds for it.
    const left = (await tasksOf(world, account.userId)).filter((t) => !ENDED.includes(t.status) || t.archiveStatus === "pending");
    const { rows: jobs } = await world.db.query(
      `SELECT name, state, singleton_key AS "taskId", started_on, created_on, expire_in::text FROM pgboss.job WHERE singleton_key = ANY($1) AND state <= 'active' ORDER BY created_on`,
      [left.map((t) => t.id)],
    );
    console.log(`[faults] not settled: ${JSON.stringify(left.map((t) => ({ id: t.id, status: t.status, errorCode: t.errorCode, archive: t.archiveStatus })))}\njobs: ${JSON.stringify(jobs)}`);
    throw err;
  }
  return Date.now() - started;
}

/** The checks (see the top of this file); returns what was found, for the record. */
export async function checkBooks(world: World, account: Account, submissions: Submission[], scenario: string, waitedForEndMs: number): Promise<Findings> {
  const rows = await tasksOf(world, account.userId);
  const byKey = new Map<string, TaskRow[]>();
  for (const t of rows) {
    expect(t.clientRequestId, `task ${t.id} has no idempotency key: no client of the suite asked for it`).not.toBeNull();
    byKey.set(t.clientRequestId!, [...(byKey.get(t.clientRequestId!) ?? []), t]);
  }

  // None lost, none doubled: one row per key, the one the answer named.
  const keys = new Set(submissions.map((s) => s.key));
  expect(keys.size, "idempotency keys are distinct").toBe(submissions.length);
  for (const key of byKey.keys()) expect(keys.has(key), `a task row for a key no client used: ${key}`).toBe(true);
  for (const s of submissions) {
    const found = byKey.get(s.key) ?? [];
    const what = `key ${s.key} (client ${s.client}, ${s.attempts} attempts, ${s.networkErrors} network errors, answer ${JSON.stringify(s.outcome)})`;
    expect(found.length, `${what}: task rows`).toBeLessThanOrEqual(1);
    if (s.outcome.ok) {
      expect(found.length, `${what}: accepted, so exactly one row`).toBe(1);
      expect(found[0]!.id, `${what}: the row is the task the answer named`).toBe(s.outcome.taskId);
    } else if ("gaveUp" in s.outcome) {
      throw new Error(`${what}: the client never got an answer`);
    }
    if (s.networkErrors > 0) expect(found.length, `${what}: retried after a network error, so exactly one row`).toBe(1);
  }

  // Every task ended; each billed once, as its stored cost says.
  for (const t of rows) {
    const what = `task ${t.id} (${t.status}${t.errorCode ? ` ${t.errorCode}` : ""})`;
    expect(ENDED, `${what} ended`).toContain(t.status);
    expect(t.billingCount, `${what}: billing records`).toBe(1);
    expect(t.billingCost, `${what}: billed cost = the task's cost`).toBe(t.cost);
    expect(t.billingSeconds, `${what}: billed seconds = the task's`).toBe(t.billedSeconds);
    expect(Number(t.reservedCost), `${what}: nothing still held against the budget`).toBe(0);
    if (t.status === "completed") {
      expect(t.billedSeconds, `${what}: billed its duration`).toBe(t.durationSeconds);
      expect(Number(t.cost), `${what}: cost = seconds × price`).toBeCloseTo(t.durationSeconds * Number(t.pricePerSecond), 6);
      expect(t.providerTaskId, `${what}: has the provider's id`).not.toBeNull();
      expect(t.archiveStatus, `${what}: its result copied into the portal's storage`).toBe("archived");
    } else {
      expect(t.billedSeconds, `${what}: not billed`).toBe(0);
      expect(Number(t.cost), `${what}: costs nothing`).toBe(0);
    }
  }

  // Sums: billing records = tasks' costs, for the member and for everyone; budget ledgers agree.
  const { rows: sums } = await world.db.query<{ scope: string; tasks: string; billing: string }>(
    `SELECT 'member' AS scope,
            (SELECT coalesce(sum(cost), 0)::text FROM "Task" WHERE "userId" = $1) AS tasks,
            (SELECT coalesce(sum(cost), 0)::text FROM "BillingRecord" WHERE "userId" = $1) AS billing
     UNION ALL
     SELECT 'everyone', (SELECT coalesce(sum(cost), 0)::text FROM "Task"), (SELECT coalesce(sum(cost), 0)::text FROM "BillingRecord")`,
    [account.userId],
  );
  for (const s of sums) expect(s.billing, `sum of billing records = sum of tasks' billed costs (${s.scope})`).toBe(s.tasks);
  const { rows: ledgers } = await world.db.query<{ key: string; month: string; reserved: string; spent: string; cost: string; held: string }>(
    `SELECT l.key, l.month, l.reserved::text, l.spent::text,
            (SELECT coalesce(sum(t.cost), 0)::text FROM "Task" t WHERE t."budgetMonth" = l.month AND (l.key = 'team' OR l.key = 'user:' || t."userId")) AS cost,
            (SELECT coalesce(sum(t."reservedCost"), 0)::text FROM "Task" t WHERE t."budgetMonth" = l.month AND (l.key = 'team' OR l.key = 'user:' || t."userId")) AS held
     FROM "BudgetLedger" l WHERE l.key IN ('team', $1)`,
    [`user:${account.userId}`],
  );
  expect(ledgers.map((l) => l.key).sort(), "the member's and the team's budget ledgers").toEqual(["team", `user:${account.userId}`]);
  for (const l of ledgers) {
    expect(Number(l.spent), `budget ledger ${l.key} ${l.month}: spent = the tasks' billed costs`).toBeCloseTo(Number(l.cost), 6);
    expect(Number(l.reserved), `budget ledger ${l.key} ${l.month}: held = the running tasks' holds`).toBeCloseTo(Number(l.held), 6);
  }

  // The provider's side: one paid create per portal task, and each provider task is the portal task it names, ended alike.
  const mine = new Map(rows.map((t) => [t.id, t]));
  const created: Array<{ simId: string; portalId: string; status: string }> = [];
  for (const simId of world.simulatorCreatedIds()) {
    const sim = await world.simulatorTask(simId);
    if (!sim) throw new Error(`the simulator logged creating ${simId} but does not know it`);
    const portalId = decodeURIComponent(/\/api\/callbacks\/evolink\/([^/?]+)/.exec(sim.callbackUrl ?? "")?.[1] ?? "");
    if (mine.has(portalId)) created.push({ simId, portalId, status: sim.task.status });
  }
  const createdIds = new Set(created.map((c) => c.simId));
  for (const t of rows) {
    if (t.providerTaskId) expect(createdIds.has(t.providerTaskId), `task ${t.id}'s provider task ${t.providerTaskId} is in the simulator's log of created tasks ("[simulator] task <id> created")`).toBe(true);
  }
  const perPortalTask = count(created, (c) => c.portalId);
  for (const [portalId, n] of Object.entries(perPortalTask)) expect(n, `portal task ${portalId} was created at the provider ${n} times`).toBe(1);
  const providerOnly: string[] = [];
  for (const c of created) {
    const t = mine.get(c.portalId)!;
    if (t.providerTaskId !== c.simId || t.status !== c.status) {
      providerOnly.push(`${c.simId} (${c.status} at the provider) → portal ${t.id}: ${t.status}${t.errorCode ? ` ${t.errorCode}` : ""}, provider id ${t.providerTaskId ?? "none"}`);
    }
  }

  const answers = count(submissions, (s) => (s.outcome.ok ? `accepted (${s.outcome.status})` : "gaveUp" in s.outcome ? "no answer" : `refused ${s.outcome.code}`));
  const findings: Findings = {
    scenario,
    submissions: submissions.length,
    networkErrors: submissions.reduce((n, s) => n + s.networkErrors, 0),
    keysRetriedAfterNetworkError: submissions.filter((s) => s.networkErrors > 0).length,
    answers,
    tasks: rows.length,
    byStatus: count(rows, (t) => t.status),
    byError: count(
      rows.filter((t) => t.errorCode),
      (t) => t.errorCode!,
    ),
    archived: rows.filter((t) => t.archiveStatus === "archived").length,
    archiveFailed: rows.filter((t) => t.archiveStatus === "failed").length,
    billedTotal: sums[0]!.billing,
    providerCreated: created.length,
    providerOnly,
    waitedForEndMs,
  };
  console.log(`[books] ${scenario}: ${JSON.stringify(findings)}`);
  expect(providerOnly, "tasks the provider ran whose portal row says otherwise (paid at the provider, not in the portal)").toEqual([]);
  return findings;
}
