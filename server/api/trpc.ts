/**
 * tRPC setup: context, error mapping, and the procedure builders
 * (public, protected = signed in, admin). Routers stay thin: input schema,
 * auth check, one domain call.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { ZodError } from "zod";
import { AppError, fieldErrorsOf, type AppErrorCode, type FieldErrors } from "../errors.ts";
import { internalErrorMessage, newErrorReference } from "../http/errors.ts";
import { assertStorableInput } from "../http/text.ts";
import type { Services } from "../services.ts";
import type { SessionUser } from "../users/users.ts";
import { transformer } from "./transformer.ts";

export interface Context {
  services: Services;
  /** The signed-in user as the database has it now, or null. */
  user: SessionUser | null;
  /** The session (UserSession row id) the request was made in, when signed in. */
  sessionId?: string | null;
  /** The client address the web server decided (server/http/client-address.ts). */
  clientAddress?: string | null;
}

const trpcCodeOf: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  // tRPC has no 410: deleted things answer as missing, with the message saying they were deleted.
  GONE: "NOT_FOUND",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  PAYMENT_REQUIRED: "PAYMENT_REQUIRED",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  PROVIDER_FAILED: "BAD_GATEWAY",
  PROVIDER_UNAVAILABLE: "SERVICE_UNAVAILABLE",
};

/**
 * The reference of an internal error, made once per error: the route's
 * onError logs the error under it, the formatter shows it to the person.
 */
export function errorReference(error: TRPCError): string {
  const e = error as TRPCError & { reference?: string };
  e.reference ??= newErrorReference();
  return e.reference;
}

const t = initTRPC.context<Context>().create({
  // superjson's format, written faster for plain rows and dates (transformer.ts).
  transformer,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    if (error.code === "INTERNAL_SERVER_ERROR") {
      // Never the internal message (a database error, a stack): a reference to the log instead.
      const reference = errorReference(error);
      return { ...shape, message: internalErrorMessage(reference), data: { ...shape.data, fieldErrors: null, reference, stack: undefined } };
    }
    const fieldErrors: FieldErrors | null =
      cause instanceof AppError ? (cause.fieldErrors ?? null) : cause instanceof ZodError ? fieldErrorsOf(cause) : null;
    return { ...shape, data: { ...shape.data, fieldErrors, reference: null, stack: undefined } };
  },
});

/** Maps domain errors to tRPC errors once, for every procedure. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: trpcCodeOf[cause.code], message: cause.message, cause });
  }
  return result;
});

/** Text the database cannot store (NUL bytes, lone surrogates) is bad input, refused before any procedure runs. */
const refuseUnstorableInput = t.middleware(async ({ getRawInput, next }) => {
  assertStorableInput(await getRawInput());
  return next();
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapErrors).use(refuseUnstorableInput);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue" });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== "admin") throw new TRPCError({ code: "FORBIDDEN", message: "Only admins can do this" });
  return next({ ctx });
});
