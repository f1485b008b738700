import { handleProviderCallback, MAX_CALLBACK_BYTES } from "@/server/callbacks/callbacks.ts";
import { AppError, httpStatusOf } from "@/server/errors.ts";
import { getServices } from "@/server/services.ts";

export const dynamic = "force-dynamic";

/** Receives the provider's task callbacks (see server/callbacks/). */
export async function POST(req: Request, ctx: { params: Promise<{ taskId: string }> }) {
  const { taskId } = await ctx.params;
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_CALLBACK_BYTES) return Response.json({ error: "Callback body too large" }, { status: 413 });
  const { db, provider, config } = getServices();
  try {
    const rawBody = await req.text();
    const token = new URL(req.url).searchParams.get("token");
    const result = await handleProviderCallback({ db, provider, serverSecret: config.authSecret }, { taskId, token, rawBody });
    return Response.json({ ok: true, outcome: result.outcome }, { status: result.outcome === "deferred" ? 202 : 200 });
  } catch (err) {
    if (err instanceof AppError) return Response.json({ error: err.message }, { status: httpStatusOf[err.code] });
    console.error("callback failed:", err);
    return Response.json({ error: "Callback could not be processed" }, { status: 500 });
  }
}
