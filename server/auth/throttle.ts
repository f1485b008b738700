/**
 * Sign-in throttling, shared by every web instance through PostgreSQL
 * (SignInThrottle rows). Failures are counted per account (the email typed,
 * whether or not it exists, so the answer says nothing about accounts) and
 * per client address. Past a few free failures, each further attempt must
 * wait a delay that doubles with every failure, up to a cap: a growing delay,
 * never a lockout, so nobody can lock an admin out for good by typing wrong
 * passwords on purpose. Failures are forgotten a day after the last one.
 *
 * Every attempt is counted before the password is checked, in one conditional
 * statement per key, so concurrent attempts cannot all slip through between a
 * check and a count; a successful sign-in then takes its count back.
 */
import type { Db } from "../db/client.ts";

export interface ThrottleRule {
  /** Failures allowed before delays start. */
  freeFailures: number;
  /** The longest delay between two attempts. */
  maxDelaySeconds: number;
}

export interface ThrottlePolicy {
  account: ThrottleRule;
  address: ThrottleRule;
  /** A key's failures are forgotten this long after its last one. */
  forgetAfterSeconds: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  account: { freeFailures: 5, maxDelaySeconds: 300 },
  address: { freeFailures: 20, maxDelaySeconds: 900 },
  forgetAfterSeconds: 24 * 3600,
};

/** Seconds to wait after the `failures`-th failure before the next attempt: 0, then 1, 2, 4, … up to the cap. */
export function delaySeconds(rule: ThrottleRule, failures: number): number {
  if (failures <= rule.freeFailures) return 0;
  return Math.min(rule.maxDelaySeconds, 2 ** Math.min(30, failures - rule.freeFailures - 1));
}

export const accountKey = (email: string) => `account:${email.trim().toLowerCase().slice(0, 320)}`;
export const addressKey = (address: string) => `address:${address.slice(0, 64)}`;

export type AttemptClaim = { ok: true; keys: string[] } | { ok: false; retryAfterSeconds: number };

class Blocked {
  constructor(readonly until: Date) {}
}

/**
 * Counts an attempt against each key, or refuses it (with the time to wait)
 * when any key is waiting out a delay. All or nothing: a refused attempt
 * counts against no key.
 */
export async function claimSignInAttempt(
  db: Db,
  policy: ThrottlePolicy,
  who: { email: string; clientAddress: string | null },
  now = new Date(),
): Promise<AttemptClaim> {
  const keyed: Array<[string, ThrottleRule]> = [[accountKey(who.email), policy.account]];
  if (who.clientAddress) keyed.push([addressKey(who.clientAddress), policy.address]);
  const forgetBefore = new Date(now.getTime() - policy.forgetAfterSeconds * 1000);
  try {
    await db.$transaction(async (tx) => {
      for (const [key, rule] of keyed) {
        // Counts the attempt unless the key is waiting out a delay (then no row comes back).
        const [row] = await tx.$queryRaw<Array<{ failures: number }>>`
          INSERT INTO "SignInThrottle" AS t ("key", "failures", "lastFailureAt") VALUES (${key}, 1, ${now})
          ON CONFLICT ("key") DO UPDATE SET
            "failures" = CASE WHEN t."lastFailureAt" < ${forgetBefore} THEN 1 ELSE t."failures" + 1 END,
            "lastFailureAt" = ${now}
          WHERE t."blockedUntil" IS NULL OR t."blockedUntil" <= ${now}
          RETURNING "failures"`;
        if (!row) {
          const blocked = await tx.signInThrottle.findUnique({ where: { key }, select: { blockedUntil: true } });
          throw new Blocked(blocked?.blockedUntil ?? now);
        }
        const wait = delaySeconds(rule, row.failures);
        await tx.signInThrottle.update({ where: { key }, data: { blockedUntil: wait > 0 ? new Date(now.getTime() + wait * 1000) : null } });
      }
    });
  } catch (err) {
    if (!(err instanceof Blocked)) throw err;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((err.until.getTime() - now.getTime()) / 1000)) };
  }
  return { ok: true, keys: keyed.map(([key]) => key) };
}

/**
 * A successful sign-in: the account's failures are forgotten; the address
 * gets this attempt back (its earlier failures still count until they are
 * forgotten, so signing in to one's own account does not reset a spray).
 */
export async function recordSignInSuccess(db: Db, who: { email: string; clientAddress: string | null }): Promise<void> {
  await db.signInThrottle.deleteMany({ where: { key: accountKey(who.email) } });
  if (who.clientAddress) {
    await db.$executeRaw`
      UPDATE "SignInThrottle" SET "failures" = GREATEST("failures" - 1, 0), "blockedUntil" = NULL
      WHERE "key" = ${addressKey(who.clientAddress)}`;
  }
}
