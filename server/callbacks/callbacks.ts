/**
 * Provider callbacks. The body is untrusted: it is parsed, its task must
 * match the one the URL's token names, and the state recorded is the one the
 * provider answers to GET /v1/tasks/{id}, not the one in the body.
 */
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { providerTaskSchema, type VideoProvider } from "../provider/types.ts";
import { applyProviderTask } from "../tasks/tasks.ts";
import { isValidCallbackToken } from "./token.ts";

export const MAX_CALLBACK_BYTES = 64 * 1024;

export async function handleProviderCallback(
  deps: { db: Db; provider: VideoProvider; serverSecret: string },
  input: { taskId: string; token: string | null; rawBody: string },
): Promise<{ changed: boolean }> {
  if (!isValidCallbackToken(deps.serverSecret, input.taskId, input.token)) {
    throw new AppError("NOT_FOUND", "Unknown callback");
  }
  const task = await deps.db.task.findUnique({ where: { id: input.taskId } });
  if (!task) throw new AppError("NOT_FOUND", "Unknown callback");
  if (Buffer.byteLength(input.rawBody) > MAX_CALLBACK_BYTES) {
    throw new AppError("BAD_REQUEST", "Callback body too large");
  }
  let json: unknown;
  try {
    json = JSON.parse(input.rawBody);
  } catch {
    throw new AppError("BAD_REQUEST", "Callback body is not JSON");
  }
  const parsed = providerTaskSchema.safeParse(json);
  if (!parsed.success) throw new AppError("BAD_REQUEST", "Callback body is not a task object");
  if (task.providerTaskId && parsed.data.id !== task.providerTaskId) {
    throw new AppError("BAD_REQUEST", "Callback names another task");
  }
  const confirmed = await deps.provider.getTask(parsed.data.id);
  if (task.providerTaskId === null) {
    // The create answer was lost but the provider knows the task: adopt its id.
    await deps.db.task.updateMany({ where: { id: task.id, providerTaskId: null }, data: { providerTaskId: confirmed.id } });
  }
  const changed = await applyProviderTask(deps.db, task, confirmed);
  return { changed };
}
