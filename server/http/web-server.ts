/**
 * The portal's web server: Next.js's request handler behind a plain
 * node:http server of our own (docs/decisions/0009-own-web-server.md). Three
 * things must happen before Next.js sees a request, and `next start` cannot
 * do them:
 * - the client address is decided from the TCP peer and the trusted proxies
 *   only (Next.js keeps whatever X-Forwarded-For a client sends), and handed
 *   on in one header that no client can set (server/http/client-address.ts);
 * - every answer gets the security headers, with a fresh CSP nonce that
 *   Next.js then puts on its own scripts (server/http/security-headers.ts);
 * - a state-changing request sent by another site's page is refused before
 *   it reaches a route, a server action or tRPC.
 * It also answers tRPC and provider callbacks itself, through the same route
 * handlers but without Next.js's request handling around them (api-routes.ts).
 * It also stops gracefully: no new connections, in-flight requests finish
 * within the grace period (server/http/graceful.ts). Every request gets an
 * id (the trusted proxy's X-Request-Id, or a new one), answered in
 * X-Request-Id and carried on every log line of the request (server/logging/).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import next from "next";
import { apiRouteFor, serveApiRoute } from "./api-routes.ts";
import { graceful } from "./graceful.ts";
import { CLIENT_ADDRESS_HEADER, markServedByPortalServer, parseTrustedProxies, resolveClientAddress } from "./client-address.ts";
import type { ErrorBody } from "./errors.ts";
import { isCrossSiteWrite, securityHeaders } from "./security-headers.ts";
import { isMetricsRequest, serveMetrics } from "../metrics/http.ts";
import { pooledRandomBytes } from "../security/random.ts";
import { logger, withLogContext } from "../logging/logger.ts";
import { REQUEST_ID_HEADER, requestIdFor } from "../logging/request-id.ts";

export interface WebServerOptions {
  /** The project folder (where .next is). */
  dir: string;
  host: string;
  /** 0 = any free port. */
  port: number;
  /** PUBLIC_BASE_URL: the portal's own origin, and https or not. */
  publicBaseUrl: string;
  /** TRUSTED_PROXIES. */
  trustedProxies: string;
  /** Origins served over http that pages may show media from (the local simulator's). */
  mediaOrigins: string[];
  /** Origins a sign-in form may lead to (the single sign-on provider's). */
  formOrigins?: string[];
  /** METRICS_TOKEN: GET /metrics needs it as a bearer token; unset, /metrics is off. */
  metricsToken?: string;
  /** SHUTDOWN_GRACE_SECONDS in ms: how long `close()` lets requests in flight finish (default 20 s). */
  graceMs?: number;
  dev?: boolean;
}

export interface WebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const CROSS_SITE: ErrorBody = {
  error: { code: "FORBIDDEN", message: "This request came from another site's page; the portal only accepts changes made on its own pages." },
};

/** A request path fit for a log: one-time link tokens and token parameters left out. */
export function redactedPath(url: string | undefined): string {
  return (url ?? "/").replace(/\/(invite|reset)\/[^/?#]+/, "/$1/…").replace(/([?&]token=)[^&#]*/g, "$1…");
}

/** Requests logged at debug level only: assets, health checks and scrapes. */
const QUIET_PATHS = /^\/(_next\/|favicon\.ico|api\/health|api\/ready|metrics)/;

/** One line per answered request, with its id, status and time. */
function logRequest(req: http.IncomingMessage, res: http.ServerResponse, requestId: string, started: bigint): void {
  const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
  const path = redactedPath(req.url);
  const level = res.statusCode >= 500 ? "warn" : QUIET_PATHS.test(path) ? "debug" : "info";
  logger("web")[level]({ requestId, method: req.method, path, status: res.statusCode, ms }, "request");
}

export type PortalRequestOptions = Pick<WebServerOptions, "publicBaseUrl" | "trustedProxies" | "mediaOrigins" | "formOrigins" | "metricsToken" | "dev">;

/**
 * The web server's answer to a request, before and around `handle` (Next.js):
 * the request id, the client address, the security headers, /metrics,
 * cross-site writes, and the API routes answered outside Next.js.
 */
export function portalRequestListener(o: PortalRequestOptions, handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>): http.RequestListener {
  const trusted = parseTrustedProxies(o.trustedProxies);
  const publicOrigin = new URL(o.publicBaseUrl).origin;
  const https = publicOrigin.startsWith("https:");

  const answer = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const client = resolveClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], trusted);
    if (client) req.headers[CLIENT_ADDRESS_HEADER] = client;
    else delete req.headers[CLIENT_ADDRESS_HEADER];
    // What only a proxy may say about the original request is dropped from anyone else.
    if (!fromProxy(req)) {
      for (const name of ["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "forwarded"]) delete req.headers[name];
    }

    const headers = securityHeaders({ nonce: pooledRandomBytes(16).toString("base64"), https, mediaOrigins: o.mediaOrigins, formOrigins: o.formOrigins, dev: o.dev });
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (isMetricsRequest(req)) {
      serveMetrics(req, res, o.metricsToken).catch((err: unknown) => {
        logger("web").error({ err }, "metrics failed");
        if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" }).end("Internal error");
      });
      return;
    }
    if (isCrossSiteWrite(req, publicOrigin)) {
      res.writeHead(403, { "Content-Type": "application/json", "Cache-Control": "no-store" }).end(JSON.stringify(CROSS_SITE));
      return;
    }
    // Next.js reads the nonce for its scripts from the request's policy.
    req.headers["content-security-policy"] = headers["Content-Security-Policy"];
    // tRPC and provider callbacks: their route handlers, called without Next.js's request handling around them (api-routes.ts).
    const api = apiRouteFor(req.method, req.url);
    (api ? serveApiRoute(req, res, publicOrigin, api) : handle(req, res)).catch((err: unknown) => {
      logger("web").error({ err, method: req.method, path: redactedPath(req.url) }, "unhandled error");
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" }).end("Internal error");
      else res.destroy();
    });
  };
  const fromProxy = (req: http.IncomingMessage) => trusted.trusts(req.socket.remoteAddress ?? "");

  return (req, res) => {
    const started = process.hrtime.bigint();
    // The request's id: the trusted proxy's (so its access log and ours share it), or a new one; answered on every response.
    const requestId = requestIdFor(req.headers[REQUEST_ID_HEADER], fromProxy(req));
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader("X-Request-Id", requestId);
    res.once("finish", () => logRequest(req, res, requestId, started));
    withLogContext({ service: "web", fields: { requestId } }, () => answer(req, res));
  };
}

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const app = next({ dev: o.dev ?? false, dir: o.dir, hostname: o.host, port: o.port });
  await app.prepare();
  const handle = app.getRequestHandler();

  markServedByPortalServer();

  const listener = portalRequestListener(o, handle);
  // While stopping, a request still arriving on an open connection is told to close it (graceful.ts).
  const server = http.createServer((req, res) => {
    if (stopping.intercept(req, res)) return;
    listener(req, res);
  });
  const stopping = graceful(server, o.graceMs ?? 20_000);
  // Slow or idle clients must not hold sockets for ever.
  server.headersTimeout = 30_000;
  server.requestTimeout = 10 * 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : o.host.includes(":") ? `[${o.host}]` : o.host;
  return {
    url: `http://${shown}:${port}`,
    port,
    async close() {
      // Stop accepting, let in-flight requests finish (cut after the grace period), then stop Next.js.
      const { inFlight, cut } = await stopping.close();
      if (cut > 0) logger("web").warn({ inFlight, cut }, "stopped: requests in flight did not finish within the grace period and were cut");
      await app.close();
    },
  };
}
