import { trpcRoute } from "@/server/api/handler.ts";
import { getServices } from "@/server/app-services.ts";

export const dynamic = "force-dynamic";

const handler = trpcRoute(getServices);

export { handler as GET, handler as POST };
