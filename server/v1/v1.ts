/**
 * The portal as the team's provider (issue 13): the `/v1` API's operations,
 * for a person calling with one of their API keys. A create goes through
 * exactly the path of the form — the request contract and media checks, the
 * budget hold, store-then-submit (createTask) — with the key recorded as the
 * task's source; its callbacks, polling, archive and billing are the form's.
 * Answers have the provider's shapes (task-object.ts, errors.ts).
 */
import { createHash, randomUUID } from "node:crypto";
import type { Db, Task } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { myBudget, type UsageDeps } from "../usage/service.ts";
import { listTasks, type HistoryDeps } from "../tasks/listing.ts";
import { taskListFiltersSchema } from "../tasks/list-filters.ts";
import { createTask, type TaskDeps } from "../tasks/tasks.ts";
import type { SessionUser } from "../users/users.ts";
import { reportingTimeZone } from "../settings/settings.ts";
import { V1Error } from "./errors.ts";
import { parseV1CreateRequest, type V1CreateSchema } from "./request.ts";
import { toV1Task, type V1Task, type V1TaskSource } from "./task-object.ts";

/** Who calls: the key's person, as the database has them now, and the key. */
export interface V1Caller {
  user: SessionUser;
  key: { id: string; name: string; prefix: string };
}

export interface V1Deps {
  db: Db;
  taskDeps: TaskDeps;
  /** The request contract for this configuration (its allowed http media origins). */
  schema: V1CreateSchema;
  resultLink: (taskId: string) => string;
  history: HistoryDeps;
  usage: UsageDeps;
}

/** How long an Idempotency-Key is remembered, per API key. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A task row as the API shows it. */
export function v1TaskOf(task: Task, resultLink: (taskId: string) => string): V1Task {
  const source: V1TaskSource = {
    ...task,
    cost: task.cost === null ? null : Number(task.cost),
    estimatedCost: Number(task.estimatedCost),
  };
  return toV1Task(source, resultLink);
}

/** The JSON of a value with its object keys sorted: the same request, however it was spelt. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The task a request with `idempotencyKey` stands for: a fresh one the first
 * time (or once the key's 24 hours are over), the same one for the same
 * body, and 409 for another body. Concurrent requests with one key share the
 * record's clientRequestId, so createTask's unique index lets one through.
 */
async function idempotentRequestId(db: Db, keyId: string, idempotencyKey: string, body: unknown): Promise<{ clientRequestId: string; replayed: boolean }> {
  if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new V1Error(400, "The Idempotency-Key header must be 1 to 255 printable ASCII characters without spaces.", { param: "Idempotency-Key" });
  }
  const requestHash = createHash("sha256").update(canonicalJson(body)).digest("hex");
  const fresh = randomUUID();
  const [claimed] = await db.$queryRaw<Array<{ clientRequestId: string }>>`
    INSERT INTO "ApiIdempotencyKey" ("apiKeyId", "key", "requestHash", "clientRequestId", "createdAt")
    VALUES (${keyId}, ${idempotencyKey}, ${requestHash}, ${fresh}, now())
    ON CONFLICT ("apiKeyId", "key") DO UPDATE SET "requestHash" = EXCLUDED."requestHash", "clientRequestId" = EXCLUDED."clientRequestId", "createdAt" = now()
      WHERE "ApiIdempotencyKey"."createdAt" < now() - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS})
    RETURNING "clientRequestId"`;
  if (claimed) return { clientRequestId: claimed.clientRequestId, replayed: false };
  const existing = await db.apiIdempotencyKey.findUnique({ where: { apiKeyId_key: { apiKeyId: keyId, key: idempotencyKey } } });
  if (!existing) throw new Error("Idempotency-Key record vanished between its claim and its read");
  if (existing.requestHash !== requestHash) {
    throw new V1Error(409, "This Idempotency-Key was used in the last 24 hours with a different request body. Use a new key for a new request.", {
      code: "idempotency_conflict",
      param: "Idempotency-Key",
    });
  }
  return { clientRequestId: existing.clientRequestId, replayed: true };
}

/** POST /v1/videos/generations. `body` is the parsed JSON. */
export async function createV1Task(deps: V1Deps, caller: V1Caller, body: unknown, idempotencyKey: string | null): Promise<{ task: V1Task; replayed: boolean }> {
  // The request is checked before the key is recorded: a refused body leaves nothing behind.
  const { input, callbackUrl } = parseV1CreateRequest(body, deps.schema);
  const idempotent = idempotencyKey === null ? null : await idempotentRequestId(deps.db, caller.key.id, idempotencyKey, body);
  const task = await createTask(deps.taskDeps, caller.user, input, {
    ...(idempotent && { clientRequestId: idempotent.clientRequestId }),
    apiKeyId: caller.key.id,
    ...(callbackUrl !== undefined && { clientCallbackUrl: callbackUrl }),
  });
  return { task: v1TaskOf(task, deps.resultLink), replayed: idempotent?.replayed ?? false };
}

/** A task id as the portal makes them; anything else is refused as malformed, as the provider does. */
const TASK_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** GET /v1/tasks/{id}: the caller's own task; another person's answers 404, as an unknown one does. */
export async function getV1Task(deps: V1Deps, caller: V1Caller, taskId: string): Promise<V1Task> {
  if (!TASK_ID.test(taskId)) throw new V1Error(400, "This is not a task id of this portal.", { code: "invalid_task_id", param: "task_id" });
  const task = await deps.db.task.findFirst({ where: { id: taskId, userId: caller.user.id } });
  if (!task) throw new V1Error(404, "No such task among yours.");
  return v1TaskOf(task, deps.resultLink);
}

const V1_LIST_STATUSES = ["pending", "processing", "completed", "failed"] as const;

/** GET /v1/tasks: the caller's tasks (the form's too), newest first; `status`, `from`/`to` (days), `limit`, `after`. */
export async function listV1Tasks(deps: V1Deps, caller: V1Caller, query: URLSearchParams) {
  const param = (name: string) => query.get(name) ?? undefined;
  const status = param("status");
  if (status !== undefined && !(V1_LIST_STATUSES as readonly string[]).includes(status)) {
    throw new V1Error(400, `status must be one of ${V1_LIST_STATUSES.join(", ")}.`, { param: "status" });
  }
  const filters = taskListFiltersSchema.safeParse({ status, from: param("from"), to: param("to") });
  if (!filters.success) {
    const field = String(filters.error.issues[0]?.path[0] ?? "from");
    throw new V1Error(400, `${field} must be a day, YYYY-MM-DD (in the team's reporting time zone).`, { param: field });
  }
  const limitText = param("limit");
  const limit = limitText === undefined ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new V1Error(400, "limit must be a whole number from 1 to 100.", { param: "limit" });
  const owner = { id: caller.user.id, email: caller.user.email, name: caller.user.name };
  const timeZone = filters.data.from || filters.data.to ? await reportingTimeZone(deps.db, deps.history.defaultTimeZone) : deps.history.defaultTimeZone;
  let page: Awaited<ReturnType<typeof listTasks>>;
  try {
    page = await listTasks(deps.db, { userId: caller.user.id, owner, timeZone }, filters.data, { cursor: param("after"), limit });
  } catch (err) {
    if (err instanceof AppError && err.code === "BAD_REQUEST") throw new V1Error(400, err.message, { param: "after" });
    throw err;
  }
  return {
    object: "list" as const,
    data: page.tasks.map((t) => toV1Task(t, deps.resultLink)),
    has_more: page.nextCursor !== null,
    next_cursor: page.nextCursor,
  };
}

/** GET /v1/balance: the caller's month — their budget, spent, held for running tasks, and what is left to spend. */
export async function v1Balance(deps: V1Deps, caller: V1Caller) {
  const b = await myBudget(deps.usage, caller.user.id);
  const limits = [b.personal.remaining, b.team.remaining].filter((r): r is number => r !== null);
  return {
    object: "balance" as const,
    currency: b.currency,
    month: b.month,
    budget: b.personal.limit,
    spent: b.personal.spent,
    reserved: b.personal.reserved,
    // What a new task may still hold: the lower of the person's and the team's, null when neither is limited.
    remaining: limits.length > 0 ? Math.min(...limits) : null,
    period_end: b.renewsOn,
    team: { budget: b.team.limit, spent: b.team.spent, reserved: b.team.reserved, remaining: b.team.remaining },
  };
}
