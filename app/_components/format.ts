/** Small display helpers shared by the pages. */

/** Money as the pages show it: rounded to the cent, with its currency. */
export function money(amount: number, currency: string): string {
  return `${amount.toFixed(2)} ${currency}`;
}

/** A date and time in the browser's locale, or a dash. */
export function when(date: Date | null | undefined): string {
  return date ? date.toLocaleString() : "—";
}
