/**
 * Sign-in throttling, shared by every web instance through PostgreSQL
 * (SignInThrottle rows). Failures are counted per key, and past a few free
 * failures each further attempt must wait a delay that doubles with every
 * failure, up to a cap: a growing delay, never a lockout. The keys:
 * - one account from one client (`pair:`): the brute-force limit;
 * - one client across accounts (`address:`): password spraying;
 * - one account from anywhere (`account:`), with a much higher allowance:
 *   guessing spread over many addresses. A client that signed in to the
 *   account before (within 30 days) is not held by it, so nobody can keep an
 *   admin out by failing on purpose from elsewhere.
 * The email typed counts whether or not the account exists, so the answer
 * says nothing about accounts. A client is an IPv4 address or an IPv6 /64.
 * Without a client address (not served by the portal's web server) only the
 * account key applies, with the strict allowance.
 *
 * Every attempt is counted before the password is checked, in one conditional
 * statement per key, so concurrent attempts cannot all slip through between a
 * check and a count; a successful sign-in then takes its count back.
 */
import type { Db } from "../db/client.ts";
import { clientKeyOf } from "../http/client-address.ts";

export interface ThrottleRule {
  /** Failures allowed before delays start. */
  freeFailures: number;
  /** The longest delay between two attempts. */
  maxDelaySeconds: number;
}

export interface ThrottlePolicy {
  /** One account from one client. */
  account: ThrottleRule;
  /** One account from clients that never signed in to it. */
  accountWide: ThrottleRule;
  /** One client, whatever the account. */
  address: ThrottleRule;
  /** A key's failures are forgotten this long after its last one. */
  forgetAfterSeconds: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  account: { freeFailures: 5, maxDelaySeconds: 300 },
  accountWide: { freeFailures: 50, maxDelaySeconds: 300 },
  address: { freeFailures: 20, maxDelaySeconds: 900 },
  forgetAfterSeconds: 24 * 3600,
};

/** A client that signed in to an account this recently is "known" to it. */
export const KNOWN_CLIENT_DAYS = 30;

/** Seconds to wait after the `failures`-th failure before the next attempt: 0, then 1, 2, 4, … up to the cap. */
export function delaySeconds(rule: ThrottleRule, failures: number): number {
  if (failures <= rule.freeFailures) return 0;
  return Math.min(rule.maxDelaySeconds, 2 ** Math.min(30, failures - rule.freeFailures - 1));
}

const normalEmail = (email: string) => email.trim().toLowerCase().slice(0, 320);
export const accountKey = (email: string) => `account:${normalEmail(email)}`;
export const pairKey = (email: string, clientAddress: string) => `pair:${normalEmail(email)}|${clientKeyOf(clientAddress)}`;
export const addressKey = (clientAddress: string) => `address:${clientKeyOf(clientAddress)}`;

/** The keys an attempt counts against, each with its rule. */
export function throttleKeys(policy: ThrottlePolicy, who: { email: string; clientAddress: string | null }, knownClient: boolean): Array<[string, ThrottleRule]> {
  if (!who.clientAddress) return [[accountKey(who.email), policy.account]];
  const keys: Array<[string, ThrottleRule]> = [
    [pairKey(who.email, who.clientAddress), policy.account],
    [addressKey(who.clientAddress), policy.address],
  ];
  if (!knownClient) keys.push([accountKey(who.email), policy.accountWide]);
  return keys;
}

/** Whether this client signed in to this account within KNOWN_CLIENT_DAYS. */
async function isKnownClient(db: Db, who: { email: string; clientAddress: string | null }, now: Date): Promise<boolean> {
  if (!who.clientAddress) return false;
  const since = new Date(now.getTime() - KNOWN_CLIENT_DAYS * 86_400_000);
  const seen = await db.signInEvent.findFirst({
    where: { email: normalEmail(who.email), clientAddress: who.clientAddress, outcome: { in: ["succeeded", "succeeded_sso"] }, at: { gt: since } },
    select: { id: true },
  });
  return seen !== null;
}

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
  // Always in the same order (pair, address, account), so concurrent claims never deadlock.
  const keyed = throttleKeys(policy, who, await isKnownClient(db, who, now));
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
 * A successful sign-in: the account's failures are forgotten (from this
 * client and from anywhere); the client gets this attempt back on its own
 * count (its earlier failures still count until they are forgotten, so
 * signing in to one's own account does not reset a spray).
 */
export async function recordSignInSuccess(db: Db, who: { email: string; clientAddress: string | null }): Promise<void> {
  const keys = [accountKey(who.email), ...(who.clientAddress ? [pairKey(who.email, who.clientAddress)] : [])];
  await db.signInThrottle.deleteMany({ where: { key: { in: keys } } });
  if (who.clientAddress) {
    await db.$executeRaw`
      UPDATE "SignInThrottle" SET "failures" = GREATEST("failures" - 1, 0), "blockedUntil" = NULL
      WHERE "key" = ${addressKey(who.clientAddress)}`;
  }
}
