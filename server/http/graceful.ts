/**
 * A web server's graceful stop (SIGTERM, Ctrl+C; scripts/lib/lifecycle.ts):
 *   1. the listening socket closes at once: a new connection is refused, so a
 *      proxy (nginx: `proxy_next_upstream error`) sends it to another instance;
 *   2. idle keep-alive connections are closed; a request still arriving on a
 *      busy one is served with `Connection: close`, and `/api/ready` answers
 *      503 there, so nothing keeps this instance in a pool;
 *   3. requests in flight finish, up to the grace period (SHUTDOWN_GRACE_SECONDS);
 *      what is still open then is cut, and the stop goes on.
 * Plain node:http, so tests run it in a stand-in process (tests/helpers/graceful-web.ts).
 */
import type http from "node:http";
import { SHUTTING_DOWN } from "../health/readiness.ts";

export interface GracefulServer {
  /** True once `close()` began. */
  readonly draining: boolean;
  /**
   * Call first for every request: while draining it answers `/api/ready`
   * itself (503) and returns true; otherwise it marks the response to close
   * its connection once draining and returns false.
   */
  intercept(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** Stops accepting, lets requests in flight finish within `graceMs`, then cuts the rest. */
  close(): Promise<{ inFlight: number; cut: number }>;
}

export function graceful(server: http.Server, graceMs: number): GracefulServer {
  let draining = false;
  let inFlight = 0;
  const drained = () => setImmediate(() => server.closeIdleConnections());
  return {
    get draining() {
      return draining;
    },
    intercept(req, res) {
      inFlight++;
      res.once("close", () => {
        inFlight--;
        // The connection this response used is idle now: let it go rather than wait for keep-alive's timeout.
        if (draining) drained();
      });
      if (!draining) return false;
      res.setHeader("Connection", "close");
      if ((req.url ?? "").split("?")[0] === "/api/ready") {
        res.writeHead(503, { "Content-Type": "application/json", "Cache-Control": "no-store" }).end(JSON.stringify(SHUTTING_DOWN));
        return true;
      }
      return false;
    },
    async close() {
      draining = true;
      const atStart = inFlight;
      let cut = 0;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        cut = inFlight;
        server.closeAllConnections();
      }, graceMs);
      await closed;
      clearTimeout(timer);
      return { inFlight: atStart, cut };
    },
  };
}
