/**
 * Single sign-on through an OpenID Connect provider (Auth.js's OIDC
 * provider, configured by OIDC_* settings). The identity provider says who
 * someone is; the portal decides whether they may enter, and as whom:
 *
 * 1. An identity already linked to an account signs in as that account, if it
 *    is active (whatever email the provider now sends).
 * 2. Otherwise the email must be verified (or the provider trusted for
 *    emails), and in Google Workspace's domain when one is set. Then:
 *    - an existing member account with that email is linked to the identity,
 *      unless it is deactivated or already linked to another identity; an
 *      admin account is never linked by email (admins keep their password as
 *      the way in, independent of the provider);
 *    - an invitation to be a member admits the email; an invitation to be an
 *      admin only through its own link (the invitation page sets a short-lived
 *      cookie with the link's token), so the provider alone cannot make admins;
 *    - a verified email in an allowed domain joins as a member.
 * Roles of existing accounts are never changed by signing in.
 */
import type { Config } from "../config.ts";
import { transaction, type Db, type Invitation } from "../db/client.ts";
import { recordAudit } from "../audit/audit.ts";
import { closeOtherInvitations, recordInvitationAccepted } from "../team/invitations.ts";
import { hashLinkToken, isLinkTokenShaped } from "../team/links.ts";
import { emailSchema } from "../users/users.ts";

/** Set by the invitation page's "join with single sign-on" for ten minutes: the link's token, so the sign-in can take that invitation. */
export const INVITATION_COOKIE = "portal-invitation";

export type SsoRefusal = "unverified" | "deactivated" | "not_invited" | "admin_password" | "linked_elsewhere" | "admin_invitation_link";

export type SsoDecision = { ok: true; via: "account" | "link" | "invitation" | "domain" } | { ok: false; reason: SsoRefusal };

export interface SsoClaims {
  /** The identity's id at the provider (`sub`). */
  providerAccountId: string;
  email?: unknown;
  emailVerified?: unknown;
  /** Google Workspace's hosted domain claim. */
  hd?: unknown;
}

/** The invitation a pending single sign-on carries (from the invitation page's cookie), if it is still open. */
async function invitationOfToken(db: Db, token: string | null | undefined, now: Date): Promise<Invitation | null> {
  if (!token || !isLinkTokenShaped(token)) return null;
  return db.invitation.findFirst({ where: { tokenHash: hashLinkToken(token), acceptedAt: null, revokedAt: null, expiresAt: { gt: now } } });
}

export async function decideSsoSignIn(
  db: Db,
  sso: NonNullable<Config["sso"]>,
  claims: SsoClaims,
  opts: { invitationToken?: string | null; now?: Date } = {},
): Promise<SsoDecision> {
  const now = opts.now ?? new Date();
  const linked = await db.account.findUnique({
    where: { provider_providerAccountId: { provider: "oidc", providerAccountId: claims.providerAccountId } },
    select: { user: { select: { status: true } } },
  });
  if (linked) return linked.user.status === "active" ? { ok: true, via: "account" } : { ok: false, reason: "deactivated" };

  const parsed = emailSchema.safeParse(claims.email);
  const verified = claims.emailVerified === true || (sso.trustEmails && claims.emailVerified !== false);
  if (!parsed.success || !verified) return { ok: false, reason: "unverified" };
  const email = parsed.data;
  const domain = email.split("@")[1] ?? "";
  if (sso.hostedDomain && (typeof claims.hd !== "string" || claims.hd.toLowerCase() !== sso.hostedDomain)) return { ok: false, reason: "not_invited" };

  const user = await db.user.findUnique({ where: { email }, select: { status: true, role: true, accounts: { where: { provider: "oidc" }, select: { providerAccountId: true } } } });
  if (user) {
    if (user.status !== "active") return { ok: false, reason: "deactivated" };
    if (user.role === "admin") return { ok: false, reason: "admin_password" };
    if (user.accounts.length > 0) return { ok: false, reason: "linked_elsewhere" };
    return { ok: true, via: "link" };
  }
  const carried = await invitationOfToken(db, opts.invitationToken, now);
  if (carried && carried.email === email) return { ok: true, via: "invitation" };
  const invited = await db.invitation.findFirst({ where: { email, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } }, select: { role: true } });
  if (invited?.role === "member") return { ok: true, via: "invitation" };
  if (invited?.role === "admin") return { ok: false, reason: "admin_invitation_link" };
  return sso.allowedDomains.includes(domain) ? { ok: true, via: "domain" } : { ok: false, reason: "not_invited" };
}

/**
 * The first sign-in of a new person (Auth.js has just made the account): the
 * invitation they came with (the carried link's, or their member invitation)
 * gives its role and is used up; any other open invitation for the email is
 * closed; the new account is audited. Never called for existing accounts.
 */
export async function completeSsoSignUp(db: Db, user: { id: string; email: string }, opts: { invitationToken?: string | null; now?: Date } = {}): Promise<void> {
  const now = opts.now ?? new Date();
  const carried = await invitationOfToken(db, opts.invitationToken, now);
  await transaction(db, async (tx) => {
    const invitation =
      carried && carried.email === user.email
        ? carried
        : await tx.invitation.findFirst({ where: { email: user.email, role: "member", acceptedAt: null, revokedAt: null, expiresAt: { gt: now } }, orderBy: { createdAt: "desc" } });
    if (invitation) {
      const { count } = await tx.invitation.updateMany({ where: { id: invitation.id, acceptedAt: null, revokedAt: null }, data: { acceptedAt: now, acceptedUserId: user.id } });
      if (count === 1) {
        await tx.user.update({ where: { id: user.id }, data: { role: invitation.role } });
        await closeOtherInvitations(tx, user.email, invitation.id, now);
        await recordInvitationAccepted(tx, user, invitation, "sso");
        return;
      }
    }
    await closeOtherInvitations(tx, user.email, null, now);
    await recordAudit(tx, { id: user.id, email: user.email }, { action: "user.created", targetType: "user", targetId: user.id, targetLabel: user.email, after: { role: "member", method: "sso" } });
  });
}
