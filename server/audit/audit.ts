/**
 * The audit log: every admin action, with who, when, what, and the values
 * before and after. `recordAudit` takes the transaction of the change itself,
 * so a change is never without its row and a row never without its change.
 * Read newest first, filtered, with keyset pages (`listAudit`).
 */
import type { Db, Prisma, Tx } from "../db/client.ts";
import { olderThan, pageOf } from "../db/keyset.ts";
import type { AuditAction } from "./actions.ts";

export { AUDIT_ACTIONS, type AuditAction } from "./actions.ts";

/** Who did it: a person, or nobody (the command line, the system). */
export interface Actor {
  id: string | null;
  email: string | null;
}

export interface AuditEntry {
  action: AuditAction;
  targetType: "user" | "invitation" | "budget" | "setting" | "api_key";
  targetId: string | null;
  /** The target as people know it (an email). */
  targetLabel: string | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

export async function recordAudit(tx: Tx, actor: Actor, entry: AuditEntry): Promise<void> {
  await tx.auditEvent.create({
    data: {
      actorId: actor.id,
      actorEmail: actor.email,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      targetLabel: entry.targetLabel,
      before: (entry.before ?? undefined) as Prisma.InputJsonValue | undefined,
      after: (entry.after ?? undefined) as Prisma.InputJsonValue | undefined,
    },
  });
}

export interface AuditFilters {
  actorId?: string;
  action?: AuditAction;
  /** A person or invitation the action was about. */
  targetId?: string;
  from?: Date;
  to?: Date;
}

export interface AuditEventView {
  id: string;
  at: Date;
  actorId: string | null;
  actorEmail: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  targetLabel: string | null;
  before: unknown;
  after: unknown;
}

/** Newest first; `cursor` continues after the last row of the previous page. */
export async function listAudit(
  db: Db,
  filters: AuditFilters,
  page: { cursor?: string; limit?: number } = {},
): Promise<{ events: AuditEventView[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(page.limit ?? 50, 1), 200);
  const rows = await db.auditEvent.findMany({
    where: {
      AND: [
        {
          ...(filters.actorId && { actorId: filters.actorId }),
          ...(filters.action && { action: filters.action }),
          ...(filters.targetId && { targetId: filters.targetId }),
          at: { ...(filters.from && { gte: filters.from }), ...(filters.to && { lt: filters.to }) },
        },
        olderThan("at", page.cursor),
      ],
    },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: limit + 1,
  });
  const { items, nextCursor } = pageOf(rows, limit, (r) => r.at);
  return { events: items, nextCursor };
}

export interface SignInView {
  id: string;
  at: Date;
  email: string;
  userId: string | null;
  clientAddress: string | null;
  outcome: string;
}

/**
 * The sign-in log, newest first: every successful sign-in, and the refused
 * ones kept in detail (the first few of each hour); with the number of
 * refusals counted per hour in the period, all of them.
 */
export async function listSignIns(
  db: Db,
  filters: { userId?: string; refusedOnly?: boolean; from?: Date; to?: Date },
  page: { cursor?: string; limit?: number } = {},
): Promise<{ signIns: SignInView[]; nextCursor: string | null; refusedCounted: number }> {
  const limit = Math.min(Math.max(page.limit ?? 50, 1), 200);
  const at = { ...(filters.from && { gte: filters.from }), ...(filters.to && { lt: filters.to }) };
  const [rows, refused] = await Promise.all([
    db.signInEvent.findMany({
      where: {
        AND: [
          {
            ...(filters.userId && { userId: filters.userId }),
            ...(filters.refusedOnly && { outcome: { notIn: ["succeeded", "succeeded_sso"] } }),
            at,
          },
          olderThan("at", page.cursor),
        ],
      },
      select: { id: true, at: true, email: true, userId: true, clientAddress: true, outcome: true },
      orderBy: [{ at: "desc" }, { id: "desc" }],
      take: limit + 1,
    }),
    db.signInRefusalCount.aggregate({ _sum: { count: true }, where: { hour: at } }),
  ]);
  const { items, nextCursor } = pageOf(rows, limit, (r) => r.at);
  return { signIns: items, nextCursor, refusedCounted: refused._sum.count ?? 0 };
}
