/**
 * Typed domain errors. Domain code throws `AppError`; server/api/trpc.ts maps
 * it once to a tRPC error (and route handlers to an HTTP status) so that the
 * message and the field details reach the person who can act on them.
 */
export type AppErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PAYMENT_REQUIRED"
  | "TOO_MANY_REQUESTS"
  | "PROVIDER_FAILED"
  | "PROVIDER_UNAVAILABLE";

/** Field name -> messages, shown beside each field of the form. */
export type FieldErrors = Record<string, string[]>;

/** zod issues -> { field: [messages] }; issues not tied to a field go under "_form". */
export function fieldErrorsOf(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.map(String).join(".") : "_form";
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly fieldErrors?: FieldErrors,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const httpStatusOf: Record<AppErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  PAYMENT_REQUIRED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_MANY_REQUESTS: 429,
  PROVIDER_FAILED: 502,
  PROVIDER_UNAVAILABLE: 503,
};
