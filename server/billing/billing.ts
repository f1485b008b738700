/**
 * Billing rules (../shared/evolink/API-NOTES.md): billed on the generated
 * video's duration in whole seconds; video_continuation bills the whole
 * `duration` (input clip included); failed tasks are unbilled unless the
 * provider reports otherwise. Prices come from configuration.
 */
import type { GenerationModeName, Quality } from "../generation/request-schema.ts";
import { roundMs } from "../media/rules.ts";

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

export interface EstimateRequest {
  mode: GenerationModeName;
  quality: Quality;
  /** The request's `duration` (for a continuation, the whole output, clip included). */
  durationSeconds: number;
  /** A continuation's measured clip length, when known. */
  inputClipSeconds?: number;
}

export interface Estimate {
  billedSeconds: number;
  pricePerSecond: number;
  cost: number;
  currency: string;
}

/**
 * What a request is estimated to cost if it completes: the billing rule on
 * its duration, at the price for its quality. null when the rule cannot
 * apply: a continuation whose duration is shorter than its measured clip is
 * refused (duration is the whole output, clip included). The form shows it,
 * and the task stores it and holds it against the budgets.
 */
export function estimateCost(prices: PriceTable, r: EstimateRequest): Estimate | null {
  if (r.mode === "video_continuation" && r.inputClipSeconds !== undefined && r.durationSeconds < roundMs(r.inputClipSeconds)) return null;
  const billedSeconds = billedSecondsFor({ mode: r.mode, durationSeconds: r.durationSeconds }, "completed");
  const pricePerSecond = prices.perSecond[r.quality];
  return { billedSeconds, pricePerSecond, cost: costAt(pricePerSecond, billedSeconds), currency: prices.currency };
}
