/**
 * Monthly budgets in money: one per person (their own, or the default for
 * people without one) and one for the whole team, for calendar months of the
 * reporting time zone.
 *
 * How they hold (docs/decisions/0012-usage-and-budgets.md): every submit
 * reserves the task's estimate in the same transaction that stores the task,
 * with one conditional UPDATE per ledger row ("reserve if reserved + spent +
 * estimate fits the limit"). The row stays locked until that transaction
 * ends, so concurrent submits queue on it and each sees the others' holds:
 * spending can never pass a budget. When the task ends (once: tasks.ts's
 * conditional final update), the reservation is settled to the billed cost,
 * or released for a failure or a refusal (0 billed). Ledger rows are always
 * kept (for the person and the team), so a budget set in the middle of a
 * month starts from what was already spent.
 */
import type { Db, Tx } from "../db/client.ts";
import { Prisma, transaction } from "../db/client.ts";
import { recordAudit, type Actor } from "../audit/audit.ts";
import { AppError } from "../errors.ts";
import { monthBounds, monthOf } from "../usage/periods.ts";
import { overBudgetMessage } from "./messages.ts";
import { metrics } from "../metrics/metrics.ts";

export const TEAM_KEY = "team";
export const DEFAULT_KEY = "default";
export const userKey = (userId: string) => `user:${userId}`;

/** The thresholds a notice is given at, once each per budget and month. */
export const THRESHOLDS = [0.8, 1] as const;

export interface BudgetAlert {
  scope: "personal" | "team";
  userId: string | null;
  month: string;
  threshold: (typeof THRESHOLDS)[number];
  limit: number;
  used: number;
  /** Reached by a refusal: the estimate of the video that did not fit. */
  refusedEstimate?: number;
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

interface Limits {
  /** The person's limit: their own, else the default; null when neither is set. */
  personal: { limit: number; source: "own" | "default" } | null;
  team: number | null;
}

async function limitsOf(db: Pick<Db, "budget">, userId: string): Promise<Limits> {
  const rows = await db.budget.findMany({ where: { key: { in: [TEAM_KEY, DEFAULT_KEY, userKey(userId)] } } });
  const limit = (key: string) => {
    const row = rows.find((r) => r.key === key);
    return row ? Number(row.monthlyLimit) : null;
  };
  const own = limit(userKey(userId));
  const fallback = limit(DEFAULT_KEY);
  return {
    personal: own !== null ? { limit: own, source: "own" } : fallback !== null ? { limit: fallback, source: "default" } : null,
    team: limit(TEAM_KEY),
  };
}

/**
 * A submit that does not fit a budget: the message people read, and which
 * budget, so the refusal can be noticed once its transaction has rolled back.
 */
export class OverBudgetError extends AppError {
  static override readonly kind: string = "OverBudgetError";
  constructor(
    message: string,
    readonly budget: { scope: "personal" | "team"; key: string; month: string; limit: number; used: number; estimate: number },
  ) {
    super("PAYMENT_REQUIRED", message, { _form: [message] });
  }
}

/** The refusal, in the words the form also uses (messages.ts). */
function overBudget(scope: "personal" | "team", key: string, limit: number, used: number, estimate: number, month: string, tz: string, currency: string): OverBudgetError {
  const left = Math.max(0, round6(limit - used));
  const renewsOn = monthOf(monthBounds(month, tz).to, tz) + "-01";
  const message = overBudgetMessage({ scope, estimate, left, limit, currency, renewsOn });
  return new OverBudgetError(message, { scope, key, month, limit, used: round6(used), estimate });
}

/**
 * After a refused submit (its transaction rolled back): a budget that is 80 %
 * used or more and can no longer pay for the video asked for has been
 * reached; the 100 % notice goes out once that month (also when no
 * reservation filled it exactly). A refusal with most of the budget left (one
 * video larger than the rest) is the person's news only.
 */
export async function noteRefusal(db: Db, err: OverBudgetError, userId: string, now: Date): Promise<BudgetAlert[]> {
  const { scope, key, month, limit, used } = err.budget;
  metrics().budgetRefusals.inc({ scope });
  if (used < 0.8 * limit) return [];
  const { count } = await db.budgetLedger.updateMany({ where: { key, month, alerted100At: null }, data: { alerted100At: now } });
  return count === 1 ? [{ scope, userId: scope === "personal" ? userId : null, month, threshold: 1, limit, used, refusedEstimate: err.budget.estimate }] : [];
}

/** Marks the thresholds a ledger row has just crossed (each once per month); returns them. */
async function crossedThresholds(tx: Tx, key: string, month: string, limit: number, used: number, now: Date): Promise<number[]> {
  const crossed: number[] = [];
  for (const threshold of THRESHOLDS) {
    if (used < threshold * limit) continue;
    const column = threshold === 1 ? "alerted100At" : "alerted80At";
    const { count } = await tx.budgetLedger.updateMany({ where: { key, month, [column]: null }, data: { [column]: now } });
    if (count === 1) crossed.push(threshold);
  }
  return crossed;
}

/**
 * Holds `estimate` against the person's and the team's budgets of `now`'s
 * month, inside the transaction that stores the task; throws
 * PAYMENT_REQUIRED (naming what remains and when it renews) when it does not
 * fit. Returns the budget month and the thresholds crossed.
 */
export async function reserveBudget(
  tx: Tx,
  input: { userId: string; estimate: number; timeZone: string; currency: string; now: Date },
): Promise<{ month: string; alerts: BudgetAlert[] }> {
  const month = monthOf(input.now, input.timeZone);
  const teamKey = TEAM_KEY;
  const personKey = userKey(input.userId);
  // One statement reads the limits (the person's own, else the default), holds the
  // estimate on both rows (the team's first; the person's runs only once the team's
  // took: always the same order, so concurrent submits never deadlock) and says
  // whether both rows exist. Every submit locks the team's row until COMMIT: one
  // round trip while it is held.
  const hold = () => tx.$queryRaw<Array<{ team: string | null; person: string | null; teamLimit: string | null; personLimit: string | null; rows: number }>>`
    WITH lim AS (
      SELECT (SELECT "monthlyLimit" FROM "Budget" WHERE "key" = ${teamKey}) AS team,
             COALESCE((SELECT "monthlyLimit" FROM "Budget" WHERE "key" = ${personKey}),
                      (SELECT "monthlyLimit" FROM "Budget" WHERE "key" = ${DEFAULT_KEY})) AS person,
             (SELECT count(*)::int FROM "BudgetLedger" WHERE "key" IN (${teamKey}, ${personKey}) AND "month" = ${month}) AS rows
    ), team AS (
      UPDATE "BudgetLedger" SET "reserved" = "reserved" + ${input.estimate}
      WHERE "key" = ${teamKey} AND "month" = ${month}
        -- Nothing is held until both rows exist (the caller creates them and asks again).
        AND (SELECT rows FROM lim) = 2
        AND ((SELECT team FROM lim) IS NULL OR "reserved" + "spent" + ${input.estimate} <= (SELECT team FROM lim))
      RETURNING ("reserved" + "spent")::text AS used
    ), person AS (
      UPDATE "BudgetLedger" SET "reserved" = "reserved" + ${input.estimate}
      WHERE EXISTS (SELECT 1 FROM team) AND "key" = ${personKey} AND "month" = ${month}
        AND ((SELECT person FROM lim) IS NULL OR "reserved" + "spent" + ${input.estimate} <= (SELECT person FROM lim))
      RETURNING ("reserved" + "spent")::text AS used
    )
    SELECT (SELECT used FROM team) AS team, (SELECT used FROM person) AS person,
           lim.team::text AS "teamLimit", lim.person::text AS "personLimit", lim.rows
    FROM lim`;
  let [held] = await hold();
  if (held!.rows < 2) {
    // The month's first submit (for the team or the person): both rows exist first, then the
    // holds. NOT EXISTS reads the committed row, so a submit does not wait here for another
    // one that holds the row (ON CONFLICT alone would).
    await tx.$executeRaw`
      INSERT INTO "BudgetLedger" ("key", "month")
      SELECT k, ${month} FROM unnest(ARRAY[${teamKey}, ${personKey}]::text[]) AS k
      WHERE NOT EXISTS (SELECT 1 FROM "BudgetLedger" l WHERE l."key" = k AND l."month" = ${month})
      ON CONFLICT DO NOTHING`;
    [held] = await hold();
  }
  const toLimit = (v: string | null) => (v === null ? null : Number(v));
  const [team, person] = [
    { key: teamKey, scope: "team" as const, limit: toLimit(held!.teamLimit) },
    { key: personKey, scope: "personal" as const, limit: toLimit(held!.personLimit) },
  ];
  const alerts: BudgetAlert[] = [];
  for (const [{ key, scope, limit }, used] of [
    [team, held?.team ?? null],
    [person, held?.person ?? null],
  ] as const) {
    if (used === null) {
      const current = await tx.budgetLedger.findUniqueOrThrow({ where: { key_month: { key, month } } });
      throw overBudget(scope, key, limit ?? 0, Number(current.reserved) + Number(current.spent), input.estimate, month, input.timeZone, input.currency);
    }
    if (limit !== null) {
      const total = round6(Number(used));
      for (const threshold of await crossedThresholds(tx, key, month, limit, total, input.now)) {
        alerts.push({ scope, userId: scope === "personal" ? input.userId : null, month, threshold: threshold as BudgetAlert["threshold"], limit, used: total });
      }
    }
  }
  return { month, alerts };
}

/**
 * Settles a task's reservation when it ends: the hold is released and the
 * billed cost added to what was spent, as two CTEs of the statement that ends
 * the task (finishTask; `ended` names the CTE whose row says the task ended
 * now): nothing is settled unless it did. The team's row first, then the
 * person's, as the holds take them (no deadlock with a submit).
 */
export function settleBudgetCtes(task: { userId: string; budgetMonth: string | null; reservedCost: unknown }, cost: number, ended: string): Prisma.Sql {
  const held = Number(task.reservedCost ?? 0);
  const cte = Prisma.raw(`"${ended.replace(/"/g, "")}"`);
  return Prisma.sql`settle_team AS (
      UPDATE "BudgetLedger" SET "reserved" = GREATEST("reserved" - ${held}, 0), "spent" = "spent" + ${cost}
      WHERE EXISTS (SELECT 1 FROM ${cte}) AND "key" = ${TEAM_KEY} AND "month" = ${task.budgetMonth}
      RETURNING 1
    ), settle_person AS (
      UPDATE "BudgetLedger" SET "reserved" = GREATEST("reserved" - ${held}, 0), "spent" = "spent" + ${cost}
      WHERE EXISTS (SELECT 1 FROM ${cte}) AND (SELECT count(*) FROM settle_team) >= 0 AND "key" = ${userKey(task.userId)} AND "month" = ${task.budgetMonth}
      RETURNING 1
    )`;
}

export interface BudgetUse {
  limit: number | null;
  spent: number;
  reserved: number;
  /** What is left to reserve; null without a limit. */
  remaining: number | null;
  /** (spent + reserved) / limit; null without a limit. */
  used: number | null;
  /** Reached this month: 100 % used, or a submit refused with 80 % or more used (noticed once). */
  reached: boolean;
}

function useOf(limit: number | null, ledger: { spent: unknown; reserved: unknown; alerted100At?: Date | null } | null): BudgetUse {
  const spent = Number(ledger?.spent ?? 0);
  const reserved = Number(ledger?.reserved ?? 0);
  return {
    limit,
    spent,
    reserved,
    remaining: limit === null ? null : Math.max(0, round6(limit - spent - reserved)),
    used: limit === null || limit === 0 ? (limit === 0 ? 1 : null) : round6((spent + reserved) / limit),
    // A raised limit undoes it: reached only while 80 % or more is still used.
    reached: limit !== null && (spent + reserved >= limit || (ledger?.alerted100At != null && spent + reserved >= 0.8 * limit)),
  };
}

export interface BudgetStatus {
  month: string;
  /** The first day of the next month (YYYY-MM-DD in the reporting time zone). */
  renewsOn: string;
  personal: BudgetUse & { source: "own" | "default" | null };
  team: BudgetUse;
}

/** A person's budget for the month of `now`: for the form, and the top of their history. */
export async function budgetStatus(db: Db, userId: string, timeZone: string, now = new Date()): Promise<BudgetStatus> {
  const month = monthOf(now, timeZone);
  const [limits, ledgers] = await Promise.all([
    limitsOf(db, userId),
    db.budgetLedger.findMany({ where: { month, key: { in: [TEAM_KEY, userKey(userId)] } } }),
  ]);
  const renews = monthBounds(month, timeZone).to;
  return {
    month,
    renewsOn: monthOf(renews, timeZone) + "-01",
    personal: { ...useOf(limits.personal?.limit ?? null, ledgers.find((l) => l.key === userKey(userId)) ?? null), source: limits.personal?.source ?? null },
    team: useOf(limits.team, ledgers.find((l) => l.key === TEAM_KEY) ?? null),
  };
}

/** Every budget set, and each person's use in `month` (the usage page). */
export async function budgetOverview(db: Db, month: string): Promise<{ team: BudgetUse; defaultLimit: number | null; people: Map<string, BudgetUse & { source: "own" | "default" | null }> }> {
  const [budgets, ledgers] = await Promise.all([db.budget.findMany(), db.budgetLedger.findMany({ where: { month } })]);
  const limits = new Map(budgets.map((b) => [b.key, Number(b.monthlyLimit)]));
  const ledgerOf = new Map(ledgers.map((l) => [l.key, l]));
  const limitOf = (key: string) => limits.get(key) ?? null;
  const defaultLimit = limitOf(DEFAULT_KEY);
  const people = new Map<string, BudgetUse & { source: "own" | "default" | null }>();
  const userIds = new Set([...budgets.filter((b) => b.userId).map((b) => b.userId as string), ...ledgers.filter((l) => l.key.startsWith("user:")).map((l) => l.key.slice(5))]);
  for (const id of userIds) {
    const own = limitOf(userKey(id));
    const limit = own ?? defaultLimit;
    people.set(id, { ...useOf(limit, ledgerOf.get(userKey(id)) ?? null), source: own !== null ? "own" : defaultLimit !== null ? "default" : null });
  }
  return { team: useOf(limitOf(TEAM_KEY), ledgerOf.get(TEAM_KEY) ?? null), defaultLimit, people };
}

/** Sets (or with null removes) the team's, the default or one person's monthly budget; audited. */
export async function setBudget(db: Db, actor: Actor, input: { scope: "team" | "default" | "user"; userId?: string; monthlyLimit: number | null }): Promise<void> {
  if (input.scope === "user" && !input.userId) throw new AppError("BAD_REQUEST", "Choose whose budget to set.");
  if (input.monthlyLimit !== null && (!Number.isFinite(input.monthlyLimit) || input.monthlyLimit < 0 || input.monthlyLimit > 1e8)) {
    throw new AppError("BAD_REQUEST", "A budget is an amount from 0 to 100,000,000.", { monthlyLimit: ["Enter an amount from 0 to 100,000,000."] });
  }
  const key = input.scope === "user" ? userKey(input.userId as string) : input.scope === "team" ? TEAM_KEY : DEFAULT_KEY;
  await transaction(db, async (tx) => {
    let label = input.scope === "team" ? "Team budget" : input.scope === "default" ? "Default budget" : "";
    if (input.scope === "user") {
      const user = await tx.user.findUnique({ where: { id: input.userId }, select: { email: true } });
      if (!user) throw new AppError("NOT_FOUND", "No such person in the team.");
      label = user.email;
    }
    const before = await tx.budget.findUnique({ where: { key } });
    const beforeLimit = before ? Number(before.monthlyLimit) : null;
    if (beforeLimit === input.monthlyLimit) return;
    if (input.monthlyLimit === null) await tx.budget.delete({ where: { key } });
    else {
      await tx.budget.upsert({
        where: { key },
        create: { key, userId: input.scope === "user" ? (input.userId as string) : null, monthlyLimit: input.monthlyLimit, updatedById: actor.id },
        update: { monthlyLimit: input.monthlyLimit, updatedById: actor.id },
      });
    }
    await recordAudit(tx, actor, {
      action: "budget.changed",
      targetType: "budget",
      targetId: input.scope === "user" ? (input.userId as string) : key,
      targetLabel: label,
      before: { monthlyLimit: beforeLimit },
      after: { monthlyLimit: input.monthlyLimit },
    });
  });
}
