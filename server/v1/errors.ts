/**
 * The `/v1` API's one error path: every failure is answered with the
 * provider's error body (API-NOTES.md, "HTTP errors"),
 *
 *   { "error": { "code": "invalid_parameters", "message": "…", "type": "invalid_request_error", "param"?: "duration" } }
 *
 * with the provider's status and code for the case, so that a client written
 * for the provider handles the portal's answers unchanged. Domain errors
 * (AppError) keep their message, written for a person; anything else is an
 * internal error, logged in full under a reference that the answer quotes.
 */
import { AppError, DomainError, httpStatusOf, type AppErrorCode } from "../errors.ts";
import { BodyTooLargeError } from "../http/body.ts";
import { internalErrorMessage, logInternalError } from "../http/errors.ts";

/** The provider's code and type for each status the portal answers (as its API reference names them). */
export const V1_ERROR_KINDS = {
  400: { code: "invalid_parameters", type: "invalid_request_error" },
  401: { code: "unauthorized", type: "authentication_error" },
  402: { code: "quota_exceeded", type: "insufficient_quota" },
  403: { code: "permission_denied", type: "permission_error" },
  404: { code: "task_not_found", type: "not_found_error" },
  409: { code: "conflict", type: "invalid_request_error" },
  410: { code: "gone", type: "invalid_request_error" },
  413: { code: "request_too_large", type: "invalid_request_error" },
  429: { code: "rate_limit_exceeded", type: "rate_limit_error" },
  500: { code: "internal_error", type: "api_error" },
  502: { code: "upstream_error", type: "api_error" },
  503: { code: "service_unavailable", type: "api_error" },
} as const;
export type V1Status = keyof typeof V1_ERROR_KINDS;

/** A refusal of the `/v1` API, with the provider's status, code and (for a field) `param`. */
export class V1Error extends DomainError {
  static override readonly kind: string = "V1Error";
  readonly code: string;
  readonly type: string;
  readonly param: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    readonly status: V1Status,
    message: string,
    opts: { code?: string; param?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.code = opts.code ?? V1_ERROR_KINDS[status].code;
    this.type = V1_ERROR_KINDS[status].type;
    this.param = opts.param;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

export interface V1ErrorBody {
  error: { code: string; message: string; type: string; param?: string; reference?: string };
}

/** The field a domain error's field errors name first, as the API calls it (the form's own fields are the API's). */
function paramOf(err: AppError): string | undefined {
  const first = Object.keys(err.fieldErrors ?? {}).find((k) => k !== "_form");
  return first;
}

/** The answer for `error` (`where` names the route in the log of an internal error). */
export function toV1Response(error: unknown, where: string, headers: Record<string, string> = {}): Response {
  const answer = (status: number, body: V1ErrorBody, extra: Record<string, string> = {}) =>
    Response.json(body, { status, headers: { "Cache-Control": "no-store", ...headers, ...extra } });
  if (error instanceof V1Error) {
    const retry: Record<string, string> = error.retryAfterSeconds === undefined ? {} : { "Retry-After": String(Math.max(1, Math.ceil(error.retryAfterSeconds))) };
    return answer(error.status, { error: { code: error.code, message: error.message, type: error.type, ...(error.param !== undefined && { param: error.param }) } }, retry);
  }
  if (error instanceof AppError) {
    const status = v1StatusOf(error.code);
    const kind = V1_ERROR_KINDS[status];
    const param = status === 400 ? paramOf(error) : undefined;
    const retryAfter = error.details?.retryAfterSeconds;
    const retry: Record<string, string> = retryAfter === undefined ? {} : { "Retry-After": String(Math.max(1, Math.ceil(retryAfter))) };
    return answer(status, { error: { code: kind.code, message: error.message, type: kind.type, ...(param !== undefined && { param }) } }, retry);
  }
  if (error instanceof BodyTooLargeError) {
    return answer(413, { error: { ...V1_ERROR_KINDS[413], message: `The request is larger than the ${error.maxBytes} bytes this endpoint accepts.` } });
  }
  const reference = logInternalError(error, where);
  return answer(500, { error: { ...V1_ERROR_KINDS[500], message: internalErrorMessage(reference), reference } });
}

/**
 * The status a domain error gets on `/v1`: the portal's one mapping
 * (httpStatusOf), except that "forbidden" is answered as "not found" — the
 * API never confirms that another person's task exists.
 */
export function v1StatusOf(code: AppErrorCode): V1Status {
  if (code === "FORBIDDEN") return 404;
  const status = httpStatusOf[code];
  return (status in V1_ERROR_KINDS ? status : 400) as V1Status;
}
