import { getServices } from "@/server/app-services.ts";
import { checkReadiness } from "@/server/health/readiness.ts";
import { routeHandler } from "@/server/http/errors.ts";

export const dynamic = "force-dynamic";

/** Readiness for a load balancer: 200 when this instance can serve, else 503 with what to fix (server/health/readiness.ts). */
export const GET = routeHandler("ready", async () => {
  const { db } = getServices();
  const readiness = await checkReadiness({ query: (sql) => db.$queryRawUnsafe(sql) });
  return Response.json(readiness, { status: readiness.ready ? 200 : 503, headers: { "cache-control": "no-store" } });
});
