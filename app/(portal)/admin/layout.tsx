import type { ReactNode } from "react";
import { requireAdmin } from "../guards.ts";

export const dynamic = "force-dynamic";

/** Admin pages: for admins only; to anyone else they do not exist. (Each page and every procedure checks too.) */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  await requireAdmin();
  return <>{children}</>;
}
