/**
 * Password sign-in as one domain function: throttle (server/auth/throttle.ts),
 * check the credentials with equal work for unknown emails, log the attempt,
 * remember the last sign-in. Auth.js's Credentials provider calls it
 * (server/auth/auth.ts); the tests call it directly.
 */
import type { Db } from "../db/client.ts";
import { storableText } from "../http/text.ts";
import { verifyCredentials, type SessionUser } from "../users/users.ts";
import { claimSignInAttempt, recordSignInSuccess, type ThrottlePolicy } from "./throttle.ts";

export type SignInResult =
  | { ok: true; user: SessionUser }
  | { ok: false; reason: "wrong_credentials" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

export interface SignInDeps {
  db: Db;
  throttle: ThrottlePolicy;
  now?: () => Date;
}

export async function signInWithPassword(
  deps: SignInDeps,
  attempt: { email: unknown; password: unknown; clientAddress: string | null },
): Promise<SignInResult> {
  const { db } = deps;
  const email = storableText(typeof attempt.email === "string" ? attempt.email.trim().toLowerCase().slice(0, 320) : "");
  const who = { email, clientAddress: attempt.clientAddress };
  const claim = await claimSignInAttempt(db, deps.throttle, who, deps.now?.() ?? new Date());
  // Refused before any check: not logged one by one, or an anonymous sender could grow the log at will.
  if (!claim.ok) return { ok: false, reason: "throttled", retryAfterSeconds: claim.retryAfterSeconds };

  const password = typeof attempt.password === "string" && !attempt.password.includes("\u0000") ? attempt.password : "";
  const user = await verifyCredentials(db, email, password);
  await db.signInEvent.create({
    data: { email, userId: user?.id ?? null, clientAddress: attempt.clientAddress, outcome: user ? "succeeded" : "wrong_credentials" },
  });
  if (!user) return { ok: false, reason: "wrong_credentials" };
  await recordSignInSuccess(db, who);
  await db.user.update({ where: { id: user.id }, data: { lastSignInAt: new Date() } });
  return { ok: true, user };
}
