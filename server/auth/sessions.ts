/**
 * Revocable sessions (docs/decisions/0008-revocable-sessions.md). Auth.js
 * keeps a password sign-in in a JWT cookie; the JWT carries the id of a
 * UserSession row, and every request checks that row (and its user) in the
 * database. Revoking the row signs that browser out at once, on every web
 * instance: signing out ends one session; a password change or "sign out
 * everywhere" ends them all.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../db/client.ts";
import { storableText } from "../http/text.ts";
import type { SessionUser } from "../users/users.ts";

export type RevokeReason = "signed_out" | "signed_out_everywhere" | "password_changed" | "deactivated" | "role_changed" | "admin";

/** How long a session lasts without a new sign-in (the cookie's lifetime too). */
export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;
/** lastSeenAt is written at most this often per session (a read-mostly check). */
const LAST_SEEN_EVERY_MS = 5 * 60_000;

export interface SessionOrigin {
  userAgent?: string | null;
  clientAddress?: string | null;
}

/** Starts a session for `userId`; returns its id, which the session cookie carries. */
export async function startSession(db: Db, userId: string, origin: SessionOrigin = {}, now = new Date()): Promise<string> {
  const id = randomBytes(24).toString("base64url");
  await db.userSession.create({
    data: {
      id,
      userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + SESSION_MAX_AGE_SECONDS * 1000),
      userAgent: origin.userAgent ? storableText(origin.userAgent.slice(0, 300)) : null,
      clientAddress: origin.clientAddress ? origin.clientAddress.slice(0, 64) : null,
    },
  });
  return id;
}

/**
 * The user of a live session, as the database has them now, or null when the
 * session is unknown, revoked or expired. Refreshes lastSeenAt now and then.
 */
export async function checkSession(db: Db, sessionId: unknown, now = new Date()): Promise<SessionUser | null> {
  if (typeof sessionId !== "string" || sessionId.length === 0 || sessionId.length > 100) return null;
  // The session and its user in one round trip (Prisma's relation select would make two).
  const [row] = await db.$queryRaw<Array<{ revokedAt: Date | null; expiresAt: Date; lastSeenAt: Date; id: string; email: string; name: string | null; role: SessionUser["role"]; status: string }>>`
    SELECT s."revokedAt", s."expiresAt", s."lastSeenAt", u.id, u.email, u.name, u.role::text AS role, u.status::text AS status
    FROM "UserSession" s JOIN "User" u ON u.id = s."userId"
    WHERE s.id = ${sessionId}`;
  const session = row && { revokedAt: row.revokedAt, expiresAt: row.expiresAt, lastSeenAt: row.lastSeenAt, user: row };
  if (!session || session.revokedAt !== null || session.expiresAt <= now || session.user.status !== "active") return null;
  if (now.getTime() - session.lastSeenAt.getTime() > LAST_SEEN_EVERY_MS) {
    await db.userSession.updateMany({ where: { id: sessionId, revokedAt: null }, data: { lastSeenAt: now } });
  }
  const { id, email, name, role } = session.user;
  return { id, email, name, role };
}

/** Ends one session (signing out). */
export async function revokeSession(db: Pick<Db, "userSession">, sessionId: string, reason: RevokeReason): Promise<void> {
  await db.userSession.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: new Date(), revokedReason: reason } });
}

/** Ends every live session of a user; returns how many ended. */
export async function revokeUserSessions(db: Pick<Db, "userSession">, userId: string, reason: RevokeReason, now = new Date()): Promise<number> {
  const { count } = await db.userSession.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now, revokedReason: reason } });
  return count;
}

export interface SessionView {
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  clientAddress: string | null;
  /** The session this request is made in. */
  current: boolean;
}

/** A user's live sessions, most recently seen first. */
export async function listLiveSessions(db: Db, userId: string, currentSessionId: string | null, now = new Date()): Promise<SessionView[]> {
  const rows = await db.userSession.findMany({
    where: { userId, revokedAt: null, expiresAt: { gt: now } },
    orderBy: { lastSeenAt: "desc" },
    take: 100,
    select: { id: true, createdAt: true, lastSeenAt: true, expiresAt: true, userAgent: true, clientAddress: true },
  });
  return rows.map(({ id, ...r }) => ({ ...r, current: id === currentSessionId }));
}
