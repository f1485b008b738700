import { callbackRoute } from "@/server/callbacks/callbacks.ts";
import { getServices } from "@/server/app-services.ts";
import { registerApiRoute } from "@/server/http/api-routes.ts";

export const dynamic = "force-dynamic";

const receive = callbackRoute(() => {
  const { db, provider, config } = getServices();
  return { db, provider, serverSecret: config.authSecret };
});

// The portal's web server calls the same handler directly (server/http/api-routes.ts).
registerApiRoute("callback", receive);

/** Receives the provider's task callbacks (see server/callbacks/). */
export async function POST(req: Request, ctx: { params: Promise<{ taskId: string }> }) {
  return receive(req, (await ctx.params).taskId);
}
