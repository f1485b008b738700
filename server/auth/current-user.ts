/**
 * The signed-in person of the current request (pages, layouts, route
 * handlers, tRPC): from `auth()`, whose session check (server/auth/auth.ts)
 * has already re-read the user and their session row, so no second query is
 * needed. Memoised per request for server components.
 */
import "server-only";
import { cache } from "react";
import type { SessionUser } from "../users/users.ts";
import { auth } from "./auth.ts";

export interface CurrentSession {
  user: SessionUser;
  /** The UserSession row the request is signed in with. */
  sessionId: string;
}

export const currentSession = cache(async (): Promise<CurrentSession | null> => {
  const session = await auth();
  if (!session?.user?.id || !session.sessionId) return null;
  const { id, email, name, role } = session.user;
  return { user: { id, email: email ?? "", name: name ?? null, role }, sessionId: session.sessionId };
});

/** The signed-in user of the current request, or null. */
export async function currentUser(): Promise<SessionUser | null> {
  return (await currentSession())?.user ?? null;
}
