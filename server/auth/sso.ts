/**
 * Single sign-on through an OpenID Connect provider (Auth.js's OIDC
 * provider, configured by OIDC_* settings). The identity provider says who
 * someone is; the portal decides whether they may enter: an existing active
 * account with that email, an invited email (the invitation's role), or a
 * verified email in an allowed domain (as a member). A deactivated person is
 * refused whatever the provider says. Only verified emails count.
 */
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { recordInvitationAccepted } from "../team/invitations.ts";
import { emailSchema } from "../users/users.ts";

export type SsoDecision = { ok: true; via: "account" | "invitation" | "domain" } | { ok: false; reason: "unverified" | "deactivated" | "not_invited" };

export async function decideSsoSignIn(db: Db, sso: NonNullable<Config["sso"]>, claims: { email?: unknown; emailVerified?: unknown }, now = new Date()): Promise<SsoDecision> {
  const parsed = emailSchema.safeParse(claims.email);
  if (!parsed.success || claims.emailVerified !== true) return { ok: false, reason: "unverified" };
  const email = parsed.data;
  const user = await db.user.findUnique({ where: { email }, select: { status: true } });
  if (user) return user.status === "active" ? { ok: true, via: "account" } : { ok: false, reason: "deactivated" };
  const invited = await db.invitation.findFirst({ where: { email, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } }, select: { id: true } });
  if (invited) return { ok: true, via: "invitation" };
  const domain = email.split("@")[1] ?? "";
  return sso.allowedDomains.includes(domain) ? { ok: true, via: "domain" } : { ok: false, reason: "not_invited" };
}

/**
 * After the first sign-in of an invited person (Auth.js has just made the
 * account): the invitation gives its role and is used up, with its audit row.
 */
export async function completeSsoInvitation(db: Db, user: { id: string; email: string }, now = new Date()): Promise<void> {
  await db.$transaction(async (tx) => {
    const invitation = await tx.invitation.findFirst({ where: { email: user.email, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } }, orderBy: { createdAt: "desc" } });
    if (!invitation) return;
    const { count } = await tx.invitation.updateMany({ where: { id: invitation.id, acceptedAt: null }, data: { acceptedAt: now, acceptedUserId: user.id } });
    if (count !== 1) return;
    await tx.user.update({ where: { id: user.id }, data: { role: invitation.role } });
    await recordInvitationAccepted(tx, user, invitation, "sso");
  });
}
