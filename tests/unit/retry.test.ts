/**
 * withRetry on a fake clock: the backoff schedule (exponential, full jitter,
 * capped), Retry-After as a floor, the total deadline, and what is retried.
 */
import { describe, expect, it } from "vitest";
import { backoffDelayMs, withRetry, type RetryPolicy } from "../../server/provider/retry.ts";
import { ProviderError, type ProviderErrorKind } from "../../server/provider/types.ts";

/** A clock that only moves when the code under test sleeps (or an attempt "takes" time). */
function fakeClock(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    elapsed: () => now - start,
  };
}

const err = (kind: ProviderErrorKind, details: ProviderError["details"] = {}) => new ProviderError(kind, kind, details);

/** fn that throws the given errors in order, then returns "ok". */
function script(...errors: unknown[]) {
  let calls = 0;
  const fn = async () => {
    const e = errors[calls];
    calls += 1;
    if (e !== undefined) throw e;
    return "ok";
  };
  return { fn, calls: () => calls };
}

function policy(clock: ReturnType<typeof fakeClock>, extra: Partial<RetryPolicy> = {}): RetryPolicy {
  return { baseMs: 100, capMs: 1_000, deadlineMs: 10_000, now: clock.now, sleep: clock.sleep, random: () => 0.5, ...extra };
}

describe("backoffDelayMs", () => {
  it("doubles the ceiling per retry up to the cap, and jitters within it", () => {
    const p = { baseMs: 100, capMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(p, n, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelayMs(p, 3, () => 0)).toBe(0);
    expect(backoffDelayMs(p, 3, () => 0.5)).toBe(200);
  });
});

describe("withRetry", () => {
  it("returns the first success without sleeping", async () => {
    const clock = fakeClock();
    const s = script();
    await expect(withRetry(s.fn, policy(clock))).resolves.toBe("ok");
    expect(s.calls()).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it("retries retryable ProviderErrors with full-jitter exponential backoff", async () => {
    const clock = fakeClock();
    const s = script(err("unavailable"), err("upstream"), err("network"), err("rate_limited"));
    const attempts: number[] = [];
    await expect(withRetry(async (ctx) => (attempts.push(ctx.attempt), s.fn()), policy(clock))).resolves.toBe("ok");
    expect(attempts).toEqual([0, 1, 2, 3, 4]);
    // random() = 0.5 of ceilings 100, 200, 400, 800
    expect(clock.sleeps).toEqual([50, 100, 200, 400]);
  });

  it("caps the backoff", async () => {
    const clock = fakeClock();
    const s = script(...Array.from({ length: 8 }, () => err("unavailable")));
    await withRetry(s.fn, policy(clock, { random: () => 0.999 }));
    expect(Math.max(...clock.sleeps)).toBe(999);
    expect(clock.sleeps.slice(-3)).toEqual([999, 999, 999]);
  });

  it.each(["bad_request", "unauthenticated", "insufficient_quota", "forbidden", "not_found", "too_large", "internal", "invalid_response"] as const)(
    "does not retry %s",
    async (kind) => {
      const clock = fakeClock();
      const s = script(err(kind));
      await expect(withRetry(s.fn, policy(clock))).rejects.toMatchObject({ kind });
      expect(s.calls()).toBe(1);
      expect(clock.sleeps).toEqual([]);
    },
  );

  it("does not retry errors that are not ProviderErrors by default", async () => {
    const clock = fakeClock();
    const s = script(new TypeError("bug"));
    await expect(withRetry(s.fn, policy(clock))).rejects.toThrow("bug");
    expect(s.calls()).toBe(1);
  });

  it("does not retry a create whose outcome is unknown, even of a retryable kind", async () => {
    const clock = fakeClock();
    const unknown = err("upstream", { outcomeUnknown: true });
    expect(unknown.retryable).toBe(false);
    const s = script(unknown);
    await expect(withRetry(s.fn, policy(clock))).rejects.toBe(unknown);
    expect(s.calls()).toBe(1);
  });

  it("never retries sooner than Retry-After says", async () => {
    const clock = fakeClock();
    const s = script(err("rate_limited", { retryAfterSeconds: 3 }), err("rate_limited", { retryAfterSeconds: 0 }));
    await withRetry(s.fn, policy(clock));
    // 3 s beats the 50 ms backoff; 0 s leaves the 100 ms backoff.
    expect(clock.sleeps).toEqual([3_000, 100]);
  });

  it("gives up with the last error once the deadline is reached", async () => {
    const clock = fakeClock();
    const errors = Array.from({ length: 100 }, (_, i) => err("unavailable", { code: `e${i}` }));
    const s = script(...errors);
    const p = policy(clock, { deadlineMs: 1_000, random: () => 0.999 });
    const thrown = await withRetry(async () => {
      clock.advance(10); // each attempt takes 10 ms
      return s.fn();
    }, p).catch((e: unknown) => e);
    expect(thrown).toBe(errors[s.calls() - 1]);
    // Sleeps 99, 199, 399 (+10 ms per attempt = 737 ms); the next 799 would end past the deadline.
    expect(clock.sleeps).toEqual([99, 199, 399]);
    expect(s.calls()).toBe(4);
    expect(clock.elapsed()).toBeLessThanOrEqual(1_000);
  });

  it("throws at once when Retry-After points past the deadline", async () => {
    const clock = fakeClock();
    const limited = err("rate_limited", { retryAfterSeconds: 60 });
    const s = script(limited);
    await expect(withRetry(s.fn, policy(clock, { deadlineMs: 30_000 }))).rejects.toBe(limited);
    expect(clock.sleeps).toEqual([]);
  });

  it("hands each attempt the absolute deadline", async () => {
    const clock = fakeClock(5_000);
    const seen: number[] = [];
    const s = script(err("network"));
    await withRetry(async (ctx) => (seen.push(ctx.deadlineAt), s.fn()), policy(clock, { deadlineMs: 2_000 }));
    expect(seen).toEqual([7_000, 7_000]);
  });

  it("honours maxAttempts, a custom shouldRetry and reports each retry", async () => {
    const clock = fakeClock();
    const retries: Array<{ attempt: number; delayMs: number }> = [];
    const s = script(new Error("a"), new Error("b"), new Error("c"));
    await expect(
      withRetry(s.fn, policy(clock, { maxAttempts: 2, shouldRetry: () => true, onRetry: ({ attempt, delayMs }) => retries.push({ attempt, delayMs }) })),
    ).rejects.toThrow("b");
    expect(s.calls()).toBe(2);
    expect(retries).toEqual([{ attempt: 1, delayMs: 50 }]);
  });
});
