import type { Services } from "../services.ts";
import { getSessionUser, type SessionUser } from "../users/users.ts";
import { auth } from "./auth.ts";

/** The signed-in user of the current request, as the database has it now (role included), or null. */
export async function currentUser(services: Pick<Services, "db">): Promise<SessionUser | null> {
  const id = (await auth())?.user?.id;
  return id ? getSessionUser(services.db, id) : null;
}
