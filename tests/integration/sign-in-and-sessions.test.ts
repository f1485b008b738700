/**
 * Sign-in throttling, equal work for unknown emails, revocable sessions and
 * the account's own password change, against a real PostgreSQL (the
 * throttle and the sessions live there so every web instance shares them).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root.ts";
import { changeOwnPassword, signOutEverywhere } from "@/server/auth/account.ts";
import { encode } from "@auth/core/jwt";
import { sessionOfRequest } from "@/server/auth/request-session.ts";
import { checkSession, listLiveSessions, revokeSession, SESSION_MAX_AGE_SECONDS, startSession } from "@/server/auth/sessions.ts";
import { REFUSED_SIGNIN_DETAIL_PER_HOUR, signInWithPassword, type SignInDeps } from "@/server/auth/sign-in.ts";
import { accountKey, DEFAULT_THROTTLE, pairKey, type ThrottlePolicy } from "@/server/auth/throttle.ts";
import { AppError } from "@/server/errors.ts";
import { verifyPassword } from "@/server/users/passwords.ts";
import { createUser, verifyCredentials, type SessionUser } from "@/server/users/users.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let database: TestDatabase;
let alice: SessionUser;
let clock: Date;
const policy: ThrottlePolicy = DEFAULT_THROTTLE;
const deps = (): SignInDeps => ({ db: database.db, throttle: policy, now: () => clock });
const attempt = (email: string, password: string, clientAddress: string | null = "198.51.100.7") =>
  signInWithPassword(deps(), { email, password, clientAddress });

beforeAll(async () => {
  database = await createTestDatabase();
  alice = await createUser(database.db, { email: "alice@example.test", password: "alice-password" });
});
afterAll(() => database?.drop());

describe("sign-in throttling", () => {
  it("30 wrong passwords in a row, then the right one: refused with the time to wait, until the wait is over", async () => {
    clock = new Date("2026-11-26T10:00:00Z");
    const results = [];
    for (let i = 0; i < 30; i++) {
      results.push(await attempt("alice@example.test", `wrong-${i}`));
      clock = new Date(clock.getTime() + 500); // faster than the delays allow
    }
    const wrong = results.filter((r) => !r.ok && r.reason === "wrong_credentials").length;
    const throttled = results.filter((r) => !r.ok && r.reason === "throttled");
    // The free failures, and the first that starts the delays; then each waits its turn.
    expect(wrong).toBeLessThan(10);
    expect(throttled.length).toBeGreaterThan(20);

    const right = await attempt("alice@example.test", "alice-password");
    expect(right.ok).toBe(false);
    expect(right).toMatchObject({ reason: "throttled" });
    const wait = (right as { retryAfterSeconds: number }).retryAfterSeconds;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(policy.account.maxDelaySeconds);

    // Every refusal was counted (31: the 30 and the right one), and logged while the hour's quota lasted.
    const counted = await database.db.signInRefusalCount.aggregate({ _sum: { count: true } });
    expect(counted._sum.count).toBe(31);
    expect(await database.db.signInEvent.count({ where: { email: "alice@example.test", outcome: { not: "succeeded" } } })).toBe(31);

    // Once the wait is over, the right password works, and the account's failures are forgotten.
    clock = new Date(clock.getTime() + wait * 1000);
    const after = await attempt("alice@example.test", "alice-password");
    expect(after.ok).toBe(true);
    expect(await database.db.signInThrottle.findUnique({ where: { key: pairKey("alice@example.test", "198.51.100.7") } })).toBeNull();
    expect(await database.db.signInThrottle.findUnique({ where: { key: accountKey("alice@example.test") } })).toBeNull();
    expect((await database.db.user.findUniqueOrThrow({ where: { id: alice.id } })).lastSignInAt).not.toBeNull();
  });

  it("refused sign-ins beyond the hour's quota are counted, not logged: anonymous senders cannot grow the log", async () => {
    clock = new Date("2026-12-02T10:00:00Z");
    const sent = REFUSED_SIGNIN_DETAIL_PER_HOUR + 15;
    // Spread over many clients and accounts, so that no throttle stops them: only the quota does.
    for (let i = 0; i < sent; i++) await attempt(`flood-${i}@example.test`, "nope-nope", `198.18.${Math.floor(i / 200)}.${i % 200}`);
    const hour = await database.db.signInRefusalCount.findUniqueOrThrow({ where: { hour: new Date("2026-12-02T10:00:00Z") } });
    expect(hour.count).toBe(sent);
    expect(await database.db.signInEvent.count({ where: { email: { startsWith: "flood-" } } })).toBe(REFUSED_SIGNIN_DETAIL_PER_HOUR);
  });

  it("holds under concurrent attempts: exactly the free failures plus one reach the password check", async () => {
    clock = new Date("2026-11-27T10:00:00Z");
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt("carol@example.test", `wrong-${i}`, "198.51.100.20")));
    const checked = results.filter((r) => !r.ok && r.reason === "wrong_credentials").length;
    expect(checked).toBe(policy.account.freeFailures + 1);
    expect(results.filter((r) => !r.ok && r.reason === "throttled")).toHaveLength(20 - checked);
  });

  it("an unknown email is throttled exactly like a known one (the answer tells nothing)", async () => {
    clock = new Date("2026-11-28T10:00:00Z");
    const ghost = [];
    for (let i = 0; i < policy.account.freeFailures + 2; i++) ghost.push(await attempt("nobody@example.test", "whatever-1"));
    expect(ghost.map((r) => (r.ok ? "ok" : r.reason))).toEqual([
      ...Array(policy.account.freeFailures + 1).fill("wrong_credentials"),
      "throttled",
    ]);
  });

  it("counts failures per client address across accounts, and only the trusted address", async () => {
    clock = new Date("2026-11-29T10:00:00Z");
    const address = "203.0.113.50";
    const outcomes: string[] = [];
    for (let i = 0; i < policy.address.freeFailures + 2; i++) {
      const r = await attempt(`spray-${i}@example.test`, "Password1!", address);
      outcomes.push(r.ok ? "ok" : r.reason);
    }
    expect(outcomes.slice(0, policy.address.freeFailures + 1).every((o) => o === "wrong_credentials")).toBe(true);
    expect(outcomes.at(-1)).toBe("throttled");
    // Another address is not affected.
    expect((await attempt("spray-x@example.test", "Password1!", "203.0.113.51")).ok).toBe(false);
    expect(await attempt("alice@example.test", "alice-password", "203.0.113.51")).toMatchObject({ ok: true });
  });

  it("guessing spread over many addresses is held per account, but never the owner's own known client", async () => {
    clock = new Date("2026-11-30T10:00:00Z");
    const owner = await createUser(database.db, { email: "owner@example.test", password: "owner-password" });
    // The owner signed in from the office before.
    expect(await attempt(owner.email, "owner-password", "198.51.100.200")).toMatchObject({ ok: true });
    // An attacker tries from a new address each time: each client's own allowance is never reached.
    let lastRefusal = "";
    for (let i = 0; i < policy.accountWide.freeFailures + 3; i++) {
      const r = await attempt(owner.email, `guess-${i}`, `203.0.${Math.floor(i / 200)}.${i % 200}`);
      lastRefusal = r.ok ? "ok" : r.reason;
      clock = new Date(clock.getTime() + 10);
    }
    expect(lastRefusal).toBe("throttled");
    // Anyone new is now held for this account, the right password too...
    expect(await attempt(owner.email, "owner-password", "192.0.2.44")).toMatchObject({ ok: false, reason: "throttled" });
    // ...but the owner, from where she signed in before, is not locked out.
    expect(await attempt(owner.email, "owner-password", "198.51.100.200")).toMatchObject({ ok: true });
  });

  it("an IPv6 client is its /64: changing the address within it does not reset the count", async () => {
    clock = new Date("2026-12-01T10:00:00Z");
    const outcomes: string[] = [];
    for (let i = 0; i < policy.account.freeFailures + 2; i++) {
      const r = await attempt("ivy@example.test", "wrong", `2001:db8:42:7::${(i + 1).toString(16)}`);
      outcomes.push(r.ok ? "ok" : r.reason);
    }
    expect(outcomes.at(-1)).toBe("throttled");
  });

  it("an unknown email costs the same password-hash check as a wrong password", async () => {
    const calls: string[] = [];
    const counting = async (hash: string, password: string) => {
      calls.push(hash.slice(0, 10));
      return verifyPassword(hash, password);
    };
    expect(await verifyCredentials(database.db, "alice@example.test", "wrong-password", counting)).toBeNull();
    expect(await verifyCredentials(database.db, "nobody-at-all@example.test", "wrong-password", counting)).toBeNull();
    expect(await verifyCredentials(database.db, "not an email", "x", counting)).toBeNull();
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.slice(0, 9)))).toEqual(new Set(["$argon2id"]));
  });
});

describe("revocable sessions", () => {
  it("a tRPC request's session is its cookie's JWT, checked against its row: revoked, forged or absent is signed out", async () => {
    const secret = "test-secret-for-request-sessions-0123456789";
    const sid = await startSession(database.db, alice.id);
    const cookieFor = async (name: string, token: Record<string, unknown>, key = secret) => `${name}=${await encode({ token, secret: key, salt: name })}`;
    const headers = (cookie: string) => new Headers({ cookie: `theme=dark; ${cookie}` });
    const deps = { db: database.db, secret };

    const plain = await cookieFor("authjs.session-token", { sub: alice.id, sid });
    expect(await sessionOfRequest(deps, headers(plain))).toEqual({ sessionId: sid, user: { id: alice.id, email: alice.email, name: alice.name, role: "member" } });
    const secure = await cookieFor("__Secure-authjs.session-token", { sub: alice.id, sid });
    expect((await sessionOfRequest(deps, headers(secure)))?.sessionId).toBe(sid);
    // Auth.js splits a large cookie into chunks.
    const value = plain.slice(plain.indexOf("=") + 1);
    const chunked = `authjs.session-token.0=${value.slice(0, 100)}; authjs.session-token.1=${value.slice(100)}`;
    expect((await sessionOfRequest(deps, headers(chunked)))?.sessionId).toBe(sid);

    expect(await sessionOfRequest(deps, headers(await cookieFor("authjs.session-token", { sub: alice.id, sid }, "another-secret-0123456789abcdef0123")))).toBeNull();
    expect(await sessionOfRequest(deps, headers("authjs.session-token=not-a-jwt"))).toBeNull();
    expect(await sessionOfRequest(deps, headers(await cookieFor("authjs.session-token", { sub: alice.id })))).toBeNull();
    expect(await sessionOfRequest(deps, new Headers())).toBeNull();
    await revokeSession(database.db, sid, "signed_out");
    expect(await sessionOfRequest(deps, headers(plain))).toBeNull();
  });

  it("a session is live until revoked or expired, and says who it belongs to as the database has them now", async () => {
    const now = new Date();
    const sid = await startSession(database.db, alice.id, { userAgent: "Test\u0000Browser", clientAddress: "198.51.100.7" }, now);
    expect(await checkSession(database.db, sid)).toMatchObject({ id: alice.id, role: "member" });
    await database.db.user.update({ where: { id: alice.id }, data: { role: "admin" } });
    expect(await checkSession(database.db, sid)).toMatchObject({ role: "admin" });
    await database.db.user.update({ where: { id: alice.id }, data: { role: "member" } });

    await revokeSession(database.db, sid, "signed_out");
    expect(await checkSession(database.db, sid)).toBeNull();
    const expired = await startSession(database.db, alice.id, {}, new Date(now.getTime() - (SESSION_MAX_AGE_SECONDS + 1) * 1000));
    expect(await checkSession(database.db, expired)).toBeNull();
    expect(await checkSession(database.db, "no-such-session")).toBeNull();
    expect(await checkSession(database.db, undefined)).toBeNull();
  });

  it("a password change needs the current password and ends every session of the person", async () => {
    const bob = await createUser(database.db, { email: "bob@example.test", password: "bob-password" });
    const laptop = await startSession(database.db, bob.id);
    const phone = await startSession(database.db, bob.id);
    const other = await startSession(database.db, alice.id);
    const accountDeps = { db: database.db, throttle: policy };

    const wrong = await changeOwnPassword(accountDeps, { user: bob, clientAddress: null }, { currentPassword: "nope", newPassword: "new-bob-password" }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(AppError);
    expect(wrong).toMatchObject({ code: "BAD_REQUEST", fieldErrors: { currentPassword: ["That is not your current password."] } });
    expect(await checkSession(database.db, laptop)).not.toBeNull();

    expect(await changeOwnPassword(accountDeps, { user: bob, clientAddress: null }, { currentPassword: "bob-password", newPassword: "new-bob-password" })).toEqual({ sessionsEnded: 2 });
    expect(await checkSession(database.db, laptop)).toBeNull();
    expect(await checkSession(database.db, phone)).toBeNull();
    expect(await checkSession(database.db, other)).not.toBeNull(); // nobody else's
    expect(await verifyCredentials(database.db, "bob@example.test", "new-bob-password")).toMatchObject({ id: bob.id });
    expect(await verifyCredentials(database.db, "bob@example.test", "bob-password")).toBeNull();
  });

  it("guessing the current password through the change form is throttled like a sign-in", async () => {
    const dave = await createUser(database.db, { email: "dave@example.test", password: "dave-password" });
    const codes: string[] = [];
    for (let i = 0; i < policy.account.freeFailures + 2; i++) {
      const err = (await changeOwnPassword({ db: database.db, throttle: policy }, { user: dave, clientAddress: null }, { currentPassword: `guess-${i}`, newPassword: "new-dave-password" }).catch((e: unknown) => e)) as AppError;
      codes.push(err.code);
    }
    expect(codes.at(-1)).toBe("TOO_MANY_REQUESTS");
  });

  it("sign out everywhere ends them all; the list shows the live ones and marks the current", async () => {
    const erin = await createUser(database.db, { email: "erin@example.test", password: "erin-password" });
    const current = await startSession(database.db, erin.id, { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0" });
    await startSession(database.db, erin.id);
    const listed = await listLiveSessions(database.db, erin.id, current);
    expect(listed).toHaveLength(2);
    expect(listed.filter((s) => s.current)).toHaveLength(1);
    expect(listed[0]).not.toHaveProperty("id");
    expect(await signOutEverywhere(database.db, erin)).toEqual({ sessionsEnded: 2 });
    expect(await listLiveSessions(database.db, erin.id, current)).toEqual([]);
  });

  it("the account procedures: the form's rules are checked before anything runs", async () => {
    const caller = createCaller({ services: { db: database.db, config: { signInThrottle: policy } } as never, user: alice, sessionId: null });
    await expect(caller.account.changePassword({ currentPassword: "alice-password", newPassword: "short" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(caller.account.changePassword({ currentPassword: "alice-password", newPassword: "alice-password" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const anonymous = createCaller({ services: { db: database.db } as never, user: null });
    await expect(anonymous.account.sessions()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});
