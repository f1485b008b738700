import { currentUser } from "@/server/auth/current-user.ts";
import { getServices } from "@/server/app-services.ts";
import { taskVideoRoute } from "@/server/storage/archive.ts";

export const dynamic = "force-dynamic";

const serve = taskVideoRoute(() => {
  const services = getServices();
  return { db: services.db, storage: services.storage, currentUser };
});

/** A task's archived video, for its owner and admins, with Range support for <video>. */
export async function GET(req: Request, ctx: { params: Promise<{ taskId: string }> }) {
  return serve(req, (await ctx.params).taskId);
}
