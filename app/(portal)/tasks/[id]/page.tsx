import { requireUser } from "../../guards.ts";
import { TaskDetail } from "./task-detail.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "Task" };

export const dynamic = "force-dynamic";

export default async function TaskPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireUser();
  return <TaskDetail id={id} />;
}
