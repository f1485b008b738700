/**
 * tRPC setup: context, error mapping, and the procedure builders
 * (public, protected = signed in, admin). Routers stay thin: input schema,
 * auth check, one domain call.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import superjson from "superjson";
import { ZodError } from "zod";
import { AppError, fieldErrorsOf, type AppErrorCode, type FieldErrors } from "../errors.ts";
import type { Services } from "../services.ts";
import { getSessionUser, type SessionUser } from "../users/users.ts";

export interface Context {
  services: Services;
  /** The signed-in user as the database has it now, or null. */
  user: SessionUser | null;
}

export async function createContext(services: Services, sessionUserId: string | null | undefined): Promise<Context> {
  const user = sessionUserId ? await getSessionUser(services.db, sessionUserId) : null;
  return { services, user };
}

const trpcCodeOf: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PAYMENT_REQUIRED: "PAYMENT_REQUIRED",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  PROVIDER_FAILED: "BAD_GATEWAY",
  PROVIDER_UNAVAILABLE: "SERVICE_UNAVAILABLE",
};

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const fieldErrors: FieldErrors | null =
      cause instanceof AppError ? (cause.fieldErrors ?? null) : cause instanceof ZodError ? fieldErrorsOf(cause) : null;
    return { ...shape, data: { ...shape.data, fieldErrors, stack: undefined } };
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

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapErrors);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue" });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== "admin") throw new TRPCError({ code: "FORBIDDEN", message: "Only admins can do this" });
  return next({ ctx });
});
