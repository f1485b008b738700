import { handlers } from "@/server/auth/auth.ts";
import { routeHandler } from "@/server/http/errors.ts";

export const dynamic = "force-dynamic";

export const GET = routeHandler("auth", (req: Request) => handlers.GET(req as Parameters<typeof handlers.GET>[0]));
export const POST = routeHandler("auth", (req: Request) => handlers.POST(req as Parameters<typeof handlers.POST>[0]));
