/**
 * The members page's data: everyone in the team with role, status, how they
 * sign in, when they last did, and their tasks and spend this month; and the
 * invitations. A task counts in the month it was submitted, in the team's
 * reporting time zone; spend is the sum of the stored per-task costs: the
 * usage page's own query (server/usage/usage.ts).
 */
import type { Role } from "../db/client.ts";
import { reportingTimeZone } from "../settings/settings.ts";
import { resolvePeriod } from "../usage/periods.ts";
import { usageGroups } from "../usage/usage.ts";
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

export interface MembersMonth {
  /** The month's first instant and the next month's, in the reporting time zone. */
  since: Date;
  until: Date;
  timeZone: string;
  label: string;
}

export async function listMembers(deps: Pick<TeamDeps, "db" | "now" | "defaultTimeZone">): Promise<{ members: MemberRow[]; invitations: InvitationView[]; month: MembersMonth }> {
  const { db } = deps;
  const now = nowOf(deps);
  const period = resolvePeriod({ kind: "this-month" }, await reportingTimeZone(db, deps.defaultTimeZone ?? "UTC"), now);
  const [users, usage, invitations] = await Promise.all([
    db.user.findMany({
      orderBy: [{ status: "asc" }, { email: "asc" }],
      select: { id: true, name: true, email: true, role: true, status: true, lastSignInAt: true, createdAt: true, passwordHash: true, accounts: { select: { provider: true } } },
    }),
    usageGroups(db, { from: period.from, to: period.to }).then(({ people }) => new Map(people.map((p) => [p.userId, { tasks: p.tasks, spend: p.cost }]))),
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
  return {
    members,
    invitations: invitations.map((i) => toInvitationView(i, now)),
    month: { since: period.from, until: period.to, timeZone: period.timeZone, label: period.label },
  };
}
