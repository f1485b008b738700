import Link from "next/link";
import type { ReactNode } from "react";
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
        <nav aria-label="Main">
          <Link href="/tasks/new">New video</Link>
          <Link href="/tasks">My history</Link>
          <Link href="/account">Account</Link>
          {user.role === "admin" && (
            <>
              <Link href="/admin/usage">Usage</Link>
              <Link href="/admin/members">Members</Link>
              <Link href="/admin/tasks">All tasks</Link>
              <Link href="/admin/audit">Audit</Link>
            </>
          )}
        </nav>
        <form action={signOutAction} className="signout">
          <span className="muted">{user.email}</span>
          <button type="submit" className="link">
            Sign out
          </button>
        </form>
      </header>
      <main>
        <TaskNotifier />
        {children}
      </main>
    </>
  );
}
