import { getServices } from "@/server/app-services.ts";
import { currentUser } from "@/server/auth/current-user.ts";
import { peopleCsvRoute } from "@/server/usage/export.ts";

export const dynamic = "force-dynamic";

/** The per-person usage table of a period, as CSV (admins). */
export const GET = peopleCsvRoute(() => {
  const { db, config } = getServices();
  return { db, databaseUrl: config.databaseUrl, defaultTimeZone: config.defaultTimeZone, currency: config.prices.currency, currentUser };
});
