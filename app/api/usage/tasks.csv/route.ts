import { getServices } from "@/server/app-services.ts";
import { currentUser } from "@/server/auth/current-user.ts";
import { tasksCsvRoute } from "@/server/usage/export.ts";

export const dynamic = "force-dynamic";

/** Every task of a period, as CSV, streamed (admins). */
export const GET = tasksCsvRoute(() => {
  const { db, config } = getServices();
  return { db, databaseUrl: config.databaseUrl, defaultTimeZone: config.defaultTimeZone, currency: config.prices.currency, currentUser };
});
