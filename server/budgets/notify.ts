/**
 * Budget threshold notices by mail (when SMTP is configured): the person and
 * the admins for a personal budget, the admins for the team's. The budgets
 * module marks each threshold once per budget and month, atomically, so each
 * notice goes out once.
 */
import type { Db } from "../db/client.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { BudgetAlert } from "./budgets.ts";

export function budgetNotifier(deps: { db: Db; mailer: Mailer | null; currency: string }): ((alerts: BudgetAlert[]) => Promise<void>) | undefined {
  const { mailer } = deps;
  if (!mailer) return undefined;
  return async (alerts) => {
    const admins = (await deps.db.user.findMany({ where: { role: "admin", status: "active" }, select: { email: true } })).map((a) => a.email);
    for (const alert of alerts) {
      const person = alert.userId ? await deps.db.user.findUnique({ where: { id: alert.userId }, select: { email: true } }) : null;
      const whose = alert.scope === "team" ? "The team" : (person?.email ?? "Someone");
      const pct = Math.round(alert.threshold * 100);
      const budget = alert.scope === "team" ? "the team's monthly budget" : "the monthly budget";
      const subject =
        alert.threshold >= 1
          ? `${whose} has reached ${alert.scope === "team" ? "the team's" : "their"} video budget for ${alert.month}`
          : `${whose} has used ${pct} % of ${alert.scope === "team" ? "the team's" : "their"} video budget for ${alert.month}`;
      const refused = alert.refusedEstimate !== undefined ? ` A video estimated at ${alert.refusedEstimate.toFixed(2)} ${deps.currency} was refused.` : "";
      const text =
        `${whose} has used ${alert.used.toFixed(2)} of ${alert.limit.toFixed(2)} ${deps.currency} of ${budget} for ${alert.month}.${refused}` +
        `${alert.threshold >= 1 ? " Videos that do not fit are refused until it renews or an admin raises it." : ""}\n`;
      const to = new Set([...(alert.scope === "personal" && person ? [person.email] : []), ...admins]);
      for (const address of to) await mailer.send({ to: address, subject, text });
    }
  };
}
