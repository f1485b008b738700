/**
 * The `/v1` API over HTTP, whole: one handler for every `/v1/…` path
 * (app/v1/[...path]/route.ts serves it, and the portal's web server calls it
 * directly: server/http/api-routes.ts). Personal API keys in
 * `Authorization: Bearer …` (server/apikeys/), a per-key rate limit shared
 * by every web instance, an `x-request-id` on every answer, and every error
 * in the provider's shape (errors.ts).
 *
 *   POST /v1/videos/generations   create (Idempotency-Key honoured per key for 24 h)
 *   GET  /v1/tasks/{id}           one of the caller's tasks
 *   GET  /v1/tasks                the caller's tasks (status, from, to, limit, after)
 *   GET  /v1/balance              the caller's month: budget, spent, reserved, remaining
 *   GET  /v1/results/{id}         a completed task's video (the link's token, or the owner's key)
 *   GET  /v1/openapi.json         the API's description (no key needed)
 */
import { authenticateApiKey, bearerTokenOf, type ApiKeyDeps } from "../apikeys/apikeys.ts";
import type { Db } from "../db/client.ts";
import { currentRequestId, logger } from "../logging/logger.ts";
import { newRequestId } from "../logging/request-id.ts";
import { readTextWithin } from "../http/body.ts";
import { requestedRange, storedObjectResponse } from "../http/range.ts";
import { assertCleanUrl } from "../http/text.ts";
import type { RateLimitPolicy } from "../security/rate-limit.ts";
import type { ObjectStorage } from "../storage/storage.ts";
import { toV1Response, V1Error } from "./errors.ts";
import { openV1Result } from "./results.ts";
import { createV1Task, getV1Task, listV1Tasks, v1Balance, type V1Caller, type V1Deps } from "./v1.ts";

/** The largest create body accepted (the provider's requests are a few kilobytes; a prompt is at most 5000 characters). */
export const MAX_V1_BODY_BYTES = 64 * 1024;

export interface V1RouteDeps {
  v1: V1Deps;
  apiKeys: Pick<ApiKeyDeps, "db" | "serverSecret">;
  db: Db;
  storage: ObjectStorage;
  serverSecret: string;
  /** Requests per API key and window, across every web instance. */
  rateLimit: RateLimitPolicy;
  openApi: () => unknown;
  /** One line per refused key (default: the portal's logger). */
  log?: (line: string) => void;
}

const UNAUTHORIZED = () => new V1Error(401, "Invalid or missing API key. Send a personal API key of this portal as `Authorization: Bearer wvp_…` (make one on the API keys page).");

/** `path` is what follows `/v1/` (no query). */
export function v1Route(deps: () => V1RouteDeps): (req: Request, path: string) => Promise<Response> {
  return async (req, path) => {
    // The web server's id for this request (server/logging/, set on every answer); served another way, a new one
    // of the same form (a client does not choose it: only a trusted proxy may, at the web server).
    const requestId = currentRequestId() ?? newRequestId();
    const common: Record<string, string> = { "x-request-id": requestId, "Cache-Control": "no-store" };
    try {
      assertCleanUrl(req.url);
      const d = deps();
      const answer = await dispatch(d, req, path, common);
      for (const [name, value] of Object.entries(common)) if (!answer.headers.has(name)) answer.headers.set(name, value);
      return answer;
    } catch (err) {
      return toV1Response(err, `v1 ${req.method} /v1/${path.slice(0, 100)} (request ${requestId})`, common);
    }
  };
}

async function callerOf(d: V1RouteDeps, req: Request, common: Record<string, string>): Promise<V1Caller> {
  const token = bearerTokenOf(req.headers.get("authorization"));
  if (!token) throw UNAUTHORIZED();
  // The key checked and this request counted against its rate limit: one statement.
  const auth = await authenticateApiKey(d.apiKeys, token, { rateLimit: d.rateLimit });
  if (!auth.ok) {
    if (d.log) d.log(`[v1] refused an API key (${auth.reason}), request ${common["x-request-id"]}`);
    else logger().warn({ reason: auth.reason }, "v1: API key refused");
    throw UNAUTHORIZED();
  }
  const verdict = auth.rate;
  common["X-RateLimit-Limit"] = String(d.rateLimit.limit);
  common["X-RateLimit-Remaining"] = String(verdict.remaining);
  if (!verdict.allowed) {
    throw new V1Error(429, `This API key has made ${d.rateLimit.limit} requests in ${d.rateLimit.windowSeconds} s, its limit; wait ${verdict.retryAfterSeconds} s.`, {
      retryAfterSeconds: verdict.retryAfterSeconds,
    });
  }
  return { user: auth.user, key: auth.key };
}

/** A path segment, decoded; a malformed escape is refused as the provider refuses a malformed id. */
function segment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new V1Error(400, "This is not a task id of this portal.", { code: "invalid_task_id", param: "task_id" });
  }
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => Response.json(body, { status, headers });

async function dispatch(d: V1RouteDeps, req: Request, path: string, common: Record<string, string>): Promise<Response> {
  const method = req.method;
  const [first, second, ...rest] = path.split("/");
  const one = (name: string) => second !== undefined && second !== "" && rest.length === 0 && first === name;
  const notFound = () => new V1Error(404, `There is no ${method} /v1/${path.slice(0, 100)} in this API; see /v1/openapi.json.`, { code: "not_found" });

  if (path === "openapi.json" && method === "GET") return json(d.openApi());

  if (one("results") && (method === "GET" || method === "HEAD")) {
    const taskId = segment(second!);
    const token = new URL(req.url).searchParams.get("token");
    // The link's token is enough; without one, the owner's key.
    const ownerId = token ? null : (await callerOf(d, req, common)).user.id;
    const result = await openV1Result({ db: d.db, storage: d.storage, serverSecret: d.serverSecret }, taskId, { token, ownerId }, requestedRange(req));
    if (result.kind === "redirect") return new Response(null, { status: 302, headers: { Location: result.url } });
    return storedObjectResponse(result.video, { "Content-Disposition": `inline; filename="${result.video.fileName}"`, "Cache-Control": "private, max-age=3600" });
  }

  if (path === "videos/generations" && method === "POST") {
    const caller = await callerOf(d, req, common);
    const text = await readTextWithin(req, MAX_V1_BODY_BYTES);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new V1Error(400, "The request body is not valid JSON.", { code: "invalid_json" });
    }
    const { task, replayed } = await createV1Task(d.v1, caller, body, req.headers.get("idempotency-key"));
    return json(task, 200, replayed ? { "Idempotency-Replayed": "true" } : {});
  }
  if (one("tasks") && method === "GET") return json(await getV1Task(d.v1, await callerOf(d, req, common), segment(second!)));
  if (path === "tasks" && method === "GET") return json(await listV1Tasks(d.v1, await callerOf(d, req, common), new URL(req.url).searchParams));
  if (path === "balance" && method === "GET") return json(await v1Balance(d.v1, await callerOf(d, req, common)));
  throw notFound();
}
