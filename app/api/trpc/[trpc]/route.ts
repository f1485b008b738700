import { trpcRoute } from "@/server/api/handler.ts";
import { getServices } from "@/server/app-services.ts";
import { registerApiRoute } from "@/server/http/api-routes.ts";

export const dynamic = "force-dynamic";

const handler = trpcRoute(getServices);
// The portal's web server calls the same handler directly (server/http/api-routes.ts).
registerApiRoute("trpc", (req) => handler(req, undefined));

export { handler as GET, handler as POST };
