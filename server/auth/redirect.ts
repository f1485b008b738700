/**
 * The one rule for "where to go after signing in" (`?next=`), used by the
 * sign-in page and its action: only a path on this site. Anything that a
 * browser could read as another site is replaced by the default: absolute
 * URLs, protocol-relative `//host`, backslash forms (`/\host`, `\\host`,
 * which browsers treat as `//`), control characters (a tab or newline inside
 * `/\t/host` is dropped by browsers), paths that become `//host` once their
 * dot segments are resolved (`/..//host`), and paths back to the sign-in page.
 */
export const DEFAULT_AFTER_SIGN_IN = "/tasks";

export function safeRedirectPath(next: unknown, fallback = DEFAULT_AFTER_SIGN_IN): string {
  if (typeof next !== "string" || next.length === 0 || next.length > 2000) return fallback;
  if (!next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return fallback;
  if (/[\u0000-\u001f\u007f]/.test(next)) return fallback;
  const base = "http://portal.invalid";
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return fallback;
  }
  // Dot segments collapse while parsing ("/..//host" becomes "//host"): judge the result too.
  if (url.origin !== base || url.pathname.startsWith("//")) return fallback;
  if (url.pathname === "/signin" || url.pathname.startsWith("/signin/") || url.pathname.startsWith("/api/")) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}
