import { handleProviderCallback, MAX_CALLBACK_BYTES } from "@/server/callbacks/callbacks.ts";
import { AppError, httpStatusOf } from "@/server/errors.ts";
import { BodyTooLargeError, readTextWithin } from "@/server/http/body.ts";
import { getServices } from "@/server/services.ts";

export const dynamic = "force-dynamic";

/** Receives the provider's task callbacks (see server/callbacks/). */
export async function POST(req: Request, ctx: { params: Promise<{ taskId: string }> }) {
  const { taskId } = await ctx.params;
  const { db, provider, config } = getServices();
  try {
    const rawBody = await readTextWithin(req, MAX_CALLBACK_BYTES);
    const token = new URL(req.url).searchParams.get("token");
    const result = await handleProviderCallback({ db, provider, serverSecret: config.authSecret }, { taskId, token, rawBody });
    return Response.json({ ok: true, outcome: result.outcome }, { status: result.outcome === "deferred" ? 202 : 200 });
  } catch (err) {
    if (err instanceof AppError) return Response.json({ error: err.message }, { status: httpStatusOf[err.code] });
    if (err instanceof BodyTooLargeError) return Response.json({ error: "Callback body too large" }, { status: 413 });
    console.error("callback failed:", err);
    return Response.json({ error: "Callback could not be processed" }, { status: 500 });
  }
}
