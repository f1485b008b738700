import { auth } from "@/server/auth/auth.ts";
import { AppError, httpStatusOf } from "@/server/errors.ts";
import { getServices } from "@/server/services.ts";
import { openTaskVideo } from "@/server/storage/archive.ts";
import { getSessionUser } from "@/server/users/users.ts";

export const dynamic = "force-dynamic";

/** A task's archived video, for its owner and admins, with Range support for <video>. */
export async function GET(req: Request, ctx: { params: Promise<{ taskId: string }> }) {
  const { taskId } = await ctx.params;
  const services = getServices();
  const sessionUserId = (await auth())?.user?.id;
  const user = sessionUserId ? await getSessionUser(services.db, sessionUserId) : null;
  if (!user) return new Response("Sign in to watch this video", { status: 401 });
  const range = parseRange(req.headers.get("range"));
  if (range === "invalid") return new Response("Invalid Range", { status: 416 });
  try {
    const video = await openTaskVideo(services, user, taskId, range);
    const headers: Record<string, string> = {
      "Content-Type": video.contentType,
      "Accept-Ranges": "bytes",
      "Cache-Control": "private, max-age=3600",
    };
    if (video.range) {
      headers["Content-Range"] = `bytes ${video.range.start}-${video.range.end}/${video.size}`;
      headers["Content-Length"] = String(video.range.end - video.range.start + 1);
      return new Response(video.body, { status: 206, headers });
    }
    headers["Content-Length"] = String(video.size);
    return new Response(video.body, { status: 200, headers });
  } catch (err) {
    if (err instanceof AppError) return new Response(err.message, { status: httpStatusOf[err.code] });
    throw err;
  }
}

function parseRange(header: string | null): { start: number; end?: number } | undefined | "invalid" {
  if (!header) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return "invalid";
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : undefined;
  return end !== undefined && end < start ? "invalid" : { start, end };
}
