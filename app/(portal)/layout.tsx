import Link from "next/link";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { auth } from "@/server/auth/auth.ts";
import { signOutAction } from "../signin/actions.ts";

export const dynamic = "force-dynamic";

/** Every page in this group requires a signed-in user. */
export default async function PortalLayout({ children }: { children: ReactNode }) {
  const session = await auth();
  if (!session?.user) redirect("/signin");
  return (
    <>
      <header className="topbar">
        <Link href="/tasks" className="brand">
          Wan video portal
        </Link>
        <nav>
          <Link href="/tasks/new">New video</Link>
          <Link href="/tasks">My history</Link>
        </nav>
        <form action={signOutAction} className="signout">
          <span className="muted">{session.user.email}</span>
          <button type="submit" className="link">
            Sign out
          </button>
        </form>
      </header>
      <main>{children}</main>
    </>
  );
}
