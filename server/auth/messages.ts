/**
 * What a refused sign-in says, for the sign-in page and its action: the same
 * words for an unknown email and a wrong password; for a throttled attempt,
 * the time to wait, carried in Auth.js's error code (`throttled_<seconds>`).
 */
export function throttledCode(retryAfterSeconds: number): string {
  return `throttled_${retryAfterSeconds}`;
}

/** The seconds to wait named by an error code, or null when the code is not a throttle's. */
export function retryAfterOf(code: unknown): number | null {
  const m = typeof code === "string" ? /^throttled_(\d{1,6})$/.exec(code) : null;
  return m ? Number(m[1]) : null;
}

export function signInRefusalMessage(retryAfterSeconds: number | null): string {
  if (retryAfterSeconds === null) return "Wrong email or password.";
  return `Too many failed sign-ins. Wait ${formatWait(retryAfterSeconds)} and try again.`;
}

export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}
