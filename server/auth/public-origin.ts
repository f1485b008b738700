/**
 * Auth.js builds the URLs of its own endpoints (`/api/auth/*`: a single
 * sign-on's start, the `redirect_uri` it gives the provider, the redirects
 * after the callback) from the request's URL. Next.js gives a route handler
 * the URL this instance listens on (`http://localhost:<PORT>`; it also writes
 * 127.0.0.1 as localhost), which behind a proxy is not where people are, and
 * the provider then sends the browser to an address it cannot reach. So the
 * route hands Auth.js the request at PUBLIC_BASE_URL's origin instead: the
 * address people use, set by the operator, never read from a header.
 * (AUTH_URL would do the same through next-auth, but next-auth passes it
 * through Next.js's URL, which turns 127.0.0.1 into localhost.)
 * Server actions (the sign-in form) build theirs from the Host and
 * X-Forwarded-* headers, which the web server keeps from trusted proxies only.
 */
export async function atPublicOrigin(req: Request, publicBaseUrl: string): Promise<Request> {
  const url = new URL(req.url);
  const origin = new URL(publicBaseUrl).origin;
  if (url.origin === origin) return req;
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
  return new Request(`${origin}${url.pathname}${url.search}`, { method: req.method, headers: req.headers, body, redirect: "manual" });
}
