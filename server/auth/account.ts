/**
 * A person's own account: change the password (the current one required,
 * and throttled like a sign-in, so a borrowed session cannot guess it), list
 * the live sessions, sign out everywhere. A password change ends every
 * session of the person, the current one included.
 */
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { changePassword, type SessionUser } from "../users/users.ts";
import { expireOpenResets } from "../team/people.ts";
import { revokeUserSessions } from "./sessions.ts";
import { formatWait } from "./messages.ts";
import { claimSignInAttempt, recordSignInSuccess, type ThrottlePolicy } from "./throttle.ts";

export interface AccountDeps {
  db: Db;
  throttle: ThrottlePolicy;
}

export async function changeOwnPassword(
  deps: AccountDeps,
  who: { user: SessionUser; clientAddress: string | null },
  input: { currentPassword: string; newPassword: string },
): Promise<{ sessionsEnded: number }> {
  const attempt = { email: who.user.email, clientAddress: who.clientAddress };
  const claim = await claimSignInAttempt(deps.db, deps.throttle, attempt);
  if (!claim.ok) {
    throw new AppError("TOO_MANY_REQUESTS", `Too many wrong passwords. Wait ${formatWait(claim.retryAfterSeconds)} and try again.`, undefined, {
      retryAfterSeconds: claim.retryAfterSeconds,
    });
  }
  if (!(await changePassword(deps.db, who.user.id, input.currentPassword, input.newPassword))) {
    throw new AppError("BAD_REQUEST", "That is not your current password.", { currentPassword: ["That is not your current password."] });
  }
  await recordSignInSuccess(deps.db, attempt);
  // A reset link an admin made earlier must not outlive the person's own change.
  await expireOpenResets(deps.db, who.user.id, new Date());
  return { sessionsEnded: await revokeUserSessions(deps.db, who.user.id, "password_changed") };
}

/** Ends every session of the person, the current one included. */
export async function signOutEverywhere(db: Db, user: SessionUser): Promise<{ sessionsEnded: number }> {
  return { sessionsEnded: await revokeUserSessions(db, user.id, "signed_out_everywhere") };
}
