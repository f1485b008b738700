"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useState } from "react";

const MEMBER_LINKS = [
  ["/tasks/new", "New video"],
  ["/tasks", "My history"],
  ["/account", "Account"],
  ["/account/keys", "API keys"],
] as const;
const ADMIN_LINKS = [
  ["/admin/usage", "Usage"],
  ["/admin/members", "Members"],
  ["/admin/tasks", "All tasks"],
  ["/admin/keys", "All API keys"],
  ["/admin/audit", "Audit"],
] as const;

/** The link a path belongs to: the longest one that is the path or a folder of it (/tasks/abc is in My history, /tasks/new is not). */
function currentOf(pathname: string, hrefs: readonly string[]): string | null {
  const matches = hrefs.filter((h) => pathname === h || (pathname.startsWith(`${h}/`) && !hrefs.some((o) => o !== h && o.startsWith(`${h}/`) && pathname.startsWith(o))));
  return matches.sort((a, b) => b.length - a.length)[0] ?? null;
}

/** The main navigation: the current page marked; on phones, behind a Menu button. */
export function MainNav({ admin }: { admin: boolean }) {
  const pathname = usePathname();
  const [open, setOpen] = useState(false);
  // A link followed on a phone closes the menu.
  useEffect(() => setOpen(false), [pathname]);
  const links = admin ? [...MEMBER_LINKS, ...ADMIN_LINKS] : MEMBER_LINKS;
  const current = currentOf(pathname, links.map(([href]) => href));
  return (
    <>
      <button type="button" className="nav-toggle secondary" aria-expanded={open} aria-controls="main-nav" onClick={() => setOpen((o) => !o)}>
        Menu
      </button>
      <nav id="main-nav" aria-label="Main" className={open ? "open" : undefined}>
        {links.map(([href, label]) => (
          <Link key={href} href={href} aria-current={href === current ? "page" : undefined}>
            {label}
          </Link>
        ))}
      </nav>
    </>
  );
}
