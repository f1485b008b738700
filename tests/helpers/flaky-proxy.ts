/**
 * A real HTTP proxy for tests: forwards to `target`, except that the next
 * requests can be made to fail. Used where a fault must sit between two of
 * our services (e.g. a result link that fails, then works).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FlakyProxy {
  url: string;
  /** The next `count` requests answer `status` instead of being forwarded. */
  failNext(count: number, status?: number): void;
  requests: number;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: () => string): Promise<FlakyProxy> {
  let failures: { left: number; status: number } = { left: 0, status: 500 };
  const proxy: FlakyProxy = {
    url: "",
    requests: 0,
    failNext(count, status = 500) {
      failures = { left: count, status };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer(async (req, res) => {
    proxy.requests++;
    if (failures.left > 0) {
      failures.left--;
      res.writeHead(failures.status).end("injected failure");
      return;
    }
    try {
      const upstream = await fetch(new URL(req.url ?? "/", target()), { method: req.method, headers: { range: req.headers.range ?? "" } });
      res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
      res.end(Buffer.from(await upstream.arrayBuffer()));
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
