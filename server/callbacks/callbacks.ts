/**
 * Provider callbacks. The body is untrusted: the URL's token must name the
 * task, the body is size-bounded and parsed, and the state recorded is the one
 * the provider answers to GET /v1/tasks/{id}, never the body's. Every callback
 * is logged (CallbackEvent) with what it did, and one for a known task is
 * also a line of that task's timeline (TaskEvent), before the change it brings. Slow work (downloading the
 * result) happens in the worker; when the confirmation itself cannot be had
 * quickly, the task is handed to the reconciler and the provider still gets
 * its 2xx in time.
 */
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { readTextWithin } from "../http/body.ts";
import { routeHandler } from "../http/errors.ts";
import { findUnstorableText, storableText } from "../http/text.ts";
import { providerTaskSchema, type ProviderTask, type VideoProvider } from "../provider/types.ts";
import { recordTaskEvent } from "../tasks/events.ts";
import { applyProviderTask, recordCallbackToEndedTask } from "../tasks/tasks.ts";
import { adoptProviderTaskId, pollSoon } from "../tasks/updates.ts";
import { isValidCallbackToken } from "./token.ts";
import { metrics } from "../metrics/metrics.ts";

export const MAX_CALLBACK_BYTES = 64 * 1024;
/** The provider waits 10 s for our answer; the confirmation must fit well inside. */
export const CONFIRM_TIMEOUT_MS = 4_000;
/**
 * Callbacks with a wrong token are counted per hour (RejectedCallbackCount);
 * only this many of each hour are also kept as CallbackEvent rows, so an
 * anonymous sender cannot grow the table without bound.
 */
export const REJECTED_DETAIL_PER_HOUR = 50;

export type CallbackOutcome = "applied" | "duplicate" | "deferred";

export interface CallbackDeps {
  db: Db;
  provider: VideoProvider;
  serverSecret: string;
  confirmTimeoutMs?: number;
}

/**
 * The callback route, whole (app/api/callbacks/evolink/[taskId]/route.ts
 * serves it; the tests call it): reads the bounded body, handles it, and
 * answers 200 (applied or duplicate), 202 (deferred to the reconciler), or an
 * error through the one HTTP error path.
 */
export function callbackRoute(deps: () => CallbackDeps): (req: Request, taskId: string) => Promise<Response> {
  return routeHandler("provider callback", async (req: Request, taskId: string) => {
    const rawBody = await readTextWithin(req, MAX_CALLBACK_BYTES);
    const token = new URL(req.url).searchParams.get("token");
    const result = await handleProviderCallback(deps(), { taskId, token, rawBody }).catch((err: unknown) => {
      metrics().callbacks.inc({ outcome: err instanceof AppError && err.code === "NOT_FOUND" ? "rejected" : "error" });
      throw err;
    });
    metrics().callbacks.inc({ outcome: result.outcome });
    return Response.json({ ok: true, outcome: result.outcome }, { status: result.outcome === "deferred" ? 202 : 200 });
  });
}

/** Counts a callback with a wrong token; true while this hour's detailed log still has room. */
async function countRejected(db: Db, now = new Date()): Promise<boolean> {
  const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  const [row] = await db.$queryRaw<Array<{ count: number }>>`
    INSERT INTO "RejectedCallbackCount" ("hour", "count") VALUES (${hour}, 1)
    ON CONFLICT ("hour") DO UPDATE SET "count" = "RejectedCallbackCount"."count" + 1
    RETURNING "count"`;
  return (row?.count ?? 0) <= REJECTED_DETAIL_PER_HOUR;
}

export async function handleProviderCallback(
  deps: CallbackDeps,
  input: { taskId: string; token: string | null; rawBody: string },
): Promise<{ outcome: CallbackOutcome }> {
  const { db } = deps;
  const log = (data: { taskId: string | null; outcome: string; detail?: string; reportedStatus?: string; confirmedStatus?: string }) =>
    db.callbackEvent.create({
      data: {
        ...data,
        detail: data.detail === undefined ? undefined : storableText(data.detail.slice(0, 1000)),
        reportedStatus: data.reportedStatus === undefined ? undefined : storableText(data.reportedStatus),
      },
    });

  const unknownTask = async (): Promise<never> => {
    // Wrong token or unknown task: counted, logged without a task while the
    // hour's quota lasts, and answered as missing.
    if (await countRejected(db)) {
      await log({ taskId: null, outcome: "rejected", detail: `callback for ${input.taskId.slice(0, 100)} with an invalid token` });
    }
    throw new AppError("NOT_FOUND", "Unknown callback");
  };
  if (!isValidCallbackToken(deps.serverSecret, input.taskId, input.token)) return unknownTask();

  // The body is checked before the task is read, so that a well-formed one costs one statement
  // when the task has already ended (recordCallbackToEndedTask); a malformed one is logged on its task.
  const parsed = parseCallbackBody(input.rawBody);
  if ("problem" in parsed) {
    const { problem } = parsed;
    const task = await db.task.findUnique({ where: { id: input.taskId } });
    if (!task) return unknownTask();
    await log({ taskId: task.id, outcome: "invalid", detail: problem });
    await recordTaskEvent(db, task.id, { kind: "callback", source: "callback", detail: `Ignored: ${problem}` });
    throw new AppError("BAD_REQUEST", problem);
  }

  const body = parsed.body;
  // The task has ended (once, with its billing): nothing a callback says can change it, so the
  // provider is not asked again, and this one statement records the callback as a duplicate.
  if (await recordCallbackToEndedTask(db, input.taskId, body)) return { outcome: "duplicate" };
  const task = await db.task.findUnique({ where: { id: input.taskId } });
  if (!task) return unknownTask();
  const timeline = (detail: string) => recordTaskEvent(db, task.id, { kind: "callback", source: "callback", detail });
  const reject = async (detail: string, reportedStatus?: string): Promise<never> => {
    await log({ taskId: task.id, outcome: "invalid", detail, reportedStatus });
    await timeline(`Ignored: ${detail}`);
    throw new AppError("BAD_REQUEST", detail);
  };
  if (task.providerTaskId && body.id !== task.providerTaskId) return reject(`Callback names another provider task (${body.id.slice(0, 100)})`, body.status);

  let confirmed: ProviderTask;
  try {
    confirmed = await withTimeout(deps.provider.getTask(body.id), deps.confirmTimeoutMs ?? CONFIRM_TIMEOUT_MS);
  } catch (err) {
    // Could not confirm now: let the reconciler ask at once instead of waiting for its next turn.
    await pollSoon(db, task.id);
    await log({ taskId: task.id, outcome: "deferred", reportedStatus: body.status, detail: `confirmation failed: ${(err as Error).message}` });
    await timeline(`It said ${body.status}; the portal could not confirm that with the service now, so it checks again at once.`);
    return { outcome: "deferred" };
  }
  if (confirmed.id !== body.id) return reject("The provider's answer names another task", body.status);

  if (task.providerTaskId === null) {
    // Our record of the create answer was lost, but this task's own callback
    // URL was used and the provider confirms the task: adopt its id.
    await adoptProviderTaskId(db, task.id, confirmed.id);
  }
  // The timeline line (before the change it brings), the change and this callback's log:
  // for a final state, one statement (applyProviderTask).
  const changed = await applyProviderTask(db, task, confirmed, "callback", {
    line:
      body.status === confirmed.status
        ? `It said ${body.status}; the service confirms it.`
        : `It said ${body.status}; the service says ${confirmed.status}, which is what the portal records.`,
    reportedStatus: storableText(body.status),
    confirmedStatus: confirmed.status,
    detail: body.status !== confirmed.status ? storableText(`the body said ${body.status}; the provider says ${confirmed.status}`.slice(0, 1000)) : undefined,
  });
  return { outcome: changed ? "applied" : "duplicate" };
}

/** The body as a task object, or what is wrong with it (in words for the task's timeline). */
function parseCallbackBody(rawBody: string): { body: ProviderTask } | { problem: string } {
  if (Buffer.byteLength(rawBody) > MAX_CALLBACK_BYTES) return { problem: "Callback body too large" };
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { problem: "Callback body is not JSON" };
  }
  const unstorable = findUnstorableText(json);
  if (unstorable !== null) return { problem: `Callback body has a NUL byte or invalid text at ${unstorable}` };
  const parsed = providerTaskSchema.safeParse(json);
  return parsed.success ? { body: parsed.data } : { problem: "Callback body is not a task object" };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
