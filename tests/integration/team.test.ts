/**
 * Team administration against a real PostgreSQL: admin procedures refuse
 * members and anonymous callers; invitation and reset links are single use
 * and expire; deactivation ends existing sessions and refuses sign-in; the
 * last active admin is protected, also against two admins at once; audit rows
 * come with their change and never without; links are mailed through a real
 * SMTP server on loopback when one is configured; single sign-on admits only
 * whom the portal invites or allows.
 */
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter, createCaller } from "@/server/api/root.ts";
import { checkSession, startSession } from "@/server/auth/sessions.ts";
import { signInWithPassword } from "@/server/auth/sign-in.ts";
import { completeSsoSignUp, decideSsoSignIn } from "@/server/auth/sso.ts";
import { DEFAULT_THROTTLE } from "@/server/auth/throttle.ts";
import { freePort } from "@/server/db/embedded.ts";
import { AppError } from "@/server/errors.ts";
import { createMailer } from "@/server/mail/mailer.ts";
import type { Services } from "@/server/services.ts";
import type { TeamDeps } from "@/server/team/deps.ts";
import { acceptInvitation, invitationForToken, inviteMember, resendInvitation, revokeInvitation } from "@/server/team/invitations.ts";
import { listMembers } from "@/server/team/members.ts";
import { createPasswordReset, deactivateUser, passwordResetForToken, reactivateUser, resetPasswordWithToken, setRole } from "@/server/team/people.ts";
import { listAllTasks } from "@/server/tasks/listing.ts";
import { createUser, verifyCredentials, type SessionUser } from "@/server/users/users.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { startSmtpCatcher } from "../helpers/smtp.ts";

let database: TestDatabase;
let admin: SessionUser;
let member: SessionUser;
let clock = new Date("2026-11-10T12:00:00Z");
const deps = (extra: Partial<TeamDeps> = {}): TeamDeps => ({
  db: database.db,
  publicBaseUrl: "https://portal.example",
  mailer: null,
  invitationTtlHours: 72,
  passwordResetTtlHours: 24,
  now: () => clock,
  ...extra,
});
const tokenOf = (link: string) => link.split("/").pop() ?? "";
const services = () => ({ db: database.db, teamDeps: deps(), config: { prices: { currency: "USD" } } }) as unknown as Services;
const callerFor = (user: SessionUser | null) => createCaller({ services: services(), user });

beforeAll(async () => {
  database = await createTestDatabase();
  admin = await createUser(database.db, { email: "root@example.test", password: "root-password", role: "admin" });
  member = await createUser(database.db, { email: "mia@example.test", password: "mia-password" });
});
afterAll(() => database?.drop());

describe("admin procedures", () => {
  const adminProcedures = Object.keys(appRouter._def.procedures).filter((p) => p.startsWith("team.") || p.startsWith("admin."));

  it("exist", () => {
    expect(adminProcedures.length).toBeGreaterThanOrEqual(10);
  });

  it.each(adminProcedures)("%s refuses members (403) and anonymous callers (401)", async (path) => {
    const call = async (user: SessionUser | null) => {
      const procedure = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], callerFor(user)) as (input: unknown) => Promise<unknown>;
      return procedure({}).then(
        () => null,
        (e: unknown) => e,
      );
    };
    expect(await call(member)).toMatchObject({ code: "FORBIDDEN" });
    expect(await call(null)).toMatchObject({ code: "UNAUTHORIZED" });
    const asAdmin = await call(admin);
    expect(asAdmin === null || !(asAdmin instanceof TRPCError) || !["FORBIDDEN", "UNAUTHORIZED"].includes(asAdmin.code)).toBe(true);
  });
});

describe("invitations", () => {
  it("a link works once, makes the account with the invitation's role, and is audited", async () => {
    const { link, invitation, emailed } = await inviteMember(deps(), admin, { email: "Nina@Example.test", role: "admin" });
    expect(emailed).toBe(false);
    expect(link).toMatch(/^https:\/\/portal\.example\/invite\/[\w-]{43}$/);
    expect(invitation).toMatchObject({ email: "nina@example.test", role: "admin", state: "pending" });
    // Not an account until accepted.
    expect(await database.db.user.findUnique({ where: { email: "nina@example.test" } })).toBeNull();
    expect(await invitationForToken(deps(), tokenOf(link))).toEqual({ email: "nina@example.test", role: "admin", state: "pending" });

    const nina = await acceptInvitation(deps(), tokenOf(link), { name: "Nina", password: "nina-password" });
    expect(nina).toMatchObject({ email: "nina@example.test", role: "admin", name: "Nina" });
    expect(await verifyCredentials(database.db, "nina@example.test", "nina-password")).toMatchObject({ id: nina.id });
    await expect(acceptInvitation(deps(), tokenOf(link), { name: "Again", password: "other-password" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await invitationForToken(deps(), tokenOf(link)))?.state).toBe("accepted");
    const actions = (await database.db.auditEvent.findMany({ where: { targetLabel: "nina@example.test" }, orderBy: { at: "asc" } })).map((e) => [e.action, e.actorEmail]);
    expect(actions).toEqual([
      ["invitation.created", "root@example.test"],
      ["invitation.accepted", "nina@example.test"],
    ]);
  });

  it("two people accepting the same link at once make one account", async () => {
    const { link } = await inviteMember(deps(), admin, { email: "twice@example.test", role: "member" });
    const results = await Promise.allSettled([1, 2].map((n) => acceptInvitation(deps(), tokenOf(link), { name: `Twice ${n}`, password: "twice-password" })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await database.db.user.count({ where: { email: "twice@example.test" } })).toBe(1);
  });

  it("expires, and a re-send makes a new link that replaces the old one", async () => {
    const { link, invitation } = await inviteMember(deps(), admin, { email: "late@example.test", role: "member" });
    clock = new Date(clock.getTime() + 73 * 3_600_000);
    expect((await invitationForToken(deps(), tokenOf(link)))?.state).toBe("expired");
    await expect(acceptInvitation(deps(), tokenOf(link), { name: "Late", password: "late-password" })).rejects.toBeInstanceOf(AppError);
    const again = await resendInvitation(deps(), admin, invitation.id);
    expect(again.link).not.toBe(link);
    expect(await invitationForToken(deps(), tokenOf(link))).toBeNull(); // the old link is gone
    expect(await acceptInvitation(deps(), tokenOf(again.link), { name: "Late", password: "late-password" })).toMatchObject({ email: "late@example.test" });
  });

  it("a revoked invitation opens nothing; an email cannot be invited twice or when it has an account", async () => {
    const { link, invitation } = await inviteMember(deps(), admin, { email: "nope@example.test", role: "member" });
    await expect(inviteMember(deps(), admin, { email: "nope@example.test", role: "member" })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(inviteMember(deps(), admin, { email: "mia@example.test", role: "member" })).rejects.toMatchObject({ code: "CONFLICT" });
    await revokeInvitation(deps(), admin, invitation.id);
    await expect(acceptInvitation(deps(), tokenOf(link), { name: "No", password: "nope-password" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(revokeInvitation(deps(), admin, invitation.id)).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(resendInvitation(deps(), admin, invitation.id)).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("are emailed through the configured SMTP server, and still shown when mail fails", async () => {
    const smtp = await startSmtpCatcher();
    const { received } = smtp;
    try {
      const mailer = createMailer({ smtpUrl: smtp.url, from: "Portal <portal@example.test>" });
      const { link, emailed } = await inviteMember(deps({ mailer }), admin, { email: "mailed@example.test", role: "member" });
      expect(emailed).toBe(true);
      expect(received).toHaveLength(1);
      expect(received[0]?.to).toBe("mailed@example.test");
      expect(received[0]?.body.replace(/=\r?\n/g, "")).toContain(link);

      const broken = createMailer({ smtpUrl: `smtp://127.0.0.1:${await freePort()}`, from: "p@example.test", log: () => {} });
      const fallback = await inviteMember(deps({ mailer: broken }), admin, { email: "unmailed@example.test", role: "member" });
      expect(fallback.emailed).toBe(false);
      expect(fallback.link).toMatch(/\/invite\//);
    } finally {
      await smtp.close();
    }
  });
});

describe("deactivation", () => {
  it("ends every session at once and refuses sign-in; tasks and billing stay; reactivation lets them back", async () => {
    const dan = await createUser(database.db, { email: "dan@example.test", password: "dan-password" });
    const laptop = await startSession(database.db, dan.id);
    const phone = await startSession(database.db, dan.id);
    await database.db.task.create({ data: { userId: dan.id, mode: "first_frame", prompt: "kept", request: {}, durationSeconds: 5, status: "processing" } });

    expect(await deactivateUser(deps(), admin, dan.id)).toEqual({ sessionsEnded: 2 });
    expect(await checkSession(database.db, laptop)).toBeNull();
    expect(await checkSession(database.db, phone)).toBeNull();
    const signIn = (password: string) => signInWithPassword({ db: database.db, throttle: DEFAULT_THROTTLE }, { email: "dan@example.test", password, clientAddress: "198.51.100.3" });
    expect(await signIn("dan-password")).toMatchObject({ ok: false, reason: "deactivated" });
    expect(await signIn("wrong-password")).toMatchObject({ ok: false, reason: "wrong_credentials" }); // says nothing to a guesser
    // A session made anyhow (a race with the deactivation) is refused too: the status is checked on every request.
    expect(await checkSession(database.db, await startSession(database.db, dan.id))).toBeNull();
    expect(await database.db.task.count({ where: { userId: dan.id } })).toBe(1);

    await reactivateUser(deps(), admin, dan.id);
    expect(await signIn("dan-password")).toMatchObject({ ok: true });
    expect((await database.db.auditEvent.findMany({ where: { targetId: dan.id }, orderBy: { at: "asc" } })).map((e) => e.action)).toEqual(["user.deactivated", "user.reactivated"]);
  });
});

describe("the last active admin", () => {
  it("cannot be demoted or deactivated", async () => {
    const db = await createTestDatabase();
    try {
      const only = await createUser(db.db, { email: "only@example.test", password: "only-password", role: "admin" });
      const d = { ...deps(), db: db.db };
      await expect(setRole(d, only, only.id, "member")).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/last active admin/) });
      await expect(deactivateUser(d, only, only.id)).rejects.toMatchObject({ code: "CONFLICT" });
      expect(await db.db.user.findUniqueOrThrow({ where: { id: only.id } })).toMatchObject({ role: "admin", status: "active" });
      // A deactivated admin does not count as an admin who could take over.
      const off = await createUser(db.db, { email: "off@example.test", password: "off-password", role: "admin" });
      await deactivateUser(d, only, off.id);
      await expect(setRole(d, only, only.id, "member")).rejects.toMatchObject({ code: "CONFLICT" });
    } finally {
      await db.drop();
    }
  });

  it("holds when two admins demote or deactivate each other at the same moment", async () => {
    // Repeated: without the lock, one round in several lets both through.
    for (const change of Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? "demote" : "deactivate") as "demote" | "deactivate")) {
      const db = await createTestDatabase();
      try {
        const a = await createUser(db.db, { email: "a@example.test", password: "a-password", role: "admin" });
        const b = await createUser(db.db, { email: "b@example.test", password: "b-password", role: "admin" });
        const d = { ...deps(), db: db.db };
        const act = (actor: SessionUser, target: SessionUser) => (change === "demote" ? setRole(d, actor, target.id, "member") : deactivateUser(d, actor, target.id));
        const results = await Promise.allSettled([act(a, b), act(b, a)]);
        expect(results.filter((r) => r.status === "fulfilled"), change).toHaveLength(1);
        expect(await db.db.user.count({ where: { role: "admin", status: "active" } }), change).toBe(1);
        expect(await db.db.auditEvent.count(), change).toBe(1);
      } finally {
        await db.drop();
      }
    }
  });
});

describe("audit rows", () => {
  it("are written with the change, with before and after, and not without it", async () => {
    const db = await createTestDatabase();
    try {
      const root = await createUser(db.db, { email: "root2@example.test", password: "root-password", role: "admin" });
      const eve = await createUser(db.db, { email: "eve@example.test", password: "eve-password" });
      const d = { ...deps(), db: db.db };
      await setRole(d, root, eve.id, "admin");
      const [row] = await db.db.auditEvent.findMany();
      expect(row).toMatchObject({ action: "user.role_changed", actorId: root.id, actorEmail: "root2@example.test", targetId: eve.id, targetLabel: "eve@example.test", before: { role: "member" }, after: { role: "admin" } });
      // A change that does nothing writes no row; nor does a refused one.
      await setRole(d, root, eve.id, "admin");
      await setRole(d, root, eve.id, "member");
      await expect(setRole(d, root, root.id, "member")).rejects.toMatchObject({ code: "CONFLICT" }); // the last active admin
      expect((await db.db.auditEvent.findMany({ orderBy: { at: "asc" } })).map((e) => e.after)).toEqual([{ role: "admin" }, { role: "member" }]);
      await setRole(d, root, eve.id, "admin");
      // When the audit row cannot be written, the change does not happen.
      await db.db.$executeRawUnsafe(`ALTER TABLE "AuditEvent" ADD CONSTRAINT "no_more_rows" CHECK (false) NOT VALID`);
      await expect(setRole(d, root, eve.id, "member")).rejects.toThrow();
      await expect(deactivateUser(d, root, eve.id)).rejects.toThrow();
      await expect(inviteMember(d, root, { email: "ghost@example.test", role: "member" })).rejects.toThrow();
      expect(await db.db.user.findUniqueOrThrow({ where: { id: eve.id } })).toMatchObject({ role: "admin", status: "active" });
      expect(await db.db.invitation.count()).toBe(0);
    } finally {
      await db.drop();
    }
  });
});

describe("password resets", () => {
  it("end every session at once, work once, and set the new password", async () => {
    const rob = await createUser(database.db, { email: "rob@example.test", password: "rob-password" });
    const session = await startSession(database.db, rob.id);
    const { link, sessionsEnded } = await createPasswordReset(deps(), admin, rob.id);
    expect(sessionsEnded).toBe(1);
    expect(await checkSession(database.db, session)).toBeNull();
    expect(await passwordResetForToken(deps(), tokenOf(link))).toEqual({ email: "rob@example.test", usable: true });
    await expect(resetPasswordWithToken(deps(), tokenOf(link), "short")).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await resetPasswordWithToken(deps(), tokenOf(link), "rob-new-password");
    await expect(resetPasswordWithToken(deps(), tokenOf(link), "rob-third-password")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await verifyCredentials(database.db, "rob@example.test", "rob-new-password")).not.toBeNull();
    expect(await verifyCredentials(database.db, "rob@example.test", "rob-password")).toBeNull();
    // A newer link replaces an older one; links expire.
    const first = await createPasswordReset(deps(), admin, rob.id);
    const second = await createPasswordReset(deps(), admin, rob.id);
    expect((await passwordResetForToken(deps(), tokenOf(first.link)))?.usable).toBe(false);
    clock = new Date(clock.getTime() + 25 * 3_600_000);
    expect((await passwordResetForToken(deps(), tokenOf(second.link)))?.usable).toBe(false);
  });
});

describe("single sign-on decides nothing the portal did not allow", () => {
  const sso = { issuer: "https://idp.example", clientId: "portal", clientSecret: "s", name: "Acme", allowedDomains: ["acme.example"], trustEmails: false };
  let sub = 0;
  const decide = (email: string, opts: { emailVerified?: unknown; hd?: unknown; token?: string; providerAccountId?: string; config?: Partial<typeof sso> & { hostedDomain?: string } } = {}) =>
    decideSsoSignIn(
      database.db,
      { ...sso, ...opts.config },
      { providerAccountId: opts.providerAccountId ?? `sub-${++sub}`, email, emailVerified: "emailVerified" in opts ? opts.emailVerified : true, hd: opts.hd },
      { invitationToken: opts.token, now: clock },
    );
  /** An account as Auth.js's adapter makes it on a first single sign-on, linked to `sub`. */
  const adapterUser = async (email: string, providerAccountId: string) =>
    database.db.user.create({ data: { email, accounts: { create: { type: "oidc", provider: "oidc", providerAccountId } } } });

  it("admits an existing member, an invited member, or a verified email of an allowed domain; nobody else", async () => {
    await inviteMember(deps(), admin, { email: "guest@elsewhere.example", role: "member" });
    expect(await decide("mia@example.test")).toEqual({ ok: true, via: "link" });
    expect(await decide("guest@elsewhere.example")).toEqual({ ok: true, via: "invitation" });
    expect(await decide("new.hire@acme.example")).toEqual({ ok: true, via: "domain" });
    expect(await decide("new.hire@acme.example", { emailVerified: false })).toEqual({ ok: false, reason: "unverified" });
    expect(await decide("new.hire@acme.example", { emailVerified: undefined })).toEqual({ ok: false, reason: "unverified" });
    expect(await decide("new.hire@acme.example", { emailVerified: undefined, config: { trustEmails: true } })).toEqual({ ok: true, via: "domain" });
    expect(await decide("stranger@evil.example")).toEqual({ ok: false, reason: "not_invited" });
    expect(await decide("someone@sub.acme.example")).toEqual({ ok: false, reason: "not_invited" });
    // Google Workspace: a personal Google account with a company address has no matching `hd`.
    expect(await decide("new.hire@acme.example", { config: { hostedDomain: "acme.example" } })).toEqual({ ok: false, reason: "not_invited" });
    expect(await decide("new.hire@acme.example", { hd: "acme.example", config: { hostedDomain: "acme.example" } })).toEqual({ ok: true, via: "domain" });
    const gone = await createUser(database.db, { email: "gone@acme.example", password: "gone-password" });
    await deactivateUser(deps(), admin, gone.id);
    expect(await decide("gone@acme.example")).toEqual({ ok: false, reason: "deactivated" });
  });

  it("never takes over an admin account, or an account linked to another identity, by email", async () => {
    expect(await decide("root@example.test")).toEqual({ ok: false, reason: "admin_password" });
    await adapterUser("linked@acme.example", "sub-original");
    expect(await decide("linked@acme.example", { providerAccountId: "sub-original" })).toEqual({ ok: true, via: "account" });
    expect(await decide("linked@acme.example", { providerAccountId: "sub-recycled-address" })).toEqual({ ok: false, reason: "linked_elsewhere" });
  });

  it("a linked identity signs in as its account whatever email it now sends, unless the account is deactivated", async () => {
    const moved = await adapterUser("moved@acme.example", "sub-moved");
    expect(await decide("anything@elsewhere.example", { providerAccountId: "sub-moved", emailVerified: false })).toEqual({ ok: true, via: "account" });
    await deactivateUser(deps(), admin, moved.id);
    expect(await decide("new.address@acme.example", { providerAccountId: "sub-moved" })).toEqual({ ok: false, reason: "deactivated" });
  });

  it("an invitation to be an admin is taken through single sign-on only from its own link", async () => {
    const { link } = await inviteMember(deps(), admin, { email: "boss@elsewhere.example", role: "admin" });
    expect(await decide("boss@elsewhere.example")).toEqual({ ok: false, reason: "admin_invitation_link" });
    expect(await decide("boss@elsewhere.example", { token: "y".repeat(43) })).toEqual({ ok: false, reason: "admin_invitation_link" });
    expect(await decide("boss@elsewhere.example", { token: tokenOf(link) })).toEqual({ ok: true, via: "invitation" });
    // Another email carrying the link gets nothing from it.
    expect(await decide("intruder@elsewhere.example", { token: tokenOf(link) })).toEqual({ ok: false, reason: "not_invited" });

    const boss = await adapterUser("boss@elsewhere.example", "sub-boss");
    await completeSsoSignUp(database.db, { id: boss.id, email: boss.email }, { invitationToken: tokenOf(link), now: clock });
    expect(await database.db.user.findUniqueOrThrow({ where: { id: boss.id } })).toMatchObject({ role: "admin", status: "active" });
    const accepted = await database.db.invitation.findFirstOrThrow({ where: { email: boss.email } });
    expect(accepted).toMatchObject({ acceptedUserId: boss.id });
    expect(await database.db.auditEvent.count({ where: { action: "invitation.accepted", targetId: accepted.id } })).toBe(1);
    // Once: completing again changes nothing and audits nothing more.
    await completeSsoSignUp(database.db, { id: boss.id, email: boss.email }, { invitationToken: tokenOf(link), now: clock });
    expect(await database.db.auditEvent.count({ where: { action: "invitation.accepted", targetId: accepted.id } })).toBe(1);
  });

  it("a new member without an invitation joins as a member, audited; other open invitations for the email close", async () => {
    // An invitation that expired unused is still open; the new account closes it.
    await database.db.invitation.create({ data: { email: "walk.in@acme.example", role: "admin", tokenHash: "expired-walk-in", expiresAt: new Date(clock.getTime() - 1000) } });
    expect(await decide("walk.in@acme.example")).toEqual({ ok: true, via: "domain" });
    const walkIn = await adapterUser("walk.in@acme.example", "sub-walk-in");
    await completeSsoSignUp(database.db, { id: walkIn.id, email: walkIn.email }, { now: clock });
    expect(await database.db.user.findUniqueOrThrow({ where: { id: walkIn.id } })).toMatchObject({ role: "member" });
    expect(await database.db.invitation.count({ where: { email: walkIn.email, acceptedAt: null, revokedAt: null } })).toBe(0);
    expect(await database.db.auditEvent.count({ where: { action: "user.created", targetId: walkIn.id } })).toBe(1);
  });

  it("with password sign-in for admins only, members are sent to single sign-on; admins keep their password", async () => {
    const signIn = (email: string, password: string) =>
      signInWithPassword({ db: database.db, throttle: DEFAULT_THROTTLE, passwordSignIn: "admins" }, { email, password, clientAddress: "198.51.100.9" });
    expect(await signIn("mia@example.test", "mia-password")).toMatchObject({ ok: false, reason: "sso_only" });
    expect(await signIn("mia@example.test", "wrong-password")).toMatchObject({ ok: false, reason: "wrong_credentials" });
    expect(await signIn("root@example.test", "root-password")).toMatchObject({ ok: true });
    // Nor can a member invitation be taken with a password then.
    const { link } = await inviteMember(deps(), admin, { email: "sso-only@example.test", role: "member" });
    await expect(acceptInvitation({ ...deps(), passwordSignIn: "admins" }, tokenOf(link), { name: "S", password: "some-password" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await database.db.user.count({ where: { email: "sso-only@example.test" } })).toBe(0);
  });
});

describe("what admins see", () => {
  it("members with their sign-in methods, tasks and spend this month (the month they were submitted)", async () => {
    const db = await createTestDatabase();
    try {
      const root = await createUser(db.db, { email: "r@example.test", password: "root-password", role: "admin" });
      const mo = await createUser(db.db, { email: "mo@example.test", password: "mo-password" });
      const task = (createdAt: string, cost: number | null) =>
        db.db.task.create({
          data: {
            userId: mo.id,
            mode: "first_frame",
            prompt: "x",
            request: {},
            durationSeconds: 5,
            status: cost === null ? "processing" : "completed",
            createdAt: new Date(createdAt),
            ...(cost !== null && { cost, billing: { create: { userId: mo.id, billedSeconds: 5, quality: "720p", pricePerSecond: 0.086, currency: "USD", cost } } }),
          },
        });
      await task("2026-11-02T00:00:00Z", 0.43);
      await task("2026-11-09T00:00:00Z", 0.123456);
      await task("2026-11-09T01:00:00Z", null);
      await task("2026-10-31T23:59:59Z", 5); // last month
      const { members, month } = await listMembers({ db: db.db, now: () => new Date("2026-11-10T00:00:00Z") });
      expect(members.find((m) => m.email === "mo@example.test")).toMatchObject({ tasksThisMonth: 3, spendThisMonth: 0.553456, signInMethods: ["password"], status: "active", role: "member" });
      expect(members.find((m) => m.email === "r@example.test")).toMatchObject({ tasksThisMonth: 0, spendThisMonth: 0, role: "admin" });
      expect(month).toMatchObject({ since: new Date("2026-11-01T00:00:00Z"), until: new Date("2026-12-01T00:00:00Z"), timeZone: "UTC" });
      // In Auckland (UTC+13 in November) the last task of 31 October UTC was submitted on 1 November.
      const auckland = await listMembers({ db: db.db, now: () => new Date("2026-11-10T00:00:00Z"), defaultTimeZone: "Pacific/Auckland" });
      expect(auckland.members.find((m) => m.email === "mo@example.test")).toMatchObject({ tasksThisMonth: 4, spendThisMonth: 5.553456 });
      expect(auckland.month.since).toEqual(new Date("2026-10-31T11:00:00Z"));

      // The admins' list of every task: filters and keyset pages that neither skip nor repeat.
      const all = await listAllTasks(db.db, {}, { limit: 2 });
      expect(all.tasks).toHaveLength(2);
      expect(all.tasks[0]?.owner.email).toBe("mo@example.test");
      const next = await listAllTasks(db.db, {}, { limit: 2, cursor: all.nextCursor ?? undefined });
      expect(next.tasks).toHaveLength(2);
      expect(next.nextCursor).toBeNull();
      expect(new Set([...all.tasks, ...next.tasks].map((t) => t.id)).size).toBe(4);
      expect((await listAllTasks(db.db, { status: "processing" })).tasks).toHaveLength(1);
      expect((await listAllTasks(db.db, { userId: root.id })).tasks).toHaveLength(0);
      expect((await listAllTasks(db.db, { from: new Date("2026-11-01T00:00:00Z"), to: new Date("2026-11-09T00:00:00Z") })).tasks).toHaveLength(1);
      await expect(listAllTasks(db.db, {}, { cursor: "garbage" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    } finally {
      await db.drop();
    }
  });
});
