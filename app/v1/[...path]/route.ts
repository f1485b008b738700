import { getServices } from "@/server/app-services.ts";
import { registerApiRoute } from "@/server/http/api-routes.ts";
import { v1Route } from "@/server/v1/routes.ts";

export const dynamic = "force-dynamic";

const serve = v1Route(() => getServices().v1);

// The portal's web server calls the same handler directly (server/http/api-routes.ts).
registerApiRoute("v1", serve);

type Ctx = { params: Promise<{ path: string[] }> };
const handle = async (req: Request, ctx: Ctx) => serve(req, (await ctx.params).path.map(encodeURIComponent).join("/"));

/** The Evolink-compatible API with personal keys (see server/v1/). */
export const GET = handle;
export const POST = handle;
export const HEAD = handle;
