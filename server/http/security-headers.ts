/**
 * The security headers of every answer (set by server/http/web-server.ts):
 * a Content-Security-Policy with a fresh nonce per request (Next.js puts it
 * on its own scripts), no framing by other sites, no MIME sniffing, no
 * Referer to other sites, HSTS when the portal is served over https; and the
 * cross-site rule for state-changing requests.
 */

export interface SecurityHeaderOptions {
  /** A fresh random value per request (base64). */
  nonce: string;
  /** The portal is served over https (PUBLIC_BASE_URL): HSTS and upgrade-insecure-requests. */
  https: boolean;
  /** Other origins videos and images are shown from over http (the local simulator's). */
  mediaOrigins: string[];
  /** Where a form may lead besides the portal: the single sign-on provider's origin. */
  formOrigins?: string[];
  /** `next dev` needs eval and its websocket. */
  dev?: boolean;
}

export function contentSecurityPolicy(o: SecurityHeaderOptions): string {
  const media = ["'self'", "blob:", "https:", ...o.mediaOrigins].join(" ");
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${o.nonce}' 'strict-dynamic'${o.dev ? " 'unsafe-eval'" : ""}`,
    // React sets style attributes (progress bars); no inline <style> needs a nonce.
    "style-src 'self' 'unsafe-inline'",
    `img-src ${media} data:`,
    `media-src ${media}`,
    `connect-src 'self'${o.dev ? " ws: wss:" : ""}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    `form-action 'self'${(o.formOrigins ?? []).map((origin) => ` ${origin}`).join("")}`,
    "frame-ancestors 'none'",
    ...(o.https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

export function securityHeaders(o: SecurityHeaderOptions): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(o),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    ...(o.https ? { "Strict-Transport-Security": "max-age=31536000" } : {}),
  };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * True for a state-changing request that a browser sent from another site:
 * its Origin is neither the portal's public origin nor the host it was sent
 * to (or, without Origin, Sec-Fetch-Site says cross-site). Requests without
 * either header come from programs, not from a browser page, and carry no
 * ambient cookie risk; the provider's callbacks are among them.
 */
export function isCrossSiteWrite(req: { method?: string; headers: Record<string, string | string[] | undefined> }, publicOrigin: string): boolean {
  if (SAFE_METHODS.has((req.method ?? "GET").toUpperCase())) return false;
  const origin = header(req.headers.origin);
  if (origin !== undefined) {
    if (origin === publicOrigin) return false;
    if (!URL.canParse(origin)) return true; // "null" (sandboxed frames, privacy redirects) included
    return new URL(origin).host !== header(req.headers.host);
  }
  const site = header(req.headers["sec-fetch-site"]);
  return site === "cross-site" || site === "same-site";
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
