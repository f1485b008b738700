/**
 * The session check every portal page runs itself. Layouts are not rendered
 * again when a person moves between pages inside them, so a check in the
 * layout alone would let an open browser keep navigating after its session
 * was revoked; each page's own check makes the next request sign it out.
 */
import { notFound, redirect } from "next/navigation";
import { currentUser } from "@/server/auth/current-user.ts";
import type { SessionUser } from "@/server/users/users.ts";

/** The signed-in person, or a redirect to the sign-in page. */
export async function requireUser(): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect("/signin");
  return user;
}

/** An admin, or "not found" for anyone else (admin pages do not exist for members). */
export async function requireAdmin(): Promise<SessionUser> {
  const user = await requireUser();
  if (user.role !== "admin") notFound();
  return user;
}
