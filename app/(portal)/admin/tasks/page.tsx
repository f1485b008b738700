import { requireAdmin } from "../../guards.ts";
import { AllTasks } from "./all-tasks.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "All tasks" };

export const dynamic = "force-dynamic";

const one = (v: string | string[] | undefined) => (typeof v === "string" ? v.slice(0, 100) : "");

export default async function AllTasksPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requireAdmin();
  const q = await searchParams;
  const status = one(q.status);
  const mode = one(q.mode);
  return (
    <>
      <h1>All tasks</h1>
      <AllTasks
        initial={{
          userId: one(q.user),
          status: (["submitting", "pending", "processing", "completed", "failed"] as const).find((s) => s === status) ?? "",
          mode: (["first_frame", "first_last_frame", "video_continuation"] as const).find((m) => m === mode) ?? "",
          from: one(q.from),
          to: one(q.to),
          ...(!Number.isNaN(Date.parse(one(q.since))) && { since: one(q.since) }),
          ...(!Number.isNaN(Date.parse(one(q.until))) && { until: one(q.until) }),
        }}
      />
    </>
  );
}
