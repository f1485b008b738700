import { authRoutes } from "@/server/auth/auth.ts";
import { routeHandler } from "@/server/http/errors.ts";

export const dynamic = "force-dynamic";

export const GET = routeHandler("auth", (req: Request) => authRoutes.GET(req));
export const POST = routeHandler("auth", (req: Request) => authRoutes.POST(req));
