import { callbackRoute } from "@/server/callbacks/callbacks.ts";
import { getServices } from "@/server/app-services.ts";

export const dynamic = "force-dynamic";

const receive = callbackRoute(() => {
  const { db, provider, config } = getServices();
  return { db, provider, serverSecret: config.authSecret };
});

/** Receives the provider's task callbacks (see server/callbacks/). */
export async function POST(req: Request, ctx: { params: Promise<{ taskId: string }> }) {
  return receive(req, (await ctx.params).taskId);
}
