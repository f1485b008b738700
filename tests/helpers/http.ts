/**
 * Serves a fetch-style handler (Request -> Response), such as the portal's
 * route functions (server/callbacks, server/uploads), on a loopback port, the
 * way Next.js serves the route handlers: the tests call the real routes over
 * real HTTP without re-implementing them.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";

export interface FetchServer {
  url: string;
  close(): Promise<void>;
}

/** Node request -> fetch Request (body streamed, not buffered). */
export function toRequest(req: http.IncomingMessage, origin: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url ?? "/", origin), {
    method: req.method,
    headers,
    ...(hasBody && { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" }),
  } as RequestInit);
}

export async function serveFetch(handler: (req: Request) => Promise<Response>): Promise<FetchServer> {
  let origin = "";
  const server = http.createServer(async (req, res) => {
    const answer = await handler(toRequest(req, origin));
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    if (answer.body) Readable.fromWeb(answer.body as import("node:stream/web").ReadableStream).pipe(res);
    else res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
