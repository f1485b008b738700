/** Users: creation, credential checks, and the bootstrap admin of a new install. */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { transaction, type Db, type Role, type UserStatus } from "../db/client.ts";
import { recordAudit, type Actor } from "../audit/audit.ts";
import { AppError } from "../errors.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";

export const emailSchema = z.email("Enter a valid email address").transform((e) => e.trim().toLowerCase());
export const passwordSchema = z.string().min(8, "Use at least 8 characters").max(200);

export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
}

export async function createUser(
  db: Db,
  input: { email: string; password: string; name?: string; role?: Role },
  /** Who made it, for the audit log (the command line: nobody). Absent: not an audited action (tests). */
  audit?: Actor,
): Promise<SessionUser> {
  const email = emailSchema.parse(input.email);
  const password = passwordSchema.parse(input.password);
  const passwordHash = await hashPassword(password);
  return transaction(db, async (tx) => {
    const existing = await tx.user.findUnique({ where: { email } });
    if (existing) throw new AppError("CONFLICT", `A user with the email ${email} already exists`);
    const user = await tx.user.create({ data: { email, name: input.name ?? null, role: input.role ?? "member", passwordHash } });
    // An invitation still open for this email would otherwise let someone else join as it.
    await tx.invitation.updateMany({ where: { email, acceptedAt: null, revokedAt: null }, data: { revokedAt: new Date() } });
    if (audit) await recordAudit(tx, audit, { action: "user.created", targetType: "user", targetId: user.id, targetLabel: email, after: { role: user.role } });
    return { id: user.id, email: user.email, name: user.name, role: user.role };
  });
}

/**
 * Returns the user when the email and password match, else null (never says
 * which was wrong). An unknown email costs the same hash check as a wrong
 * password, so the answer's timing does not tell whether an account exists.
 */
export async function verifyCredentials(
  db: Db,
  email: unknown,
  password: unknown,
  /** The hash check (a seam for tests that count the work done). */
  verify: (hash: string, password: string) => Promise<boolean> = verifyPassword,
): Promise<(SessionUser & { status: UserStatus }) | null> {
  const e = emailSchema.safeParse(email);
  if (!e.success || typeof password !== "string" || password.length === 0 || password.length > 1000) {
    await verify(await dummyHash(), "x");
    return null;
  }
  const user = await db.user.findUnique({ where: { email: e.data } });
  if (!user?.passwordHash) {
    await verify(await dummyHash(), password);
    return null;
  }
  if (!(await verify(user.passwordHash, password))) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role, status: user.status };
}

let dummy: Promise<string> | undefined;
/** A hash made with the same parameters as real ones, checked when there is no real one to check. */
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString("base64url"));
  return dummy;
}

/**
 * Changes a user's own password: the current one must be given. Returns
 * false when it is wrong. The caller ends the user's sessions.
 */
export async function changePassword(db: Db, userId: string, currentPassword: string, newPassword: string): Promise<boolean> {
  const password = passwordSchema.parse(newPassword);
  const user = await db.user.findUnique({ where: { id: userId } });
  if (!user?.passwordHash || !(await verifyPassword(user.passwordHash, currentPassword))) return false;
  await db.user.update({ where: { id: userId }, data: { passwordHash: await hashPassword(password) } });
  return true;
}

export async function getSessionUser(db: Db, id: string): Promise<SessionUser | null> {
  const user = await db.user.findUnique({ where: { id } });
  return user && { id: user.id, email: user.email, name: user.name, role: user.role };
}

/**
 * On a database with no admin, creates one. The password is `password` when
 * given (ADMIN_PASSWORD), else random; it is returned so the launcher can print
 * it once. Returns null when an admin exists already.
 */
export async function ensureBootstrapAdmin(
  db: Db,
  opts: { email: string; password?: string },
): Promise<{ email: string; password: string } | null> {
  const admins = await db.user.count({ where: { role: "admin" } });
  if (admins > 0) return null;
  const password = opts.password ?? randomBytes(12).toString("base64url");
  const email = emailSchema.parse(opts.email);
  const existing = await db.user.findUnique({ where: { email } });
  if (existing) {
    await db.user.update({ where: { id: existing.id }, data: { role: "admin", passwordHash: await hashPassword(password) } });
    // A new password: whoever was signed in as this account before must sign in again.
    await db.userSession.updateMany({ where: { userId: existing.id, revokedAt: null }, data: { revokedAt: new Date(), revokedReason: "password_changed" } });
  } else {
    await createUser(db, { email, password, name: "Administrator", role: "admin" }, { id: null, email: null });
  }
  return { email, password };
}
