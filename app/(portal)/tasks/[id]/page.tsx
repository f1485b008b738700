import type { Metadata } from "next";
import { requireUser } from "../../guards.ts";
import { TaskDetail } from "./task-detail.tsx";

/** "Task 1a2b3c4d": tabs of several tasks tell themselves apart (the id only: no lookup before the session check). */
export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const { id } = await params;
  return { title: `Task ${id.slice(0, 8)}` };
}

export const dynamic = "force-dynamic";

export default async function TaskPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireUser();
  return <TaskDetail id={id} />;
}
