import { requireUser } from "../../guards.ts";
import { TaskDetail } from "./task-detail.tsx";

export const dynamic = "force-dynamic";

export default async function TaskPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireUser();
  return <TaskDetail id={id} />;
}
