/**
 * Rate limits shared by every web instance through PostgreSQL
 * (RateLimitCounter rows): at most `limit` requests per key in each fixed
 * window of `windowSeconds`. Each request is counted by one atomic upsert,
 * which locks the key's row until it is written, so concurrent requests on
 * several instances cannot all slip through between a read and a write. One
 * row per key (it is reset when a new window starts), so the table grows with
 * the people using the portal, not with their requests. Windows are taken
 * from the caller's clock, and a window never moves backwards: an instance
 * whose clock lags counts into the newer window another instance started.
 */
import { Prisma, type Db } from "../db/client.ts";

export interface RateLimitPolicy {
  /** Requests allowed per window. */
  limit: number;
  windowSeconds: number;
}

export interface RateLimitVerdict {
  allowed: boolean;
  /** Requests left in this window after this one. */
  remaining: number;
  /** When the window ends, in whole seconds from `now` (at least 1). */
  retryAfterSeconds: number;
}

/** The start of the fixed window `now` falls in. */
export function windowStartOf(now: Date, windowSeconds: number): Date {
  const ms = windowSeconds * 1000;
  return new Date(Math.floor(now.getTime() / ms) * ms);
}

/**
 * The upsert that counts one request: `rows` gives ("key", "windowStart", "count")
 * as VALUES or a SELECT. It answers the key's "count" and "windowStart" (RETURNING),
 * for `verdictOf`. `takeRateLimit` runs it alone; a caller may fold it into a
 * statement of its own (the API key check does) to save a round trip.
 */
export function countRequestSql(rows: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "RateLimitCounter" ("key", "windowStart", "count") ${rows}
    ON CONFLICT ("key") DO UPDATE SET
      "count" = CASE WHEN EXCLUDED."windowStart" > "RateLimitCounter"."windowStart" THEN 1 ELSE "RateLimitCounter"."count" + 1 END,
      "windowStart" = GREATEST(EXCLUDED."windowStart", "RateLimitCounter"."windowStart")
    RETURNING "count", "windowStart"`;
}

/** The verdict for what `countRequestSql` answered (nothing: counted as the window's first). */
export function verdictOf(row: { count: number; windowStart: Date } | undefined, policy: RateLimitPolicy, now: Date): RateLimitVerdict {
  const count = row?.count ?? 1;
  const windowEnd = (row?.windowStart ?? windowStartOf(now, policy.windowSeconds)).getTime() + policy.windowSeconds * 1000;
  return {
    allowed: count <= policy.limit,
    remaining: Math.max(0, policy.limit - count),
    retryAfterSeconds: Math.max(1, Math.ceil((windowEnd - now.getTime()) / 1000)),
  };
}

/** Counts one request for `key` and says whether it is within the policy. */
export async function takeRateLimit(db: Db, key: string, policy: RateLimitPolicy, now: Date = new Date()): Promise<RateLimitVerdict> {
  const start = windowStartOf(now, policy.windowSeconds);
  const [row] = await db.$queryRaw<Array<{ count: number; windowStart: Date }>>(countRequestSql(Prisma.sql`VALUES (${key}, ${start}, 1)`));
  return verdictOf(row, policy, now);
}
