/**
 * Personal API keys against a real PostgreSQL: making (shown once, stored as
 * a hash, limited per person), listing, revoking one's own and (admins,
 * audited) anyone's; authenticating a bearer token: a working key, and each
 * refusal (unknown, revoked, expired, deactivated person); lastUsedAt written
 * at most once a minute; the tRPC procedures' owners and admins; and
 * `npm run key:add` run as a process against the test database.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root.ts";
import { authenticateApiKey, createApiKey, listAllApiKeys, listMyApiKeys, revokeApiKey, revokeMyApiKey, signingSecretFor, type ApiKeyDeps } from "@/server/apikeys/apikeys.ts";
import { hashApiKey } from "@/server/apikeys/secret.ts";
import { AppError } from "@/server/errors.ts";
import type { Services } from "@/server/services.ts";
import { deactivateUser, reactivateUser } from "@/server/team/people.ts";
import type { TeamDeps } from "@/server/team/deps.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

const SECRET = "integration-test-secret-0123456789abcdef";
const ROOT = path.resolve(import.meta.dirname, "../..");
let database: TestDatabase;
let admin: SessionUser;
let mia: SessionUser;
let noah: SessionUser;
let clock = new Date("2026-11-10T12:00:00Z");
const deps = (extra: Partial<ApiKeyDeps> = {}): ApiKeyDeps => ({ db: database.db, serverSecret: SECRET, maxActivePerPerson: 100, now: () => clock, ...extra });
const teamDeps = (): TeamDeps => ({ db: database.db, publicBaseUrl: "https://portal.example", mailer: null, invitationTtlHours: 72, passwordResetTtlHours: 24, now: () => clock });
const callerFor = (user: SessionUser | null) => createCaller({ services: { db: database.db, apiKeyDeps: deps() } as unknown as Services, user });
const later = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};
const refusalOf = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as AppError,
  );

beforeAll(async () => {
  database = await createTestDatabase();
  admin = await createUser(database.db, { email: "root@example.test", password: "root-password", role: "admin" });
  mia = await createUser(database.db, { email: "mia@example.test", password: "mia-password" });
  noah = await createUser(database.db, { email: "noah@example.test", password: "noah-password" });
});
afterAll(() => database?.drop());

describe("making a key", () => {
  it("shows the key and its signing secret once, keeps only a hash and the prefix, and is audited", async () => {
    const made = await createApiKey(deps(), mia, { name: "  Notebook  ", expiresInDays: 30 }, mia);
    expect(made.secret).toMatch(/^wvp_[0-9A-Za-z]{40}$/);
    expect(made.signingSecret).toBe(signingSecretFor(SECRET, made.key.id));
    expect(made.key).toMatchObject({ name: "Notebook", prefix: made.secret.slice(0, 12), status: "active", lastUsedAt: null, revokedAt: null });
    expect(made.key.expiresAt?.toISOString()).toBe("2026-12-10T12:00:00.000Z");

    const row = await database.db.apiKey.findUniqueOrThrow({ where: { id: made.key.id } });
    expect(row.secretHash).toBe(hashApiKey(SECRET, made.secret));
    // Nothing in the row is the secret or the signing secret.
    expect(JSON.stringify(row)).not.toContain(made.secret.slice(12));
    expect(JSON.stringify(row)).not.toContain(made.signingSecret.slice(5));

    const audit = await database.db.auditEvent.findFirstOrThrow({ where: { action: "api_key.created", targetId: made.key.id } });
    expect(audit).toMatchObject({ actorId: mia.id, targetType: "api_key", targetLabel: mia.email });
    expect(JSON.stringify(audit.after)).toContain(made.key.prefix);
    expect(JSON.stringify(audit)).not.toContain(made.secret.slice(12));

    expect((await listMyApiKeys(deps(), mia.id)).map((k) => k.id)).toContain(made.key.id);
    expect(await listMyApiKeys(deps(), noah.id)).toEqual([]);
  });

  it("refuses a bad name with a sentence, and more working keys than allowed; revoked and expired ones do not count", async () => {
    const deps3 = () => deps({ maxActivePerPerson: 3 });
    expect(await refusalOf(createApiKey(deps3(), noah, { name: " " }, noah))).toMatchObject({ name: "ZodError" });
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await createApiKey(deps3(), noah, { name: `Script ${i}`, ...(i === 0 && { expiresInDays: 1 }) }, noah));
    const refused = await refusalOf(createApiKey(deps3(), noah, { name: "One too many" }, noah));
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/You have 3 working keys.*Revoke one/) });
    await revokeMyApiKey(deps(), noah, made[1]!.key.id);
    await createApiKey(deps3(), noah, { name: "After a revocation" }, noah);
    expect(await refusalOf(createApiKey(deps3(), noah, { name: "Still too many" }, noah))).toMatchObject({ code: "CONFLICT" });
    later(86_400_000); // the first one expires
    await createApiKey(deps3(), noah, { name: "After an expiry" }, noah);
    // Two at once when one place is left: one is made, the other refused.
    await revokeMyApiKey(deps(), noah, made[2]!.key.id);
    const both = await Promise.allSettled([createApiKey(deps3(), noah, { name: "Race A" }, noah), createApiKey(deps3(), noah, { name: "Race B" }, noah)]);
    expect(both.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(await database.db.apiKey.count({ where: { userId: noah.id, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: clock } }] } })).toBe(3);
  });
});

describe("authenticating a bearer token", () => {
  it("a working key: the person and the key; lastUsedAt written on first use, then at most once a minute", async () => {
    const made = await createApiKey(deps(), mia, { name: "Agent" }, mia);
    const first = await authenticateApiKey(deps(), made.secret);
    expect(first).toEqual({ ok: true, user: { id: mia.id, email: mia.email, name: null, role: "member" }, key: { id: made.key.id, name: "Agent", prefix: made.key.prefix }, rate: null });
    const usedAt = clock;
    const lastUsed = async () => (await database.db.apiKey.findUniqueOrThrow({ where: { id: made.key.id } })).lastUsedAt;
    expect(await lastUsed()).toEqual(usedAt);
    later(30_000);
    expect((await authenticateApiKey(deps(), made.secret)).ok).toBe(true);
    expect(await lastUsed()).toEqual(usedAt); // not written again within the minute
    later(31_000);
    expect((await authenticateApiKey(deps(), made.secret)).ok).toBe(true);
    expect(await lastUsed()).toEqual(clock);
    expect((await listMyApiKeys(deps(), mia.id)).find((k) => k.id === made.key.id)?.lastUsedAt).toEqual(clock);
  });

  it("asked to, counts the request against the key's rate limit in the same statement; a refused key is not counted", async () => {
    const policy = { limit: 2, windowSeconds: 60 };
    const made = await createApiKey(deps(), mia, { name: "Counted" }, mia);
    const counter = async () => (await database.db.rateLimitCounter.findUnique({ where: { key: `api-key:${made.key.id}` } }))?.count;
    const verdicts = [];
    for (let i = 0; i < 3; i++) {
      const auth = await authenticateApiKey(deps(), made.secret, { rateLimit: policy });
      expect(auth.ok).toBe(true);
      verdicts.push(auth.ok ? auth.rate : undefined);
    }
    expect(verdicts.map((v) => [v?.allowed, v?.remaining])).toEqual([[true, 1], [true, 0], [false, 0]]);
    expect(verdicts[2]!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(verdicts[2]!.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(await counter()).toBe(3);
    // The next window starts the count again.
    later(60_000);
    const next = await authenticateApiKey(deps(), made.secret, { rateLimit: policy });
    expect(next.ok && next.rate).toMatchObject({ allowed: true, remaining: 1 });
    await revokeMyApiKey(deps(), mia, made.key.id);
    expect(await authenticateApiKey(deps(), made.secret, { rateLimit: policy })).toEqual({ ok: false, reason: "revoked" });
    expect(await counter()).toBe(1);
  });

  it("unknown: malformed, never made, or under another server secret", async () => {
    const made = await createApiKey(deps(), mia, { name: "Elsewhere" }, mia);
    for (const token of ["", "nonsense", `wvp_${"a".repeat(40)}`, `${made.secret}x`, made.secret.toLowerCase() === made.secret ? `${made.secret.slice(0, -1)}Z` : made.secret.toLowerCase()]) {
      expect(await authenticateApiKey(deps(), token), token).toEqual({ ok: false, reason: "unknown" });
    }
    expect(await authenticateApiKey(deps({ serverSecret: `${SECRET}-rotated` }), made.secret)).toEqual({ ok: false, reason: "unknown" });
  });

  it("revoked, expired, and a deactivated person's key stop working at once", async () => {
    const revoked = await createApiKey(deps(), mia, { name: "To revoke" }, mia);
    await revokeMyApiKey(deps(), mia, revoked.key.id);
    expect(await authenticateApiKey(deps(), revoked.secret)).toEqual({ ok: false, reason: "revoked" });

    const expiring = await createApiKey(deps(), mia, { name: "Short-lived", expiresInDays: 1 }, mia);
    later(86_400_000 - 1);
    expect((await authenticateApiKey(deps(), expiring.secret)).ok).toBe(true);
    later(1);
    expect(await authenticateApiKey(deps(), expiring.secret)).toEqual({ ok: false, reason: "expired" });

    const person = await createUser(database.db, { email: "leaver@example.test", password: "leaver-password" });
    const theirs = await createApiKey(deps(), person, { name: "Leaver's script" }, person);
    expect((await authenticateApiKey(deps(), theirs.secret)).ok).toBe(true);
    await deactivateUser(teamDeps(), admin, person.id);
    expect(await authenticateApiKey(deps(), theirs.secret)).toEqual({ ok: false, reason: "person_deactivated" });
    // A deactivated person gets no new key either.
    expect(await refusalOf(createApiKey(deps(), person, { name: "New" }, person))).toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/deactivated/) });
    await reactivateUser(teamDeps(), admin, person.id);
    expect((await authenticateApiKey(deps(), theirs.secret)).ok).toBe(true);
  });
});

describe("revoking", () => {
  it("one's own key only: another person's key is not found, and stays working", async () => {
    const mine = await createApiKey(deps(), mia, { name: "Mia's" }, mia);
    expect(await refusalOf(revokeMyApiKey(deps(), admin, mine.key.id))).toMatchObject({ code: "NOT_FOUND" });
    expect(await refusalOf(revokeMyApiKey(deps(), noah, "no-such-key"))).toMatchObject({ code: "NOT_FOUND" });
    expect((await authenticateApiKey(deps(), mine.secret)).ok).toBe(true);
    const revoked = await revokeMyApiKey(deps(), mia, mine.key.id);
    expect(revoked).toMatchObject({ status: "revoked", revokedByOwner: true, revokedAt: clock });
    // Again: nothing changes, no second audit row.
    await revokeMyApiKey(deps(), mia, mine.key.id);
    expect(await database.db.auditEvent.count({ where: { action: "api_key.revoked", targetId: mine.key.id } })).toBe(1);
  });

  it("an admin revokes anyone's key, audited with the admin as actor; the owner's list says an admin did", async () => {
    const theirs = await createApiKey(deps(), mia, { name: "Leaked one" }, mia);
    const listed = await listAllApiKeys(deps(), { userId: mia.id, workingOnly: true });
    expect(listed.keys.find((k) => k.id === theirs.key.id)).toMatchObject({ owner: { id: mia.id, email: mia.email, active: true }, status: "active" });
    expect(JSON.stringify(listed)).not.toContain(theirs.secret.slice(12));

    expect(await refusalOf(revokeApiKey(deps(), mia, theirs.key.id))).toMatchObject({ code: "FORBIDDEN" });
    await revokeApiKey(deps(), admin, theirs.key.id);
    expect(await authenticateApiKey(deps(), theirs.secret)).toEqual({ ok: false, reason: "revoked" });
    const audit = await database.db.auditEvent.findFirstOrThrow({ where: { action: "api_key.revoked", targetId: theirs.key.id } });
    expect(audit).toMatchObject({ actorId: admin.id, actorEmail: admin.email, targetType: "api_key", targetLabel: mia.email, after: { status: "revoked" } });
    expect(JSON.stringify(audit.before)).toContain(`Leaked one (${theirs.key.prefix}…)`);
    expect((await listMyApiKeys(deps(), mia.id)).find((k) => k.id === theirs.key.id)).toMatchObject({ status: "revoked", revokedByOwner: false });
    expect((await listAllApiKeys(deps(), { userId: mia.id, workingOnly: true })).keys.map((k) => k.id)).not.toContain(theirs.key.id);
    expect(await refusalOf(revokeApiKey(deps(), admin, "no-such-key"))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("the admins' list comes in keyset pages, newest first, without repeats", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listAllApiKeys(deps(), {}, { cursor, limit: 4 });
      seen.push(...page.keys.map((k) => k.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.length).toBe(await database.db.apiKey.count());
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe("the tRPC procedures", () => {
  it("a member makes, lists and revokes their own; nobody else's; the admins' procedures refuse members", async () => {
    const asNoah = callerFor(noah);
    const asMia = callerFor(mia);
    for (const k of await asNoah.apiKeys.mine()) if (k.status === "active") await asNoah.apiKeys.revoke({ id: k.id });
    const made = await asNoah.apiKeys.create({ name: "From the page", expiresInDays: 90 });
    expect(made.secret).toMatch(/^wvp_/);
    expect((await asNoah.apiKeys.mine()).map((k) => k.id)).toContain(made.key.id);
    expect((await asMia.apiKeys.mine()).map((k) => k.id)).not.toContain(made.key.id);
    await expect(asMia.apiKeys.revoke({ id: made.key.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(asNoah.apiKeys.create({ name: "x".repeat(61) })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(asNoah.admin.apiKeys({})).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(asNoah.admin.revokeApiKey({ id: made.key.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(callerFor(null).apiKeys.mine()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect((await callerFor(admin).admin.apiKeys({ userId: noah.id })).keys.map((k) => k.id)).toContain(made.key.id);
    expect(await callerFor(admin).admin.revokeApiKey({ id: made.key.id })).toMatchObject({ status: "revoked", revokedByOwner: false });
  });
});

describe("npm run key:add", () => {
  const run = (args: string[], extra: Record<string, string> = {}) =>
    promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/add-key.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: database.url, AUTH_SECRET: SECRET, API_KEYS_PER_PERSON: "10", ...extra },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it("makes a key for a person and prints it and its signing secret once; the key works", async () => {
    const person = await createUser(database.db, { email: "cli-user@example.test", password: "cli-password" });
    const { code, stdout, stderr } = await run(["CLI-User@Example.test", "Nightly batch", "--expires-in-days", "7"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const key = /key: +(wvp_\w+)/.exec(stdout)?.[1] ?? "";
    const signing = /signing secret: +(wvps_[\w-]+)/.exec(stdout)?.[1] ?? "";
    expect(stdout).toContain('Made the API key "Nightly batch" for cli-user@example.test');
    expect(stdout).toMatch(/shown once/);
    const auth = await authenticateApiKey({ db: database.db, serverSecret: SECRET, now: () => new Date() }, key);
    expect(auth).toMatchObject({ ok: true, user: { id: person.id }, key: { name: "Nightly batch" } });
    if (!auth.ok) throw new Error("unreachable");
    expect(signing).toBe(signingSecretFor(SECRET, auth.key.id));
    const row = await database.db.apiKey.findUniqueOrThrow({ where: { id: auth.key.id } });
    expect(row.expiresAt!.getTime() - row.createdAt.getTime()).toBe(7 * 86_400_000);
    // Audited as the command line's (no actor).
    expect(await database.db.auditEvent.findFirstOrThrow({ where: { action: "api_key.created", targetId: auth.key.id } })).toMatchObject({ actorId: null, targetLabel: person.email });
  });

  it("refuses unknown and deactivated people, and bad arguments, with a clear message and no key", async () => {
    const before = await database.db.apiKey.count();
    const person = await createUser(database.db, { email: "gone@example.test", password: "gone-password" });
    await deactivateUser(teamDeps(), admin, person.id);
    const [unknown, deactivated, usage, longName] = await Promise.all([
      run(["nobody@example.test"]),
      run(["gone@example.test", "Script"]),
      run([]),
      run(["mia@example.test", "x".repeat(61)]),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Nobody in the team has the email nobody@example\.test/);
    expect(unknown.stdout).not.toMatch(/wvp_/);
    expect(deactivated.code).toBe(1);
    expect(deactivated.stderr).toMatch(/gone@example\.test is deactivated/);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Usage: npm run key:add -- <email> \[name\]/);
    expect(longName.code).toBe(1);
    expect(longName.stderr).toMatch(/60 characters/);
    expect(await database.db.apiKey.count()).toBe(before);
  });
});
