import { currentUser } from "@/server/auth/current-user.ts";
import { AppError, httpStatusOf } from "@/server/errors.ts";
import { parseRange, rangeNotSatisfiable, storedObjectResponse } from "@/server/http/range.ts";
import { RangeNotSatisfiableError } from "@/server/storage/storage.ts";
import { getServices } from "@/server/services.ts";
import { openTaskVideo } from "@/server/storage/archive.ts";

export const dynamic = "force-dynamic";

/** A task's archived video, for its owner and admins, with Range support for <video>. */
export async function GET(req: Request, ctx: { params: Promise<{ taskId: string }> }) {
  const { taskId } = await ctx.params;
  const services = getServices();
  const user = await currentUser(services);
  if (!user) return new Response("Sign in to watch this video", { status: 401 });
  const range = parseRange(req.headers.get("range"));
  if (range === "invalid") return rangeNotSatisfiable();
  try {
    const video = await openTaskVideo(services, user, taskId, range);
    return storedObjectResponse(video, { "Cache-Control": "private, max-age=3600" });
  } catch (err) {
    if (err instanceof AppError) return new Response(err.message, { status: httpStatusOf[err.code] });
    if (err instanceof RangeNotSatisfiableError) return rangeNotSatisfiable(err.size);
    throw err;
  }
}
