/**
 * Retries with exponential backoff, full jitter and a total deadline.
 *
 * The delay before retry n (n = 1, 2, ...) is uniform in
 * [0, min(capMs, baseMs * 2^(n-1))) ("full jitter"), raised to the error's
 * own wait when it names one (a 429's Retry-After: never sooner than the
 * provider says). When that wait would end past the deadline, the last error
 * is thrown at once instead of sleeping for nothing. Clock, sleep and random
 * are injectable so the schedule can be unit-tested without real time.
 */
import { ProviderError } from "./types.ts";

export interface RetryPolicy {
  /** First backoff ceiling; doubles each retry. */
  baseMs: number;
  /** Largest backoff ceiling. */
  capMs: number;
  /** Total time budget from the first attempt; no attempt starts (and no wait ends) after it. */
  deadlineMs: number;
  /** Upper bound on attempts, the first included. Default: unlimited (the deadline decides). */
  maxAttempts?: number;
  /** Which errors are worth another attempt. Default: `ProviderError.retryable`. */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  /** A minimum wait the error itself demands, in ms. Default: a ProviderError's `retryAfterSeconds`. */
  minDelayMs?: (err: unknown) => number | undefined;
  /** Told before each wait; e.g. for a log line. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Returns [0, 1). */
  random?: () => number;
}

export interface RetryContext {
  /** 0 for the first attempt. */
  attempt: number;
  /** Absolute time (same clock as `policy.now`) after which no attempt should still be running. */
  deadlineAt: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function defaultShouldRetry(err: unknown): boolean {
  return err instanceof ProviderError && err.retryable;
}

export function defaultMinDelayMs(err: unknown): number | undefined {
  const seconds = err instanceof ProviderError ? err.details.retryAfterSeconds : undefined;
  return seconds !== undefined ? seconds * 1000 : undefined;
}

/** The full-jitter backoff before retry number `retry` (1-based), without any Retry-After floor. */
export function backoffDelayMs(policy: Pick<RetryPolicy, "baseMs" | "capMs">, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

export async function withRetry<T>(fn: (ctx: RetryContext) => Promise<T>, policy: RetryPolicy): Promise<T> {
  const now = policy.now ?? Date.now;
  const sleep = policy.sleep ?? defaultSleep;
  const random = policy.random ?? Math.random;
  const shouldRetry = policy.shouldRetry ?? defaultShouldRetry;
  const minDelayMs = policy.minDelayMs ?? defaultMinDelayMs;
  const deadlineAt = now() + policy.deadlineMs;

  for (let attempt = 0; ; attempt++) {
    try {
      return await fn({ attempt, deadlineAt });
    } catch (err) {
      if (!shouldRetry(err, attempt)) throw err;
      if (policy.maxAttempts !== undefined && attempt + 1 >= policy.maxAttempts) throw err;
      const delayMs = Math.max(backoffDelayMs(policy, attempt + 1, random), minDelayMs(err) ?? 0);
      // Waiting past the deadline only to give up afterwards helps nobody.
      if (now() + delayMs >= deadlineAt) throw err;
      policy.onRetry?.({ attempt: attempt + 1, delayMs, error: err });
      await sleep(delayMs);
    }
  }
}
