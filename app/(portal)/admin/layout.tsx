import { notFound } from "next/navigation";
import type { ReactNode } from "react";
import { currentUser } from "@/server/auth/current-user.ts";

export const dynamic = "force-dynamic";

/** Admin pages: for admins only; to anyone else they do not exist. (Every procedure they use checks too.) */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
  if (user?.role !== "admin") notFound();
  return <>{children}</>;
}
