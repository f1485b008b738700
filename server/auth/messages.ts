/**
 * What a refused sign-in says, for the sign-in page and its action: the same
 * words for an unknown email and a wrong password; for a throttled attempt,
 * the time to wait. The reason travels in Auth.js's error code
 * (`throttled_<seconds>`, `deactivated`, `sso_only`) or in the sign-in page's
 * URL after a refused single sign-on (`not_invited`, `unverified`, `deactivated`).
 */
export function throttledCode(retryAfterSeconds: number): string {
  return `throttled_${retryAfterSeconds}`;
}

/** The seconds to wait named by an error code, or null when the code is not a throttle's. */
export function retryAfterOf(code: unknown): number | null {
  const m = typeof code === "string" ? /^throttled_(\d{1,6})$/.exec(code) : null;
  return m ? Number(m[1]) : null;
}

/** The message for a refused sign-in, from its code (anything unknown reads as wrong credentials). */
export function signInRefusalMessage(code: unknown, ssoName = "single sign-on"): string {
  const wait = retryAfterOf(code);
  if (wait !== null) return `Too many failed sign-ins. Wait ${formatWait(wait)} and try again.`;
  if (code === "deactivated") return "This account is deactivated. Ask an admin of the portal to reactivate it.";
  if (code === "sso_only") return `Members sign in with ${ssoName}: use the button below.`;
  if (code === "not_invited" || code === "not_allowed") return `Your ${ssoName} account is not invited to this portal. Ask an admin for an invitation.`;
  if (code === "admin_password") return `Admins sign in with their password, not with ${ssoName}.`;
  if (code === "linked_elsewhere") return `This portal account is linked to another ${ssoName} account. Ask an admin.`;
  if (code === "admin_invitation_link") return `You are invited as an admin: open your invitation link and join with ${ssoName} from there.`;
  if (code === "unverified") return `${ssoName} did not confirm your email address, so the portal cannot tell who you are. Ask an admin for an invitation.`;
  return "Wrong email or password.";
}

export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}
