import Link from "next/link";
import type { ReactNode } from "react";
import { MainNav } from "../_components/main-nav.tsx";
import { TaskNotifier } from "../_components/task-notifier.tsx";
import { signOutAction } from "../signin/actions.ts";
import { requireUser } from "./guards.ts";

export const dynamic = "force-dynamic";

/** Every page in this group requires a signed-in user with a live session. */
export default async function PortalLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  return (
    <>
      <header className="topbar">
        <Link href="/tasks" className="brand">
          Wan video portal
        </Link>
        <MainNav admin={user.role === "admin"} />
        <form action={signOutAction} className="signout">
          <span className="muted">{user.email}</span>
          <button type="submit" className="link">
            Sign out
          </button>
        </form>
      </header>
      <main id="main" tabIndex={-1}>
        <TaskNotifier />
        {children}
      </main>
    </>
  );
}
