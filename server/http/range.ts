/**
 * Serving stored files over HTTP with Range support (what <video> and media
 * downloaders use), shared by the file routes (app/api/media, app/api/uploads).
 * One range per request, `bytes=start-` or `bytes=start-end`; anything else is
 * answered 416, which clients handle by asking for the whole file.
 */
import type { ByteRange, StoredObject } from "../storage/storage.ts";

/** The Range header: undefined when absent, "invalid" when we cannot serve it. */
export function parseRange(header: string | null): ByteRange | undefined | "invalid" {
  if (!header) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return "invalid";
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : undefined;
  return end !== undefined && end < start ? "invalid" : { start, end };
}

/** 416, with the file's size when known so the client can ask again. */
export function rangeNotSatisfiable(size?: number): Response {
  return new Response("Range not satisfiable", { status: 416, headers: size === undefined ? {} : { "Content-Range": `bytes */${size}` } });
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
