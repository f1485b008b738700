/** GET /metrics for a Node http server (the web server in front of Next.js, and the worker's own). */
import type http from "node:http";
import { metricsAccess, renderMetrics } from "./metrics.ts";

export function isMetricsRequest(req: http.IncomingMessage): boolean {
  const path = (req.url ?? "").split("?")[0];
  return path === "/metrics";
}

/** Answers a /metrics request: 404 when off, 401 without the token, else the text exposition. */
export async function serveMetrics(req: http.IncomingMessage, res: http.ServerResponse, token: string | undefined): Promise<void> {
  const access = metricsAccess(token, req.headers.authorization ?? null);
  if (access === "off" || req.method !== "GET") {
    res.writeHead(404, { "Content-Type": "text/plain", "Cache-Control": "no-store" }).end("Not found");
    return;
  }
  if (access === "denied") {
    res.writeHead(401, { "Content-Type": "text/plain", "Cache-Control": "no-store", "WWW-Authenticate": 'Bearer realm="metrics"' }).end("A valid bearer token is needed");
    return;
  }
  const { contentType, body } = await renderMetrics();
  res.writeHead(200, { "Content-Type": contentType, "Cache-Control": "no-store" }).end(body);
}
