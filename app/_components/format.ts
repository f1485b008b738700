/** Small display helpers shared by the pages. */

/** Money as the pages show it: rounded to the cent, with its currency. */
export function money(amount: number, currency: string): string {
  return `${amount.toFixed(2)} ${currency}`;
}

/** A date and time in the browser's locale, or a dash. */
export function when(date: Date | null | undefined): string {
  return date ? date.toLocaleString() : "—";
}

/** A yyyy-mm-dd day (UTC) as the instant it starts, or with `end` the instant after it; undefined when not a day. */
export function utcDay(day: string, end = false): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const start = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(start.getTime())) return undefined;
  return end ? new Date(start.getTime() + 86_400_000) : start;
}
