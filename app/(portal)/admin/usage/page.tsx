import { requireAdmin } from "../../guards.ts";
import { UsageDashboard } from "./usage-dashboard.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "Usage" };

export const dynamic = "force-dynamic";

export default async function UsagePage() {
  await requireAdmin();
  return (
    <>
      <h1>Usage</h1>
      <UsageDashboard />
    </>
  );
}
