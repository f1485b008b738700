import { getServices } from "@/server/app-services.ts";
import { uploadedFileRoute } from "@/server/uploads/routes.ts";

export const dynamic = "force-dynamic";

const serve = uploadedFileRoute(() => {
  const { storage, config } = getServices();
  return { storage, serverSecret: config.authSecret };
});

/** An uploaded file for whoever holds its link: the token in the link is the authorisation (404 without it). */
export async function GET(req: Request, ctx: { params: Promise<{ name: string }> }) {
  return serve(req, (await ctx.params).name);
}
