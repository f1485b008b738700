/**
 * The tRPC HTTP endpoint (app/api/trpc/[trpc]/route.ts serves it): refuses a
 * URL or body that is not storable text before tRPC parses it, builds the
 * context from the request's session cookie (server/auth/request-session.ts), and logs internal errors in full under
 * the reference the person is shown.
 */
import "server-only";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { sessionOfRequest } from "../auth/request-session.ts";
import { readTextWithin } from "../http/body.ts";
import { clientAddressOf } from "../http/client-address.ts";
import { routeHandler, type HttpHandler } from "../http/errors.ts";
import type { Services } from "../services.ts";
import { appRouter } from "./root.ts";
import { logger } from "../logging/logger.ts";
import { errorReference, type Context } from "./trpc.ts";

/** A tRPC request body never needs more (a form with its prompts). */
export const MAX_TRPC_BODY_BYTES = 1024 * 1024;

export async function contextFor(services: Services, req: Request): Promise<Context> {
  // The cookie's session checked against its row (one query), without Auth.js re-issuing the cookie on every call.
  const session = await sessionOfRequest({ db: services.db, secret: services.config.authSecret }, req.headers);
  return { services, user: session?.user ?? null, sessionId: session?.sessionId ?? null, clientAddress: clientAddressOf(req.headers) };
}

export function trpcRoute(services: () => Services): HttpHandler {
  return routeHandler("tRPC", async (req: Request) => {
    let request = req;
    if (req.method === "POST") {
      // Decoded strictly: invalid UTF-8 is refused, not silently replaced.
      const body = await readTextWithin(req, MAX_TRPC_BODY_BYTES);
      request = new Request(req.url, { method: "POST", headers: req.headers, body });
    }
    return fetchRequestHandler({
      endpoint: "/api/trpc",
      req: request,
      router: appRouter,
      createContext: () => contextFor(services(), req),
      onError({ error, path }) {
        if (error.code === "INTERNAL_SERVER_ERROR") {
          const reference = errorReference(error);
          logger().error({ err: error.cause ?? error, errorReference: reference, where: `tRPC ${path ?? "?"}` }, `[error ${reference}] tRPC ${path ?? "?"}`);
        }
      },
    });
  });
}
