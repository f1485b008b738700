/**
 * Personal API keys (docs/decisions/0019-personal-api-keys.md): a member makes,
 * lists and revokes their own; admins list and revoke anyone's; the command
 * line makes one for a person (`npm run key:add`). A key is shown once, with
 * its signing secret; the database keeps only its keyed hash and its prefix.
 * Making and revoking a key is audited in the change's own transaction.
 *
 * `authenticateApiKey` is what the `/v1` API stands on: it turns a bearer
 * token into the person and key, or a typed refusal.
 */
import { Prisma, transaction, type Db, type Role, type Tx } from "../db/client.ts";
import { countRequestSql, verdictOf, windowStartOf, type RateLimitPolicy, type RateLimitVerdict } from "../security/rate-limit.ts";
import { recordAudit, type Actor } from "../audit/audit.ts";
import { olderThan, pageOf } from "../db/keyset.ts";
import { AppError } from "../errors.ts";
import { emailSchema, type SessionUser } from "../users/users.ts";
import { apiKeyStatus, createApiKeyInput, type ApiKeyStatus, type CreateApiKeyInput } from "./schema.ts";
import { apiKeyPrefix, hashApiKey, isApiKeyShaped, newApiKeySecret, signingSecretFor } from "./secret.ts";

export { bearerTokenOf, signingSecretFor } from "./secret.ts";

export interface ApiKeyDeps {
  db: Db;
  /** AUTH_SECRET: keys the stored hashes and derives the signing secrets. */
  serverSecret: string;
  /** Keys a person may have working at once (API_KEYS_PER_PERSON). */
  maxActivePerPerson: number;
  now?: () => Date;
}

/** `lastUsedAt` is written at most this often per key, not on every call. */
export const LAST_USED_RESOLUTION_MS = 60_000;

const nowOf = (deps: Pick<ApiKeyDeps, "now">): Date => deps.now?.() ?? new Date();

/** A key as lists show it: never the secret. */
export interface ApiKeyView {
  id: string;
  name: string;
  /** e.g. "wvp_Ab3dE6gH": the key starts with it. */
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  /** Whether the owner revoked it themselves (false: an admin did); null while not revoked. */
  revokedByOwner: boolean | null;
  status: ApiKeyStatus;
}

/** What a new key's maker sees once: the key and its signing secret. Neither can be shown again. */
export interface NewApiKey {
  key: ApiKeyView;
  /** The whole key, for `Authorization: Bearer <secret>`. */
  secret: string;
  /** The key's webhook signing secret (`signingSecretFor`). */
  signingSecret: string;
}

const KEY_FIELDS = { id: true, userId: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, expiresAt: true, revokedAt: true, revokedById: true } as const;
type KeyRow = { id: string; userId: string; name: string; prefix: string; createdAt: Date; lastUsedAt: Date | null; expiresAt: Date | null; revokedAt: Date | null; revokedById: string | null };

function viewOf(row: KeyRow, now: Date): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    revokedByOwner: row.revokedAt ? row.revokedById === row.userId : null,
    status: apiKeyStatus(row, now),
  };
}

/** The audit row's words for a key: its name and prefix. */
const keyLabel = (row: Pick<KeyRow, "name" | "prefix">) => `${row.name} (${row.prefix}…)`;

/** The condition "works now" (the person's own status aside). */
const workingAt = (now: Date) => ({ revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] });

/**
 * Makes a key for `owner` and returns it once, with its signing secret.
 * Refused when the person is not active, or already has as many working keys
 * as allowed (checked under a lock of the person's row, so two requests at
 * once cannot both pass). `actor` is who made it, for the audit log: the
 * owner, or nobody (the command line).
 */
export async function createApiKey(deps: ApiKeyDeps, owner: Pick<SessionUser, "id">, input: CreateApiKeyInput, actor: Actor): Promise<NewApiKey> {
  const { name, expiresInDays } = createApiKeyInput.parse(input);
  const now = nowOf(deps);
  const secret = newApiKeySecret();
  const expiresAt = expiresInDays === undefined ? null : new Date(now.getTime() + expiresInDays * 86_400_000);
  const row = await transaction(deps.db, async (tx) => {
    const person = await lockPerson(tx, owner.id);
    if (!person) throw new AppError("NOT_FOUND", "No such person in the team.");
    if (person.status !== "active") throw new AppError("CONFLICT", `${person.email} is deactivated: their keys would not work. Reactivate the account first.`);
    const working = await tx.apiKey.count({ where: { userId: owner.id, ...workingAt(now) } });
    if (working >= deps.maxActivePerPerson) {
      throw new AppError(
        "CONFLICT",
        `${actor.id === owner.id ? "You have" : `${person.email} has`} ${working} working keys, the most one person may have. Revoke one that is no longer used first.`,
      );
    }
    const created = await tx.apiKey.create({
      data: { userId: owner.id, name, prefix: apiKeyPrefix(secret), secretHash: hashApiKey(deps.serverSecret, secret), createdAt: now, expiresAt },
      select: KEY_FIELDS,
    });
    await recordAudit(tx, actor, {
      action: "api_key.created",
      targetType: "api_key",
      targetId: created.id,
      targetLabel: person.email,
      after: { key: keyLabel(created), expires: expiresAt ? expiresAt.toISOString() : "never" },
    });
    return created;
  });
  return { key: viewOf(row, now), secret, signingSecret: signingSecretFor(deps.serverSecret, row.id) };
}

/** Locks the person's row until the end of the transaction; null when there is no such person. */
async function lockPerson(tx: Tx, userId: string): Promise<{ email: string; status: string } | null> {
  const rows = await tx.$queryRaw<Array<{ email: string; status: string }>>`SELECT email, status::text AS status FROM "User" WHERE id = ${userId} FOR UPDATE`;
  return rows[0] ?? null;
}

/**
 * `npm run key:add`: a key for the person with this email, made by the
 * command line (audited with no actor). Refuses unknown and deactivated people.
 */
export async function createApiKeyForEmail(deps: ApiKeyDeps, email: string, input: CreateApiKeyInput): Promise<NewApiKey & { owner: { id: string; email: string } }> {
  const parsed = emailSchema.safeParse(email);
  if (!parsed.success) throw new AppError("BAD_REQUEST", `"${email}" is not an email address.`);
  const user = await deps.db.user.findUnique({ where: { email: parsed.data }, select: { id: true, email: true, status: true } });
  if (!user) throw new AppError("NOT_FOUND", `Nobody in the team has the email ${parsed.data}. Create the account first (npm run user:add).`);
  if (user.status !== "active") throw new AppError("CONFLICT", `${user.email} is deactivated; an admin must reactivate the account before it can have keys.`);
  const made = await createApiKey(deps, user, input, { id: null, email: null });
  return { ...made, owner: { id: user.id, email: user.email } };
}

/** The most keys one's own list shows (newest first): working ones are capped far below it. */
const OWN_LIST_LIMIT = 200;

/** One's own keys, newest first, revoked and expired ones included. */
export async function listMyApiKeys(deps: Pick<ApiKeyDeps, "db" | "now">, userId: string): Promise<ApiKeyView[]> {
  const now = nowOf(deps);
  const rows = await deps.db.apiKey.findMany({ where: { userId }, select: KEY_FIELDS, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: OWN_LIST_LIMIT });
  return rows.map((r) => viewOf(r, now));
}

const NOT_YOURS = "No such key among yours (it may have been deleted with its account).";

/** Revokes one of one's own keys; another person's key is "not found". Revoking a revoked key changes nothing. */
export async function revokeMyApiKey(deps: Pick<ApiKeyDeps, "db" | "now">, user: Pick<SessionUser, "id" | "email">, keyId: string): Promise<ApiKeyView> {
  return revoke(deps, { id: user.id, email: user.email }, keyId, (row) => row.userId === user.id, NOT_YOURS);
}

/** An admin revokes anyone's key (audited with the admin as actor). */
export async function revokeApiKey(deps: Pick<ApiKeyDeps, "db" | "now">, admin: Pick<SessionUser, "id" | "email" | "role">, keyId: string): Promise<ApiKeyView> {
  if (admin.role !== "admin") throw new AppError("FORBIDDEN", "Only admins can revoke other people's keys.");
  return revoke(deps, { id: admin.id, email: admin.email }, keyId, () => true, "No such key.");
}

async function revoke(deps: Pick<ApiKeyDeps, "db" | "now">, actor: Actor, keyId: string, mayRevoke: (row: KeyRow) => boolean, notFound: string): Promise<ApiKeyView> {
  const now = nowOf(deps);
  const row = await transaction(deps.db, async (tx) => {
    const key = await tx.apiKey.findUnique({ where: { id: keyId }, select: { ...KEY_FIELDS, user: { select: { email: true } } } });
    if (!key || !mayRevoke(key)) throw new AppError("NOT_FOUND", notFound);
    // Conditional: of two revocations at once, one changes the row and writes the audit row.
    const { count } = await tx.apiKey.updateMany({ where: { id: keyId, revokedAt: null }, data: { revokedAt: now, revokedById: actor.id } });
    if (count === 0) return tx.apiKey.findUniqueOrThrow({ where: { id: keyId }, select: KEY_FIELDS });
    await recordAudit(tx, actor, {
      action: "api_key.revoked",
      targetType: "api_key",
      targetId: key.id,
      targetLabel: key.user.email,
      before: { key: keyLabel(key), status: apiKeyStatus(key, now) },
      after: { status: "revoked" },
    });
    return { ...key, revokedAt: now, revokedById: actor.id };
  });
  return viewOf(row, now);
}

export interface ApiKeyWithOwner extends ApiKeyView {
  owner: { id: string; email: string; name: string | null; active: boolean };
}

/** Every key of the team (admins), newest first, in keyset pages; `workingOnly` leaves out revoked and expired ones. */
export async function listAllApiKeys(
  deps: Pick<ApiKeyDeps, "db" | "now">,
  filters: { userId?: string; workingOnly?: boolean },
  page: { cursor?: string; limit?: number } = {},
): Promise<{ keys: ApiKeyWithOwner[]; nextCursor: string | null }> {
  const now = nowOf(deps);
  const limit = Math.min(Math.max(page.limit ?? 50, 1), 200);
  const rows = await deps.db.apiKey.findMany({
    where: { AND: [{ ...(filters.userId && { userId: filters.userId }), ...(filters.workingOnly && workingAt(now)) }, olderThan("createdAt", page.cursor)] },
    select: { ...KEY_FIELDS, user: { select: { id: true, email: true, name: true, status: true } } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
  });
  const { items, nextCursor } = pageOf(rows, limit, (r) => r.createdAt);
  return {
    keys: items.map((r) => ({ ...viewOf(r, now), owner: { id: r.user.id, email: r.user.email, name: r.user.name, active: r.user.status === "active" } })),
    nextCursor,
  };
}

/** Why a bearer token opens nothing. */
export type ApiKeyRefusal =
  /** Not a key of ours (malformed, never made, or its account deleted). */
  | "unknown"
  | "revoked"
  | "expired"
  /** The key is fine but its person is deactivated: it stops working at once, and works again if they are reactivated. */
  | "person_deactivated";

/** A key's requests are counted under `api-key:<id>` in RateLimitCounter. */
const API_KEY_RATE_LIMIT_PREFIX = "api-key:";

/** `Rate`: the rate limit's verdict when the check was asked to count the request (`opts.rateLimit`), else null. */
export type ApiKeyAuthentication<Rate extends RateLimitVerdict | null = null> =
  | { ok: true; user: SessionUser; key: { id: string; name: string; prefix: string }; rate: Rate }
  | { ok: false; reason: ApiKeyRefusal };

/**
 * Who is calling with `bearerToken` (the token alone, without "Bearer "; see
 * `bearerTokenOf`).
 *
 * Contract:
 * - `{ ok: true, user, key }` when the token is a key that is not revoked,
 *   not expired (`expiresAt` strictly later than now) and whose person is
 *   active. `user` is the person as the database has it now (id, email, name,
 *   role); `key` is the key's id (for `signingSecretFor` and per-key limits),
 *   name and prefix.
 * - `{ ok: false, reason }` otherwise, checked in this order: `unknown`
 *   (malformed tokens are refused without a query), `revoked`, `expired`,
 *   `person_deactivated`. Refusals are values, never thrown; the caller
 *   answers every one with the same 401 to the client (the reason is for its
 *   log and, at most, the message), so a token's existence is not confirmed.
 * - One statement per call: the key with its person, and, with
 *   `opts.rateLimit`, this request counted against the key's limit
 *   (`rate`: the verdict; null when not asked; a refused key is not
 *   counted). `lastUsedAt` is
 *   written only when it is older than a minute (`LAST_USED_RESOLUTION_MS`),
 *   with a conditional update, so a busy key costs at most one write a
 *   minute across all web instances.
 * - Database errors are thrown (the caller answers 5xx, not 401).
 */
export function authenticateApiKey(deps: Pick<ApiKeyDeps, "db" | "serverSecret" | "now">, bearerToken: string): Promise<ApiKeyAuthentication>;
export function authenticateApiKey(
  deps: Pick<ApiKeyDeps, "db" | "serverSecret" | "now">,
  bearerToken: string,
  opts: { rateLimit: RateLimitPolicy },
): Promise<ApiKeyAuthentication<RateLimitVerdict>>;
export async function authenticateApiKey(
  deps: Pick<ApiKeyDeps, "db" | "serverSecret" | "now">,
  bearerToken: string,
  opts: { rateLimit?: RateLimitPolicy } = {},
): Promise<ApiKeyAuthentication<RateLimitVerdict | null>> {
  if (!isApiKeyShaped(bearerToken)) return { ok: false, reason: "unknown" };
  const now = nowOf(deps);
  // The key and its person in one statement (Prisma's nested select would make it two), and,
  // when asked, the request counted against the key's rate limit in the same statement.
  const rate = opts.rateLimit;
  const counted = rate
    ? countRequestSql(Prisma.sql`
        SELECT ${API_KEY_RATE_LIMIT_PREFIX} || "id", ${windowStartOf(now, rate.windowSeconds)}::timestamp(3), 1 FROM k
        WHERE "revokedAt" IS NULL AND ("expiresAt" IS NULL OR "expiresAt" > ${now}::timestamp(3)) AND "status" = 'active'`)
    : Prisma.sql`SELECT NULL::int AS "count", NULL::timestamp(3) AS "windowStart" WHERE false`;
  const [key] = await deps.db.$queryRaw<
    Array<{
      id: string;
      name: string;
      prefix: string;
      lastUsedAt: Date | null;
      expiresAt: Date | null;
      revokedAt: Date | null;
      userId: string;
      email: string;
      userName: string | null;
      role: string;
      status: string;
      rateCount: number | null;
      rateWindowStart: Date | null;
    }>
  >`WITH k AS (
      SELECT k."id", k."name", k."prefix", k."lastUsedAt", k."expiresAt", k."revokedAt",
             u."id" AS "userId", u."email", u."name" AS "userName", u."role"::text AS "role", u."status"::text AS "status"
      FROM "ApiKey" k JOIN "User" u ON u."id" = k."userId"
      WHERE k."secretHash" = ${hashApiKey(deps.serverSecret, bearerToken)}
    ), counted AS (${counted})
    SELECT k.*, (SELECT "count" FROM counted) AS "rateCount", (SELECT "windowStart" FROM counted) AS "rateWindowStart" FROM k`;
  if (!key) return { ok: false, reason: "unknown" };
  if (key.revokedAt) return { ok: false, reason: "revoked" };
  if (key.expiresAt && key.expiresAt <= now) return { ok: false, reason: "expired" };
  if (key.status !== "active") return { ok: false, reason: "person_deactivated" };
  const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
  if (!key.lastUsedAt || key.lastUsedAt < staleBefore) {
    await deps.db.apiKey.updateMany({ where: { id: key.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: staleBefore } }] }, data: { lastUsedAt: now } });
  }
  const user: SessionUser = { id: key.userId, email: key.email, name: key.userName, role: key.role as Role };
  const verdict = rate ? verdictOf(key.rateCount === null || key.rateWindowStart === null ? undefined : { count: key.rateCount, windowStart: key.rateWindowStart }, rate, now) : null;
  return { ok: true, user, key: { id: key.id, name: key.name, prefix: key.prefix }, rate: verdict };
}
