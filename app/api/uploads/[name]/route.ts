import { AppError, httpStatusOf } from "@/server/errors.ts";
import { parseRange, rangeNotSatisfiable, storedObjectResponse } from "@/server/http/range.ts";
import { RangeNotSatisfiableError } from "@/server/storage/storage.ts";
import { getServices } from "@/server/services.ts";
import { openUpload } from "@/server/uploads/uploads.ts";

export const dynamic = "force-dynamic";

/**
 * An uploaded file, for whoever holds its link: the provider fetches it with
 * no session, so the `token` in the link is the authorisation (404 without it).
 */
export async function GET(req: Request, ctx: { params: Promise<{ name: string }> }) {
  const { name } = await ctx.params;
  const range = parseRange(req.headers.get("range"));
  if (range === "invalid") return rangeNotSatisfiable();
  const { storage, config } = getServices();
  try {
    const file = await openUpload({ storage, serverSecret: config.authSecret }, name, new URL(req.url).searchParams.get("token"), range);
    // Never sniffed as anything but the media type it was checked to be.
    return storedObjectResponse(file, { "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff" });
  } catch (err) {
    if (err instanceof RangeNotSatisfiableError) return rangeNotSatisfiable(err.size);
    if (err instanceof AppError) return new Response(err.message, { status: httpStatusOf[err.code] });
    throw err;
  }
}
