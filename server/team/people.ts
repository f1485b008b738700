/**
 * What admins do to people: change a role, deactivate and reactivate, make a
 * password-reset link. Each change and its audit row share one transaction.
 * The last active admin can be neither demoted nor deactivated, even by two
 * admins acting at the same moment: every such change takes one advisory
 * lock first, so they run one after the other and each sees the other's
 * result. Deactivating someone ends every session they have at once (their
 * tasks and billing stay; running tasks finish and are billed to them).
 */
import { transaction, type Role, type Tx } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { recordAudit } from "../audit/audit.ts";
import { revokeUserSessions } from "../auth/sessions.ts";
import { hashPassword } from "../users/passwords.ts";
import type { SessionUser } from "../users/users.ts";
import { actorOf, nowOf, type TeamDeps } from "./deps.ts";
import { hashLinkToken, isLinkTokenShaped, linkFor, newLinkToken } from "./links.ts";
import { checkedPassword, type SentLink } from "./invitations.ts";

/** Ends every reset link of a person that could still be used. */
export async function expireOpenResets(tx: Pick<Tx, "passwordReset">, userId: string, now: Date): Promise<void> {
  await tx.passwordReset.updateMany({ where: { userId, usedAt: null, expiresAt: { gt: now } }, data: { expiresAt: now } });
}

/** Serialises every change that could leave the team without an active admin. */
const ADMIN_CHANGES_LOCK = 7_241_001;

async function lockAdminChanges(tx: Tx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADMIN_CHANGES_LOCK})`;
}

/** Refuses when `userId` is the only active admin (call under the lock). */
async function assertNotLastActiveAdmin(tx: Tx, userId: string, what: string): Promise<void> {
  const others = await tx.user.count({ where: { role: "admin", status: "active", id: { not: userId } } });
  if (others === 0) throw new AppError("CONFLICT", `This is the last active admin; make someone else an admin before you ${what}.`);
}

async function targetOf(tx: Tx, userId: string) {
  const user = await tx.user.findUnique({ where: { id: userId } });
  if (!user) throw new AppError("NOT_FOUND", "No such person in the team.");
  return user;
}

export async function setRole(deps: TeamDeps, actor: SessionUser, userId: string, role: Role): Promise<void> {
  await transaction(deps.db, async (tx) => {
    await lockAdminChanges(tx);
    const user = await targetOf(tx, userId);
    if (user.role === role) return;
    if (user.role === "admin" && user.status === "active") await assertNotLastActiveAdmin(tx, userId, "demote this one");
    await tx.user.update({ where: { id: userId }, data: { role } });
    await recordAudit(tx, actorOf(actor), { action: "user.role_changed", targetType: "user", targetId: userId, targetLabel: user.email, before: { role: user.role }, after: { role } });
  });
}

/** The person cannot sign in any more, and every session they have ends now. */
export async function deactivateUser(deps: TeamDeps, actor: SessionUser, userId: string): Promise<{ sessionsEnded: number }> {
  return transaction(deps.db, async (tx) => {
    await lockAdminChanges(tx);
    const user = await targetOf(tx, userId);
    if (user.status === "deactivated") return { sessionsEnded: 0 };
    if (user.role === "admin") await assertNotLastActiveAdmin(tx, userId, "deactivate this one");
    const now = nowOf(deps);
    await tx.user.update({ where: { id: userId }, data: { status: "deactivated", deactivatedAt: now } });
    const sessionsEnded = await revokeUserSessions(tx, userId, "deactivated", now);
    await expireOpenResets(tx, userId, now); // a link made before must not outlive the deactivation
    await recordAudit(tx, actorOf(actor), {
      action: "user.deactivated",
      targetType: "user",
      targetId: userId,
      targetLabel: user.email,
      before: { status: "active" },
      after: { status: "deactivated", sessionsEnded },
    });
    return { sessionsEnded };
  });
}

export async function reactivateUser(deps: TeamDeps, actor: SessionUser, userId: string): Promise<void> {
  await transaction(deps.db, async (tx) => {
    const user = await targetOf(tx, userId);
    if (user.status === "active") return;
    await tx.user.update({ where: { id: userId }, data: { status: "active", deactivatedAt: null } });
    await recordAudit(tx, actorOf(actor), { action: "user.reactivated", targetType: "user", targetId: userId, targetLabel: user.email, before: { status: "deactivated" }, after: { status: "active" } });
  });
}

/**
 * A one-time link for the person to set a new password (emailed when SMTP is
 * configured). Every session of the person ends now; earlier links of theirs
 * stop working.
 */
export async function createPasswordReset(deps: TeamDeps, actor: SessionUser, userId: string): Promise<SentLink & { sessionsEnded: number }> {
  const now = nowOf(deps);
  const { token, tokenHash } = newLinkToken();
  const expiresAt = new Date(now.getTime() + deps.passwordResetTtlHours * 3_600_000);
  const { email, sessionsEnded } = await transaction(deps.db, async (tx) => {
    const user = await targetOf(tx, userId);
    if (user.status === "deactivated") throw new AppError("CONFLICT", `${user.email} is deactivated; reactivate the account first.`);
    await expireOpenResets(tx, userId, now);
    await tx.passwordReset.create({ data: { userId, tokenHash, createdById: actor.id, createdAt: now, expiresAt } });
    const ended = await revokeUserSessions(tx, userId, "password_changed", now);
    await recordAudit(tx, actorOf(actor), {
      action: "user.password_reset_created",
      targetType: "user",
      targetId: userId,
      targetLabel: user.email,
      after: { expiresAt: expiresAt.toISOString(), sessionsEnded: ended },
    });
    return { email: user.email, sessionsEnded: ended };
  });
  const link = linkFor(deps.publicBaseUrl, "reset", token);
  const emailed = deps.mailer
    ? await deps.mailer.send({
        to: email,
        subject: "Set a new password for the Wan video portal",
        text: `An admin of the team's Wan video portal made a link for you to set a new password:\n${link}\n\nIt works once, until ${expiresAt.toUTCString()}. Your earlier sessions have been signed out.\n`,
      })
    : false;
  return { link, emailed, sessionsEnded };
}

const RESET_DEAD = "This link no longer works (used, replaced or expired). Ask an admin for a new one.";

/** Whom a reset link is for, and whether it still works; null for no such link. */
export async function passwordResetForToken(deps: Pick<TeamDeps, "db" | "now">, token: string): Promise<{ email: string; usable: boolean } | null> {
  if (!isLinkTokenShaped(token)) return null;
  const reset = await deps.db.passwordReset.findUnique({ where: { tokenHash: hashLinkToken(token) } });
  if (!reset) return null;
  const user = await deps.db.user.findUnique({ where: { id: reset.userId }, select: { email: true, status: true } });
  if (!user) return null;
  return { email: user.email, usable: reset.usedAt === null && reset.expiresAt > nowOf(deps) && user.status === "active" };
}

/** Sets the new password through a reset link (once); every session ends. Returns the person, for signing in. */
export async function resetPasswordWithToken(deps: Pick<TeamDeps, "db" | "now">, token: string, newPassword: string): Promise<SessionUser> {
  const password = checkedPassword(newPassword);
  if (!isLinkTokenShaped(token)) throw new AppError("NOT_FOUND", RESET_DEAD);
  const now = nowOf(deps);
  const tokenHash = hashLinkToken(token);
  // Nothing costly (no password hash) for a link that does not work.
  if (!(await deps.db.passwordReset.findFirst({ where: { tokenHash, usedAt: null, expiresAt: { gt: now } }, select: { id: true } }))) {
    throw new AppError("NOT_FOUND", RESET_DEAD);
  }
  const passwordHash = await hashPassword(password);
  return transaction(deps.db, async (tx) => {
    const { count } = await tx.passwordReset.updateMany({ where: { tokenHash, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
    if (count !== 1) throw new AppError("NOT_FOUND", RESET_DEAD);
    const reset = await tx.passwordReset.findUniqueOrThrow({ where: { tokenHash } });
    const user = await targetOf(tx, reset.userId);
    if (user.status !== "active") throw new AppError("NOT_FOUND", RESET_DEAD);
    await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
    await revokeUserSessions(tx, user.id, "password_changed", now);
    await recordAudit(tx, { id: user.id, email: user.email }, { action: "user.password_reset_used", targetType: "user", targetId: user.id, targetLabel: user.email });
    return { id: user.id, email: user.email, name: user.name, role: user.role };
  });
}
