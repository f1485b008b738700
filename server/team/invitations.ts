/**
 * Invitations: an admin invites an email with a role and gets a one-time,
 * expiring link to pass on (also emailed when SMTP is configured). The
 * invitation is its own row, never a half-made account; the account is made
 * when the invitee accepts, with the name and password they choose. A
 * re-send makes a new link (the old one stops working); a revoked, used or
 * expired link opens nothing. Every change is audited in its transaction.
 */
import { transaction, type Invitation, type Role, type Tx } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { recordAudit } from "../audit/audit.ts";
import { hashPassword } from "../users/passwords.ts";
import { emailSchema, passwordSchema, type SessionUser } from "../users/users.ts";
import { isStorableText } from "../http/text.ts";
import { actorOf, nowOf, type TeamDeps } from "./deps.ts";
import { hashLinkToken, isLinkTokenShaped, linkFor, newLinkToken } from "./links.ts";

export type InvitationState = "pending" | "expired" | "accepted" | "revoked";

export interface InvitationView {
  id: string;
  email: string;
  role: Role;
  state: InvitationState;
  createdAt: Date;
  sentAt: Date;
  expiresAt: Date;
  invitedById: string | null;
}

export function invitationState(i: Pick<Invitation, "acceptedAt" | "revokedAt" | "expiresAt">, now: Date): InvitationState {
  if (i.acceptedAt) return "accepted";
  if (i.revokedAt) return "revoked";
  return i.expiresAt <= now ? "expired" : "pending";
}

export function toInvitationView(i: Invitation, now: Date): InvitationView {
  return { id: i.id, email: i.email, role: i.role, state: invitationState(i, now), createdAt: i.createdAt, sentAt: i.sentAt, expiresAt: i.expiresAt, invitedById: i.invitedById };
}

/** The link, and whether it was also emailed. */
export interface SentLink {
  link: string;
  emailed: boolean;
}

async function mailInvitation(deps: TeamDeps, email: string, role: Role, link: string, expiresAt: Date): Promise<boolean> {
  if (!deps.mailer) return false;
  return deps.mailer.send({
    to: email,
    subject: "You are invited to the Wan video portal",
    text:
      `You have been invited to the team's Wan video portal as ${role === "admin" ? "an admin" : "a member"}.\n\n` +
      `Open this link to choose your name and password:\n${link}\n\n` +
      `The link works once, until ${expiresAt.toUTCString()}. If you did not expect it, ignore this mail.\n`,
  });
}

export async function inviteMember(deps: TeamDeps, actor: SessionUser, input: { email: string; role: Role }): Promise<{ invitation: InvitationView } & SentLink> {
  const email = emailSchema.parse(input.email);
  const now = nowOf(deps);
  const { token, tokenHash } = newLinkToken();
  const expiresAt = new Date(now.getTime() + deps.invitationTtlHours * 3_600_000);
  const invitation = await transaction(deps.db, async (tx) => {
    await lockEmail(tx, email);
    const existing = await tx.user.findUnique({ where: { email }, select: { status: true } });
    if (existing) {
      const what = existing.status === "deactivated" ? "a deactivated account; reactivate it instead" : "an account already";
      throw new AppError("CONFLICT", `${email} has ${what}.`, { email: [`${email} has ${what}.`] });
    }
    const pending = await tx.invitation.findFirst({ where: { email, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } } });
    if (pending) {
      throw new AppError("CONFLICT", `${email} is invited already; re-send or revoke that invitation.`, { email: [`${email} is invited already; re-send or revoke that invitation.`] });
    }
    // Expired invitations still open for this email are closed: one open invitation per email.
    await closeOtherInvitations(tx, email, null, now);
    const created = await tx.invitation.create({ data: { email, role: input.role, tokenHash, invitedById: actor.id, createdAt: now, sentAt: now, expiresAt } });
    await recordAudit(tx, actorOf(actor), {
      action: "invitation.created",
      targetType: "invitation",
      targetId: created.id,
      targetLabel: email,
      after: { email, role: input.role, expiresAt: expiresAt.toISOString() },
    });
    return created;
  });
  const link = linkFor(deps.publicBaseUrl, "invite", token);
  return { invitation: toInvitationView(invitation, now), link, emailed: await mailInvitation(deps, email, input.role, link, expiresAt) };
}

/** A new link for a pending or expired invitation (the old link stops working). */
export async function resendInvitation(deps: TeamDeps, actor: SessionUser, invitationId: string): Promise<{ invitation: InvitationView } & SentLink> {
  const now = nowOf(deps);
  const { token, tokenHash } = newLinkToken();
  const expiresAt = new Date(now.getTime() + deps.invitationTtlHours * 3_600_000);
  const invitation = await transaction(deps.db, async (tx) => {
    const before = await tx.invitation.findUnique({ where: { id: invitationId } });
    if (!before) throw new AppError("NOT_FOUND", "No such invitation.");
    await lockEmail(tx, before.email);
    const state = invitationState(before, now);
    if (state === "accepted" || state === "revoked") throw new AppError("CONFLICT", `This invitation was ${state}; invite ${before.email} again instead.`);
    if (await tx.user.findUnique({ where: { email: before.email }, select: { id: true } })) throw new AppError("CONFLICT", `${before.email} has an account already.`);
    await closeOtherInvitations(tx, before.email, invitationId, now);
    const { count } = await tx.invitation.updateMany({
      where: { id: invitationId, acceptedAt: null, revokedAt: null },
      data: { tokenHash, sentAt: now, expiresAt },
    });
    if (count !== 1) throw new AppError("CONFLICT", "This invitation changed meanwhile; reload the page.");
    await recordAudit(tx, actorOf(actor), {
      action: "invitation.resent",
      targetType: "invitation",
      targetId: invitationId,
      targetLabel: before.email,
      before: { expiresAt: before.expiresAt.toISOString() },
      after: { expiresAt: expiresAt.toISOString() },
    });
    return tx.invitation.findUniqueOrThrow({ where: { id: invitationId } });
  });
  const link = linkFor(deps.publicBaseUrl, "invite", token);
  return { invitation: toInvitationView(invitation, now), link, emailed: await mailInvitation(deps, invitation.email, invitation.role, link, expiresAt) };
}

export async function revokeInvitation(deps: TeamDeps, actor: SessionUser, invitationId: string): Promise<InvitationView> {
  const now = nowOf(deps);
  return transaction(deps.db, async (tx) => {
    const before = await tx.invitation.findUnique({ where: { id: invitationId } });
    if (!before) throw new AppError("NOT_FOUND", "No such invitation.");
    const { count } = await tx.invitation.updateMany({ where: { id: invitationId, acceptedAt: null, revokedAt: null }, data: { revokedAt: now } });
    if (count !== 1) throw new AppError("CONFLICT", `This invitation was ${invitationState(before, now)} already.`);
    await recordAudit(tx, actorOf(actor), {
      action: "invitation.revoked",
      targetType: "invitation",
      targetId: invitationId,
      targetLabel: before.email,
      before: { state: invitationState(before, now) },
      after: { state: "revoked" },
    });
    return toInvitationView(await tx.invitation.findUniqueOrThrow({ where: { id: invitationId } }), now);
  });
}

/** What the invitation page shows for a link: whom it invites and whether it still works; null for no such link. */
export async function invitationForToken(deps: Pick<TeamDeps, "db" | "now">, token: string): Promise<{ email: string; role: Role; state: InvitationState } | null> {
  if (!isLinkTokenShaped(token)) return null;
  const invitation = await deps.db.invitation.findUnique({ where: { tokenHash: hashLinkToken(token) } });
  return invitation && { email: invitation.email, role: invitation.role, state: invitationState(invitation, nowOf(deps)) };
}

/** Serialises the invitation changes of one email (no two open invitations for it, even at the same moment). */
async function lockEmail(tx: Tx, email: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`invitation:${email}`}))`;
}

/** Closes every open invitation of `email` but `exceptId` (a newer one, or the one accepted). */
export async function closeOtherInvitations(tx: Pick<Tx, "invitation">, email: string, exceptId: string | null, now: Date): Promise<void> {
  await tx.invitation.updateMany({ where: { email, acceptedAt: null, revokedAt: null, ...(exceptId && { id: { not: exceptId } }) }, data: { revokedAt: now } });
}

/** The audit row of an accepted invitation: the new person accepted it, by password or single sign-on. */
export async function recordInvitationAccepted(tx: Tx, user: { id: string; email: string }, invitation: Pick<Invitation, "id" | "email" | "role">, method: "password" | "sso"): Promise<void> {
  await recordAudit(tx, { id: user.id, email: user.email }, {
    action: "invitation.accepted",
    targetType: "invitation",
    targetId: invitation.id,
    targetLabel: invitation.email,
    after: { userId: user.id, role: invitation.role, method },
  });
}

const LINK_DEAD = "This invitation link no longer works (used, revoked, replaced or expired). Ask an admin for a new one.";

/** A new account's name: what was typed, trimmed; refused when empty or not text. */
function nameOf(input: string): string {
  const name = input.trim().slice(0, 100);
  if (name.length === 0) throw new AppError("BAD_REQUEST", "Enter your name.", { name: ["Enter your name."] });
  if (!isStorableText(name)) throw new AppError("BAD_REQUEST", "Use letters, not control characters, in your name.", { name: ["Use letters, not control characters, in your name."] });
  return name;
}

/**
 * Accepts an invitation: the link is claimed (once: a conditional update),
 * and the account made with the invitation's email and role, in one
 * transaction. Returns the new user, for signing in. Nothing costly (no
 * password hash) happens for a link that does not work.
 */
export async function acceptInvitation(
  deps: Pick<TeamDeps, "db" | "now" | "passwordSignIn">,
  token: string,
  input: { name: string; password: string },
): Promise<SessionUser> {
  const name = nameOf(input.name);
  const password = checkedPassword(input.password);
  if (!isLinkTokenShaped(token)) throw new AppError("NOT_FOUND", LINK_DEAD);
  const now = nowOf(deps);
  const tokenHash = hashLinkToken(token);
  const live = await deps.db.invitation.findFirst({ where: { tokenHash, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } }, select: { role: true } });
  if (!live) throw new AppError("NOT_FOUND", LINK_DEAD);
  if (live.role === "member" && deps.passwordSignIn === "admins") {
    throw new AppError("FORBIDDEN", "Members of this portal sign in with single sign-on: use the button on the invitation page instead of a password.");
  }
  const passwordHash = await hashPassword(password);
  try {
    return await transaction(deps.db, async (tx) => {
      const { count } = await tx.invitation.updateMany({ where: { tokenHash, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } }, data: { acceptedAt: now } });
      if (count !== 1) throw new AppError("NOT_FOUND", LINK_DEAD);
      const invitation = await tx.invitation.findUniqueOrThrow({ where: { tokenHash } });
      if (await tx.user.findUnique({ where: { email: invitation.email }, select: { id: true } })) {
        throw new AppError("CONFLICT", `${invitation.email} has an account already; sign in instead.`);
      }
      const user = await tx.user.create({ data: { email: invitation.email, name, role: invitation.role, passwordHash } });
      await tx.invitation.update({ where: { id: invitation.id }, data: { acceptedUserId: user.id } });
      await closeOtherInvitations(tx, invitation.email, invitation.id, now);
      await recordInvitationAccepted(tx, user, invitation, "password");
      return { id: user.id, email: user.email, name: user.name, role: user.role };
    });
  } catch (err) {
    // The same email joined another way at the same moment (single sign-on).
    if ((err as { code?: string }).code === "P2002") throw new AppError("CONFLICT", "This email has an account already; sign in instead.");
    throw err;
  }
}

/** A new password as the rules allow it, or BAD_REQUEST with the reason under `password`. */
export function checkedPassword(password: string): string {
  const parsed = passwordSchema.safeParse(password);
  if (!parsed.success) throw new AppError("BAD_REQUEST", parsed.error.issues[0]?.message ?? "Choose another password", { password: parsed.error.issues.map((i) => i.message) });
  return parsed.data;
}
