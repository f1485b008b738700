/**
 * Team-wide settings that admins change on the portal's pages (each change
 * audited in its transaction). Today: the reporting time zone, in which days
 * and months of usage and budgets are counted; its default comes from
 * REPORTING_TIME_ZONE, else UTC.
 */
import type { Prisma } from "../db/client.ts";
import { transaction, type Db } from "../db/client.ts";
import { recordAudit, type Actor } from "../audit/audit.ts";
import { AppError } from "../errors.ts";
import { isTimeZone } from "../usage/periods.ts";

const TIME_ZONE = "reportingTimeZone";

export async function reportingTimeZone(db: Pick<Db, "teamSetting">, fallback: string): Promise<string> {
  const row = await db.teamSetting.findUnique({ where: { key: TIME_ZONE } });
  return timeZoneOfSetting(row?.value, fallback);
}

/** The setting's stored value as a time zone (the fallback when unset or not a zone). */
export function timeZoneOfSetting(value: unknown, fallback: string): string {
  return typeof value === "string" && isTimeZone(value) ? value : fallback;
}

/** The setting's key, for a query that reads it alongside other things (one round trip). */
export const REPORTING_TIME_ZONE_KEY = TIME_ZONE;

export async function setReportingTimeZone(db: Db, actor: Actor, zone: string, fallback: string): Promise<string> {
  if (!isTimeZone(zone)) throw new AppError("BAD_REQUEST", `${zone} is not a time zone; use a name such as Europe/Paris or America/New_York.`, { timeZone: ["Use a time zone name such as Europe/Paris."] });
  return transaction(db, async (tx) => {
    const before = await reportingTimeZone(tx, fallback);
    if (before === zone) return zone;
    await tx.teamSetting.upsert({
      where: { key: TIME_ZONE },
      create: { key: TIME_ZONE, value: zone as Prisma.InputJsonValue, updatedById: actor.id },
      update: { value: zone as Prisma.InputJsonValue, updatedById: actor.id },
    });
    await recordAudit(tx, actor, { action: "settings.changed", targetType: "setting", targetId: TIME_ZONE, targetLabel: "Reporting time zone", before: { timeZone: before }, after: { timeZone: zone } });
    return zone;
  });
}
