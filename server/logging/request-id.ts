/**
 * Request ids: every HTTP request the web server answers has one, on every
 * log line of that request and in its `X-Request-Id` answer header. A task
 * keeps the id of the request that submitted it (Task.requestId), so its
 * callback and archive lines can be found with the same id.
 */
import { pooledRandomBytes } from "../security/random.ts";

export const REQUEST_ID_HEADER = "x-request-id";

/** 8 to 128 letters, digits, `.`, `_`, `:` or `-`: nginx's $request_id (32 hex digits), UUIDs, ULIDs… */
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

export function isWellFormedRequestId(value: unknown): value is string {
  return typeof value === "string" && WELL_FORMED.test(value);
}

/** A new id: 32 hex digits, as nginx's $request_id. */
export function newRequestId(): string {
  return pooledRandomBytes(16).toString("hex");
}

/**
 * The id of a request: the one its trusted proxy sent (X-Request-Id), when it
 * is well formed, else a new one. A client that is not a trusted proxy cannot
 * choose it (it could otherwise make its lines look like another's).
 */
export function requestIdFor(header: string | string[] | undefined, fromTrustedProxy: boolean): string {
  const sent = Array.isArray(header) ? undefined : header;
  return fromTrustedProxy && isWellFormedRequestId(sent) ? sent : newRequestId();
}
