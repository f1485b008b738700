import { Suspense } from "react";
import { requireUser } from "../guards.ts";
import { MyUsage } from "@/app/_components/usage/my-usage.tsx";
import { History } from "./history.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "My history" };

export const dynamic = "force-dynamic";

export default async function HistoryPage() {
  await requireUser();
  return (
    <>
      <h1>My history</h1>
      <div className="stack">
        <MyUsage />
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <History />
        </Suspense>
      </div>
    </>
  );
}
