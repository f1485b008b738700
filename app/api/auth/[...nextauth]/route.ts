import { handlers } from "@/server/auth/auth.ts";

export const dynamic = "force-dynamic";
export const { GET, POST } = handlers;
