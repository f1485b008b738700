/**
 * Typed domain errors. Domain code throws `AppError`; server/api/trpc.ts maps
 * it once to a tRPC error and server/http/errors.ts (`toHttpResponse`) to an
 * HTTP answer, so that the message and the field details reach the person who
 * can act on them.
 *
 * Every error class of the portal extends `DomainError`, which is recognised by
 * a brand, not by object identity. The production build bundles each route
 * separately, so one module can exist as several copies in one process (the
 * services object, built once, throws the classes of whichever route built
 * it). A plain `instanceof` then fails across copies; `DomainError` answers
 * `instanceof` from the brand, so it holds whichever copy made the error.
 * tests/unit/errors.test.ts checks this with two copies of this module.
 */

/** Global (cross-realm, cross-bundle) key under which an error carries the names of its classes. */
const KINDS = Symbol.for("wan-video-portal.error-kinds");

type Branded = { [KINDS]?: readonly string[] };

export class DomainError extends Error {
  /** The class's stable name; every subclass sets its own. */
  static readonly kind: string = "DomainError";

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // Without its own kind a subclass would answer instanceof for its parent's instances.
    if (!Object.hasOwn(new.target, "kind")) throw new TypeError(`${new.target.name} must declare its own static kind`);
    // The kinds of this class and of each class it extends, down to DomainError.
    const kinds: string[] = [];
    for (let c = new.target as typeof DomainError | null; c && c.kind; c = Object.getPrototypeOf(c) as typeof DomainError | null) {
      if (!kinds.includes(c.kind)) kinds.push(c.kind);
      if (c.kind === DomainError.kind) break;
    }
    Object.defineProperty(this, KINDS, { value: Object.freeze(kinds), enumerable: false });
    this.name = new.target.kind;
  }

  /** `x instanceof SomeDomainError`, decided by the brand so it holds across bundle copies. */
  static [Symbol.hasInstance]<T>(this: { readonly kind: string; readonly prototype: T }, value: unknown): value is T {
    if (typeof value !== "object" || value === null) return false;
    const kinds = (value as Branded)[KINDS];
    return Array.isArray(kinds) && kinds.includes(this.kind);
  }
}

export type AppErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  /** It existed and was deleted on purpose (a task's files): HTTP 410. */
  | "GONE"
  | "PAYMENT_REQUIRED"
  | "PAYLOAD_TOO_LARGE"
  | "TOO_MANY_REQUESTS"
  | "PROVIDER_FAILED"
  | "PROVIDER_UNAVAILABLE";

/** Field name -> messages, shown beside each field of the form. */
export type FieldErrors = Record<string, string[]>;

/**
 * zod issues -> { field: [messages] }, grouped by the top-level field the
 * form shows them beside ("video_urls.0" -> "video_urls"), each message once;
 * issues not tied to a field go under "_form". The server's answers and the
 * form's own checks are grouped by this one function.
 */
export function fieldErrorsOf(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? String(issue.path[0]) : "_form";
    const list = (out[key] ??= []);
    if (!list.includes(issue.message)) list.push(issue.message);
  }
  return out;
}

/** Field errors of several sources, merged field by field, each message once. */
export function mergeFieldErrors(...sources: ReadonlyArray<FieldErrors | null | undefined>): FieldErrors {
  const out: FieldErrors = {};
  for (const source of sources) {
    for (const [key, messages] of Object.entries(source ?? {})) {
      const list = (out[key] ??= []);
      for (const m of messages) if (!list.includes(m)) list.push(m);
    }
  }
  return out;
}

export class AppError extends DomainError {
  static override readonly kind: string = "AppError";

  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly fieldErrors?: FieldErrors,
    /** Extra facts for HTTP answers, e.g. `retryAfterSeconds` for TOO_MANY_REQUESTS. */
    readonly details?: { retryAfterSeconds?: number },
  ) {
    super(message);
  }
}

export const httpStatusOf: Record<AppErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  PAYMENT_REQUIRED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  PROVIDER_FAILED: 502,
  PROVIDER_UNAVAILABLE: 503,
};
