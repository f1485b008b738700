/** Small HTTP helpers shared by the simulator's modules. */
import type http from "node:http";
import { DomainError } from "../errors.ts";

/** An HTTP error answered with the provider's error body. */
export interface SimError {
  status: number;
  code: string;
  message: string;
  type?: string;
  param?: string;
}

export const MAX_BODY_BYTES = 1024 * 1024;

/** What the provider answers a request without the right key. */
export const UNAUTHORIZED: SimError = { status: 401, code: "unauthorized", type: "authentication_error", message: "Invalid or missing API key." };

/** True when the request carries `Authorization: Bearer <apiKey>`. */
export function hasBearerKey(req: http.IncomingMessage, apiKey: string): boolean {
  return req.headers.authorization === `Bearer ${apiKey}`;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** `{"error":{"code","message","type","param"}}`, as the provider answers. */
export function sendError(res: http.ServerResponse, err: SimError, headers: http.OutgoingHttpHeaders = {}) {
  sendJson(
    res,
    err.status,
    { error: { code: err.code, message: err.message, type: err.type ?? "invalid_request_error", ...(err.param !== undefined && { param: err.param }) } },
    headers,
  );
}

/** Parses a single `bytes=` range; null = unsatisfiable, undefined = ignore the header. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // multiple or malformed ranges: serving the whole file is allowed
  const [, from = "", to = ""] = m;
  if (from === "" && to === "") return undefined;
  if (from === "") {
    const suffix = Number(to);
    if (suffix === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  const end = to === "" ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

/** Serves an in-memory file, honouring a single Range (what <video> needs). */
export function sendFile(req: http.IncomingMessage, res: http.ServerResponse, data: Buffer, contentType: string) {
  const size = data.length;
  const range = parseRange(req.headers.range, size);
  const common = { "Content-Type": contentType, "Accept-Ranges": "bytes", "Cache-Control": "no-cache" };
  if (range === null) {
    res.writeHead(416, { ...common, "Content-Range": `bytes */${size}` });
    res.end();
  } else if (range === undefined) {
    res.writeHead(200, { ...common, "Content-Length": size });
    res.end(data); // Node drops the body itself for HEAD
  } else {
    res.writeHead(206, { ...common, "Content-Length": range.end - range.start + 1, "Content-Range": `bytes ${range.start}-${range.end}/${size}` });
    res.end(data.subarray(range.start, range.end + 1));
  }
}

export class BodyTooLarge extends DomainError {
  static override readonly kind: string = "SimulatorBodyTooLarge";
}

export async function readBody(req: http.IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw new BodyTooLarge(`The request body exceeds ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** undici says only "fetch failed"; the reason (ECONNREFUSED, timeout...) is in `cause`. */
export function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === "TimeoutError") return "TimeoutError: no answer in time";
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return [err.message, typeof code === "string" ? code : cause?.message].filter(Boolean).join(": ");
}
