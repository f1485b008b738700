/**
 * Password sign-in as one domain function: throttle (server/auth/throttle.ts),
 * check the credentials with equal work for unknown emails, refuse a
 * deactivated account and (with single sign-on on) members who must use it,
 * log the attempt, remember the last sign-in. Auth.js's Credentials provider
 * calls it (server/auth/auth.ts); the tests call it directly.
 *
 * Successful sign-ins are all logged (SignInEvent). Refused ones are counted
 * per hour and only the first few of each hour are logged in detail, so
 * anonymous senders cannot grow the log at will. No password is ever logged.
 */
import type { Db } from "../db/client.ts";
import { storableText } from "../http/text.ts";
import { verifyCredentials, type SessionUser } from "../users/users.ts";
import { claimSignInAttempt, recordSignInSuccess, type ThrottlePolicy } from "./throttle.ts";

export type SignInRefusal = "wrong_credentials" | "deactivated" | "sso_only";

export type SignInResult =
  | { ok: true; user: SessionUser }
  | { ok: false; reason: SignInRefusal }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

export interface SignInDeps {
  db: Db;
  throttle: ThrottlePolicy;
  /** "admins": password sign-in is for admins only (members use single sign-on). */
  passwordSignIn?: "everyone" | "admins";
  now?: () => Date;
}

/** Refused sign-ins kept in detail per hour; the rest are only counted. */
export const REFUSED_SIGNIN_DETAIL_PER_HOUR = 50;

/** Counts a refused sign-in (password or single sign-on); logs it in detail while this hour's quota lasts. */
export async function recordRefusedSignIn(db: Db, event: { email: string; userId: string | null; clientAddress: string | null; outcome: string }, now: Date): Promise<void> {
  const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  const [row] = await db.$queryRaw<Array<{ count: number }>>`
    INSERT INTO "SignInRefusalCount" ("hour", "count") VALUES (${hour}, 1)
    ON CONFLICT ("hour") DO UPDATE SET "count" = "SignInRefusalCount"."count" + 1
    RETURNING "count"`;
  if ((row?.count ?? 0) <= REFUSED_SIGNIN_DETAIL_PER_HOUR) await db.signInEvent.create({ data: { ...event, at: now } });
}

export async function signInWithPassword(
  deps: SignInDeps,
  attempt: { email: unknown; password: unknown; clientAddress: string | null },
): Promise<SignInResult> {
  const { db } = deps;
  const now = deps.now?.() ?? new Date();
  const email = storableText(typeof attempt.email === "string" ? attempt.email.trim().toLowerCase().slice(0, 320) : "");
  const who = { email, clientAddress: attempt.clientAddress };
  const refuse = async (reason: SignInRefusal | "throttled", userId: string | null = null) =>
    recordRefusedSignIn(db, { email, userId, clientAddress: attempt.clientAddress, outcome: reason }, now);

  const claim = await claimSignInAttempt(db, deps.throttle, who, now);
  if (!claim.ok) {
    await refuse("throttled");
    return { ok: false, reason: "throttled", retryAfterSeconds: claim.retryAfterSeconds };
  }

  const password = typeof attempt.password === "string" && !attempt.password.includes("\u0000") ? attempt.password : "";
  const user = await verifyCredentials(db, email, password);
  if (!user) {
    await refuse("wrong_credentials");
    return { ok: false, reason: "wrong_credentials" };
  }
  // Told only to someone who knew the password.
  const refusal: SignInRefusal | null = user.status !== "active" ? "deactivated" : deps.passwordSignIn === "admins" && user.role !== "admin" ? "sso_only" : null;
  await recordSignInSuccess(db, who); // the password was right: no guessing to slow down
  if (refusal) {
    await refuse(refusal, user.id);
    return { ok: false, reason: refusal };
  }
  await db.signInEvent.create({ data: { email, userId: user.id, clientAddress: attempt.clientAddress, outcome: "succeeded", at: now } });
  await db.user.update({ where: { id: user.id }, data: { lastSignInAt: now } });
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, role: user.role } };
}

/** Records a sign-in through single sign-on (the identity provider checked who it is). */
export async function recordSsoSignIn(db: Db, user: { id: string; email: string }, clientAddress: string | null, now = new Date()): Promise<void> {
  await db.signInEvent.create({ data: { email: user.email, userId: user.id, clientAddress, outcome: "succeeded_sso", at: now } });
  await db.user.update({ where: { id: user.id }, data: { lastSignInAt: now } });
}
