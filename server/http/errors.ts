/**
 * One error path for HTTP: every route handler answers errors through
 * `toHttpResponse`, so every error has the same JSON shape,
 *
 *   { "error": { "code": "NOT_FOUND", "message": "…", "fieldErrors"?: {…}, "reference"?: "…" } }
 *
 * Domain errors keep their message (written for the person reading it);
 * anything else is an internal error: the person gets a generic message and a
 * reference, and the server log gets the whole error under that reference.
 */
import { randomBytes } from "node:crypto";
import { AppError, httpStatusOf, type AppErrorCode, type FieldErrors } from "../errors.ts";
import { RangeNotSatisfiableError } from "../storage/storage.ts";
import { BodyTooLargeError } from "./body.ts";
import { assertCleanUrl } from "./text.ts";
import { logger } from "../logging/logger.ts";

export interface ErrorBody {
  error: {
    code: AppErrorCode | "RANGE_NOT_SATISFIABLE" | "INTERNAL";
    message: string;
    fieldErrors?: FieldErrors;
    /** Internal errors only: quote it to an admin, who finds the details in the server log. */
    reference?: string;
  };
}

/** A short id that ties a generic error message to its full log line. */
export function newErrorReference(): string {
  return randomBytes(5).toString("hex");
}

/** The message a person sees for an internal error. */
export function internalErrorMessage(reference: string): string {
  return `Something went wrong on our side. If it happens again, give an admin this reference: ${reference}.`;
}

/**
 * Logs an unexpected error in full under a new reference, and returns the
 * reference: `grep <reference>` finds the line (with the request's id, so the
 * request's other lines too).
 */
export function logInternalError(error: unknown, where: string, log?: (...args: unknown[]) => void): string {
  const reference = newErrorReference();
  if (log) log(`[error ${reference}] ${where}:`, error);
  else logger().error({ err: error, errorReference: reference, where }, `[error ${reference}] ${where}`);
  return reference;
}

function json(status: number, body: ErrorBody, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

/** The HTTP answer for `error`; `where` names the route in the log of an internal error. */
export function toHttpResponse(error: unknown, where = "request"): Response {
  if (error instanceof AppError) {
    const headers: Record<string, string> = {};
    if (error.details?.retryAfterSeconds !== undefined) headers["Retry-After"] = String(Math.max(1, Math.ceil(error.details.retryAfterSeconds)));
    const fieldErrors = error.fieldErrors && Object.keys(error.fieldErrors).length > 0 ? { fieldErrors: error.fieldErrors } : {};
    return json(httpStatusOf[error.code], { error: { code: error.code, message: error.message, ...fieldErrors } }, headers);
  }
  if (error instanceof RangeNotSatisfiableError) {
    const size: Record<string, string> = error.size === undefined ? {} : { "Content-Range": `bytes */${error.size}` };
    return json(416, { error: { code: "RANGE_NOT_SATISFIABLE", message: "This part of the file cannot be served; ask for the whole file." } }, size);
  }
  if (error instanceof BodyTooLargeError) {
    return json(413, { error: { code: "PAYLOAD_TOO_LARGE", message: `The request is larger than the ${error.maxBytes} bytes this address accepts.` } });
  }
  const reference = logInternalError(error, where);
  return json(500, { error: { code: "INTERNAL", message: internalErrorMessage(reference), reference } });
}

type RouteHandler<C> = (req: Request, ctx: C) => Promise<Response> | Response;

/** A route handler of a static route: Next.js passes a context it does not use. */
export type HttpHandler = (req: Request, ctx?: unknown) => Promise<Response>;

/** Route handlers take the request, and for dynamic routes a second argument (params, or the id taken from them). */

/**
 * Wraps a route handler: refuses a URL that cannot be stored as text (NUL
 * bytes, invalid UTF-8 percent-encoding) before the handler runs, and
 * answers whatever it throws through `toHttpResponse`.
 */
export function routeHandler<C = unknown>(where: string, handler: RouteHandler<C>): (req: Request, ctx: C) => Promise<Response> {
  return async (req, ctx) => {
    try {
      assertCleanUrl(req.url);
      return await handler(req, ctx);
    } catch (err) {
      return toHttpResponse(err, where);
    }
  };
}
