/**
 * The API routes the portal's web server answers itself, without Next.js's
 * request handling around them (docs/decisions/0016-api-outside-next.md):
 * `/api/trpc/*` (GET, POST), `/api/callbacks/evolink/{taskId}` (POST) and
 * the `/v1/*` API (GET, POST).
 * The handlers are the route modules' own (app/api/…/route.ts registers
 * them here when Next.js loads it), so they run the code of the production
 * build, with its one services object; this registry only lives on
 * globalThis (a Symbol.for key) because the web server's copy of this file
 * and the build's bundled copy are two modules. Until a route module has
 * registered, and for any other method, Next.js answers as before.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { gzip } from "node:zlib";

const gzipAsync = promisify(gzip);

export type ApiHandler = (req: Request, param: string) => Promise<Response>;
type Registry = { trpc?: ApiHandler; callback?: ApiHandler; v1?: ApiHandler };

const REGISTRY = Symbol.for("wan-video-portal.api-routes");
const registry = (): Registry => ((globalThis as Record<symbol, Registry>)[REGISTRY] ??= {});

/** Called by a route module when it is loaded. */
export function registerApiRoute(name: keyof Registry, handler: ApiHandler): void {
  registry()[name] = handler;
}

const CALLBACK_PREFIX = "/api/callbacks/evolink/";
const V1_PREFIX = "/v1/";

/** The registered handler for this request and its path parameter, or null (Next.js answers). */
export function apiRouteFor(method: string | undefined, url: string | undefined): { handler: ApiHandler; param: string } | null {
  if (!url || (method !== "GET" && method !== "POST")) return null;
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const routes = registry();
  if (path.startsWith("/api/trpc/") && routes.trpc) return { handler: routes.trpc, param: "" };
  // The /v1 API: the handler takes the path after /v1/, still percent-encoded (it decodes each segment).
  if (path.startsWith(V1_PREFIX) && routes.v1) return { handler: routes.v1, param: path.slice(V1_PREFIX.length) };
  if (method === "POST" && path.startsWith(CALLBACK_PREFIX) && routes.callback) {
    const segment = path.slice(CALLBACK_PREFIX.length);
    // One segment, as the route's [taskId] matches; anything else is Next.js's to answer (404).
    if (segment.length === 0 || segment.includes("/")) return null;
    let taskId: string;
    try {
      taskId = decodeURIComponent(segment);
    } catch {
      return null;
    }
    return { handler: routes.callback, param: taskId };
  }
  return null;
}

/** Runs a fetch-style handler for a node request and writes its answer (headers already set on `res` are kept). */
export async function serveApiRoute(req: IncomingMessage, res: ServerResponse, origin: string, route: { handler: ApiHandler; param: string }): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  let body: Awaited<ReturnType<typeof bodyOf>>;
  try {
    body = await bodyOf(req);
  } catch {
    // The client left before sending its whole body: there is no one to answer.
    res.destroy();
    return;
  }
  const request = new Request(`${origin}${req.url}`, { method: req.method, headers, body, duplex: "half" } as RequestInit);
  const answer = await route.handler(request, route.param);
  res.statusCode = answer.status;
  for (const [name, value] of answer.headers) if (name !== "set-cookie") res.setHeader(name, value);
  const cookies = answer.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (!answer.body) {
    res.end();
    return;
  }
  const bytes = Buffer.from(await answer.arrayBuffer());
  // Compressed as Next.js compresses route answers (gzip from 1 KB, when the client asks for it).
  if (bytes.length >= COMPRESS_FROM_BYTES && !answer.headers.has("content-encoding") && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
    res.setHeader("content-encoding", "gzip");
    const vary = res.getHeader("vary");
    res.setHeader("vary", vary ? `${String(vary)}, Accept-Encoding` : "Accept-Encoding");
    res.end(await gzipAsync(bytes));
    return;
  }
  res.end(bytes);
}

const COMPRESS_FROM_BYTES = 1024;
/**
 * A POST body whose announced length is at most this is read into one buffer before the
 * handler runs (a web stream per request costs more than the rest of a callback's parsing);
 * a larger or chunked one is passed as a stream. Handlers keep their own size limits either way.
 */
const BUFFER_BODY_UP_TO_BYTES = 256 * 1024;

async function bodyOf(req: IncomingMessage): Promise<Buffer | ReadableStream<Uint8Array> | undefined> {
  if (req.method !== "POST") return undefined;
  const length = Number(req.headers["content-length"]);
  if (req.headers["transfer-encoding"] !== undefined || !Number.isSafeInteger(length) || length > BUFFER_BODY_UP_TO_BYTES) {
    return Readable.toWeb(req) as ReadableStream<Uint8Array>;
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on("error", reject);
    // A client gone before the end of its body: nothing to answer.
    req.on("close", () => {
      if (!req.complete) reject(new Error("The request body was cut off"));
    });
  });
}
