import { routeHandler } from "@/server/http/errors.ts";

export const dynamic = "force-dynamic";

export const GET = routeHandler("health", () => Response.json({ ok: true }));
