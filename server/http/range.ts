/**
 * Serving stored files over HTTP with Range support (what <video> and media
 * downloaders use), shared by the file routes (app/api/media, app/api/uploads).
 * One range per request, `bytes=start-` or `bytes=start-end`; anything else is
 * answered 416, which clients handle by asking for the whole file.
 */
import { RangeNotSatisfiableError, type ByteRange, type StoredObject } from "../storage/storage.ts";

/** The Range header: undefined when absent, "invalid" when we cannot serve it. */
export function parseRange(header: string | null): ByteRange | undefined | "invalid" {
  if (!header) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return "invalid";
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : undefined;
  return end !== undefined && end < start ? "invalid" : { start, end };
}

/** The range a request asks for, if any; throws RangeNotSatisfiableError (416) for one we do not serve. */
export function requestedRange(req: Request): ByteRange | undefined {
  const range = parseRange(req.headers.get("range"));
  if (range === "invalid") throw new RangeNotSatisfiableError();
  return range;
}

/** 200 with the whole file, or 206 with the range `object` holds. */
export function storedObjectResponse(object: StoredObject, extraHeaders: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { "Content-Type": object.contentType, "Accept-Ranges": "bytes", ...extraHeaders };
  if (object.range) {
    headers["Content-Range"] = `bytes ${object.range.start}-${object.range.end}/${object.size}`;
    headers["Content-Length"] = String(object.range.end - object.range.start + 1);
    return new Response(object.body, { status: 206, headers });
  }
  headers["Content-Length"] = String(object.size);
  return new Response(object.body, { status: 200, headers });
}
