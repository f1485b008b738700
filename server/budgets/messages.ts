/**
 * The words of a budget refusal, one sentence for the server's refusal and
 * the form's (which refuses before anything is sent). Pure: the browser
 * imports it.
 */

/** "2026-12-01" -> "1 December 2026" (the day as written, whatever the zone). */
export function renewsLabel(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
}

export interface OverBudget {
  scope: "personal" | "team";
  estimate: number;
  /** What is left of the budget this month (never below 0). */
  left: number;
  limit: number;
  currency: string;
  /** The first day of the next budget month, YYYY-MM-DD. */
  renewsOn: string;
}

/** Sends people to what they can do: what remains, what this would cost, when it renews. */
export function overBudgetMessage(o: OverBudget): string {
  const whose = o.scope === "personal" ? "your monthly budget" : "the team's monthly budget";
  return (
    `This video is estimated at ${o.estimate.toFixed(2)} ${o.currency}, but ${whose} has ${Math.max(0, o.left).toFixed(2)} ${o.currency} left ` +
    `(of ${o.limit.toFixed(2)} ${o.currency}). It renews on ${renewsLabel(o.renewsOn)}. Choose a shorter or 720p video, or ask an admin.`
  );
}
