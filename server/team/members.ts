/**
 * The members page's data: everyone in the team with role, status, how they
 * sign in, when they last did, and their tasks and spend this month; and the
 * invitations. A task counts in the month it was submitted; spend is the sum
 * of the stored per-task costs (the usage page will share this rule).
 */
import type { Db, Role } from "../db/client.ts";
import { nowOf, type TeamDeps } from "./deps.ts";
import { toInvitationView, type InvitationView } from "./invitations.ts";

export type SignInMethod = "password" | "sso";

export interface MemberRow {
  id: string;
  name: string | null;
  email: string;
  role: Role;
  status: "active" | "deactivated";
  signInMethods: SignInMethod[];
  lastSignInAt: Date | null;
  createdAt: Date;
  tasksThisMonth: number;
  /** Sum of the stored costs of this month's tasks (6 decimals). */
  spendThisMonth: number;
}

/** The first instant of `now`'s month, in UTC (the reporting time zone comes with the usage page). */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export async function listMembers(deps: Pick<TeamDeps, "db" | "now">): Promise<{ members: MemberRow[]; invitations: InvitationView[]; monthStart: Date }> {
  const { db } = deps;
  const now = nowOf(deps);
  const since = monthStart(now);
  const [users, usage, invitations] = await Promise.all([
    db.user.findMany({
      orderBy: [{ status: "asc" }, { email: "asc" }],
      select: { id: true, name: true, email: true, role: true, status: true, lastSignInAt: true, createdAt: true, passwordHash: true, accounts: { select: { provider: true } } },
    }),
    monthUsage(db, since),
    db.invitation.findMany({ where: { acceptedAt: null, revokedAt: null }, orderBy: { createdAt: "desc" }, take: 500 }),
  ]);
  const members = users.map((u): MemberRow => ({
    id: u.id,
    name: u.name,
    email: u.email,
    role: u.role,
    status: u.status,
    signInMethods: [...(u.passwordHash ? (["password"] as const) : []), ...(u.accounts.some((a) => a.provider === "oidc") ? (["sso"] as const) : [])],
    lastSignInAt: u.lastSignInAt,
    createdAt: u.createdAt,
    tasksThisMonth: usage.get(u.id)?.tasks ?? 0,
    spendThisMonth: usage.get(u.id)?.spend ?? 0,
  }));
  return { members, invitations: invitations.map((i) => toInvitationView(i, now)), monthStart: since };
}

async function monthUsage(db: Db, since: Date): Promise<Map<string, { tasks: number; spend: number }>> {
  const rows = await db.$queryRaw<Array<{ userId: string; tasks: bigint; spend: string | null }>>`
    SELECT t."userId", count(*) AS tasks, sum(b."cost")::text AS spend
    FROM "Task" t LEFT JOIN "BillingRecord" b ON b."taskId" = t."id"
    WHERE t."createdAt" >= ${since}
    GROUP BY t."userId"`;
  return new Map(rows.map((r) => [r.userId, { tasks: Number(r.tasks), spend: Number(r.spend ?? 0) }]));
}
