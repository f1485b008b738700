import { currentUser } from "@/server/auth/current-user.ts";
import { TaskDetail } from "./task-detail.tsx";

export const dynamic = "force-dynamic";

export default async function TaskPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  // The layout has checked the session; the viewer decides how the owner is named.
  const viewer = await currentUser();
  return <TaskDetail id={id} viewerId={viewer?.id ?? ""} />;
}
