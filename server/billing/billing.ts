/**
 * Billing rules (../shared/evolink/API-NOTES.md): billed on the generated
 * video's duration in whole seconds; video_continuation bills the whole
 * `duration` (input clip included); failed tasks are unbilled unless the
 * provider reports otherwise. Prices come from configuration.
 */
import type { GenerationModeName, Quality } from "../generation/request-schema.ts";

export type PriceTable = { currency: string; perSecond: Record<Quality, number> };

/** Seconds billed for a task that ended with `status`. */
export function billedSecondsFor(task: { mode: GenerationModeName; durationSeconds: number }, status: "completed" | "failed"): number {
  if (status === "failed") return 0;
  // All three modes bill `duration`: for continuation it is the total output.
  return task.durationSeconds;
}

/** Cost of `seconds` at `pricePerSecond`, rounded to the 6 decimals the database keeps. */
export function costAt(pricePerSecond: number, seconds: number): number {
  return Math.round(pricePerSecond * seconds * 1e6) / 1e6;
}

/** Cost in the configured currency of `seconds` at the price for `quality`. */
export function costFor(prices: PriceTable, quality: Quality, seconds: number): number {
  return costAt(prices.perSecond[quality], seconds);
}
