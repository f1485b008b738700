/**
 * Invitations: an admin invites an email with a role and gets a one-time,
 * expiring link to pass on (also emailed when SMTP is configured). The
 * invitation is its own row, never a half-made account; the account is made
 * when the invitee accepts, with the name and password they choose. A
 * re-send makes a new link (the old one stops working); a revoked, used or
 * expired link opens nothing. Every change is audited in its transaction.
 */
import type { Invitation, Role, Tx } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { recordAudit } from "../audit/audit.ts";
import { hashPassword } from "../users/passwords.ts";
import { emailSchema, passwordSchema, type SessionUser } from "../users/users.ts";
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
  const invitation = await deps.db.$transaction(async (tx) => {
    const existing = await tx.user.findUnique({ where: { email }, select: { status: true } });
    if (existing) {
      const what = existing.status === "deactivated" ? "a deactivated account; reactivate it instead" : "an account already";
      throw new AppError("CONFLICT", `${email} has ${what}.`, { email: [`${email} has ${what}.`] });
    }
    const pending = await tx.invitation.findFirst({ where: { email, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } } });
    if (pending) {
      throw new AppError("CONFLICT", `${email} is invited already; re-send or revoke that invitation.`, { email: [`${email} is invited already; re-send or revoke that invitation.`] });
    }
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
  const invitation = await deps.db.$transaction(async (tx) => {
    const before = await tx.invitation.findUnique({ where: { id: invitationId } });
    if (!before) throw new AppError("NOT_FOUND", "No such invitation.");
    const state = invitationState(before, now);
    if (state === "accepted" || state === "revoked") throw new AppError("CONFLICT", `This invitation was ${state}; invite ${before.email} again instead.`);
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
  return deps.db.$transaction(async (tx) => {
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

/**
 * Accepts an invitation: the link is claimed (once: a conditional update),
 * and the account made with the invitation's email and role, in one
 * transaction. Returns the new user, for signing in.
 */
export async function acceptInvitation(
  deps: Pick<TeamDeps, "db" | "now">,
  token: string,
  input: { name: string; password: string },
): Promise<SessionUser> {
  const name = input.name.trim().slice(0, 100);
  if (name.length === 0) throw new AppError("BAD_REQUEST", "Enter your name.", { name: ["Enter your name."] });
  const parsed = passwordSchema.safeParse(input.password);
  if (!parsed.success) throw new AppError("BAD_REQUEST", parsed.error.issues[0]?.message ?? "Choose another password", { password: parsed.error.issues.map((i) => i.message) });
  if (!isLinkTokenShaped(token)) throw new AppError("NOT_FOUND", LINK_DEAD);
  const now = nowOf(deps);
  const passwordHash = await hashPassword(parsed.data);
  return deps.db.$transaction(async (tx) => {
    const tokenHash = hashLinkToken(token);
    const { count } = await tx.invitation.updateMany({
      where: { tokenHash, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } },
      data: { acceptedAt: now },
    });
    if (count !== 1) throw new AppError("NOT_FOUND", LINK_DEAD);
    const invitation = await tx.invitation.findUniqueOrThrow({ where: { tokenHash } });
    if (await tx.user.findUnique({ where: { email: invitation.email }, select: { id: true } })) {
      throw new AppError("CONFLICT", `${invitation.email} has an account already; sign in instead.`);
    }
    const user = await tx.user.create({ data: { email: invitation.email, name, role: invitation.role, passwordHash } });
    await tx.invitation.update({ where: { id: invitation.id }, data: { acceptedUserId: user.id } });
    await recordInvitationAccepted(tx, user, invitation, "password");
    return { id: user.id, email: user.email, name: user.name, role: user.role };
  });
}
