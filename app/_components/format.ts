/** Small display helpers shared by the pages. */

/**
 * Money as the pages show it: rounded half up to the cent, with its currency.
 * Amounts are stored with 6 decimals: rounding them to whole micro-units
 * first undoes the binary error that would make 1.005 show as 1.00 while a
 * spreadsheet rounds the CSV's 1.005000 to 1.01.
 */
export function money(amount: number, currency: string): string {
  const micro = Math.round(Math.abs(amount) * 1e6);
  const cents = Math.round(micro / 1e4);
  return `${amount < 0 && cents > 0 ? "-" : ""}${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")} ${currency}`;
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
