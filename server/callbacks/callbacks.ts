/**
 * Provider callbacks. The body is untrusted: the URL's token must name the
 * task, the body is size-bounded and parsed, and the state recorded is the one
 * the provider answers to GET /v1/tasks/{id}, never the body's. Every callback
 * is logged (CallbackEvent) with what it did. Slow work (downloading the
 * result) happens in the worker; when the confirmation itself cannot be had
 * quickly, the task is handed to the reconciler and the provider still gets
 * its 2xx in time.
 */
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { providerTaskSchema, type ProviderTask, type VideoProvider } from "../provider/types.ts";
import { NOT_ENDED } from "../generation/status.ts";
import { applyProviderTask } from "../tasks/tasks.ts";
import { isValidCallbackToken } from "./token.ts";

export const MAX_CALLBACK_BYTES = 64 * 1024;
/** The provider waits 10 s for our answer; the confirmation must fit well inside. */
export const CONFIRM_TIMEOUT_MS = 4_000;

export type CallbackOutcome = "applied" | "duplicate" | "deferred";

export interface CallbackDeps {
  db: Db;
  provider: VideoProvider;
  serverSecret: string;
  confirmTimeoutMs?: number;
}

export async function handleProviderCallback(
  deps: CallbackDeps,
  input: { taskId: string; token: string | null; rawBody: string },
): Promise<{ outcome: CallbackOutcome }> {
  const { db } = deps;
  const log = (data: { taskId: string | null; outcome: string; detail?: string; reportedStatus?: string; confirmedStatus?: string }) =>
    db.callbackEvent.create({ data: { ...data, detail: data.detail?.slice(0, 1000) } });

  const task = isValidCallbackToken(deps.serverSecret, input.taskId, input.token)
    ? await db.task.findUnique({ where: { id: input.taskId } })
    : null;
  if (!task) {
    // Wrong token or unknown task: logged without a task, answered as missing.
    await log({ taskId: null, outcome: "rejected", detail: `callback for ${input.taskId.slice(0, 100)} with an invalid token` });
    throw new AppError("NOT_FOUND", "Unknown callback");
  }
  const reject = async (detail: string, reportedStatus?: string): Promise<never> => {
    await log({ taskId: task.id, outcome: "invalid", detail, reportedStatus });
    throw new AppError("BAD_REQUEST", detail);
  };

  if (Buffer.byteLength(input.rawBody) > MAX_CALLBACK_BYTES) await reject("Callback body too large");
  let json: unknown;
  try {
    json = JSON.parse(input.rawBody);
  } catch {
    await reject("Callback body is not JSON");
  }
  const parsed = providerTaskSchema.safeParse(json);
  if (!parsed.success) return reject("Callback body is not a task object");
  const body = parsed.data;
  if (task.providerTaskId && body.id !== task.providerTaskId) return reject(`Callback names another provider task (${body.id.slice(0, 100)})`, body.status);

  let confirmed: ProviderTask;
  try {
    confirmed = await withTimeout(deps.provider.getTask(body.id), deps.confirmTimeoutMs ?? CONFIRM_TIMEOUT_MS);
  } catch (err) {
    // Could not confirm now: let the reconciler ask at once instead of waiting for its next turn.
    await db.task.updateMany({ where: { id: task.id, status: NOT_ENDED }, data: { nextPollAt: new Date() } });
    await log({ taskId: task.id, outcome: "deferred", reportedStatus: body.status, detail: `confirmation failed: ${(err as Error).message}` });
    return { outcome: "deferred" };
  }
  if (confirmed.id !== body.id) return reject("The provider's answer names another task", body.status);

  if (task.providerTaskId === null) {
    // Our record of the create answer was lost, but this task's own callback
    // URL was used and the provider confirms the task: adopt its id.
    await db.task.updateMany({ where: { id: task.id, providerTaskId: null }, data: { providerTaskId: confirmed.id, submittedAt: new Date() } });
  }
  const changed = await applyProviderTask(db, task, confirmed);
  const outcome: CallbackOutcome = changed ? "applied" : "duplicate";
  await log({
    taskId: task.id,
    outcome,
    reportedStatus: body.status,
    confirmedStatus: confirmed.status,
    detail: body.status !== confirmed.status ? `the body said ${body.status}; the provider says ${confirmed.status}` : undefined,
  });
  return { outcome };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
