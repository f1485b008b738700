/**
 * `callback_url` of the /v1 API, honoured the provider's way: when a task
 * ends, its task object is POSTed there (https only, through the SSRF guard,
 * 10 s per attempt, 3 retries after 1, 2 and 4 s), by a worker job. Unlike
 * the provider's, the portal's callbacks are signed, so a receiver can check
 * that they come from the portal and are fresh:
 *
 *   X-Portal-Timestamp: <Unix seconds>
 *   X-Portal-Signature: v1=<hex HMAC-SHA-256 of "<timestamp>.<body>" under the key's signing secret>
 *
 * The signing secret is the one shown with the API key when it was made
 * (server/apikeys/secret.ts: `signingSecretFor`); nothing is signed for a key
 * that no longer works (revoked, expired, its person deactivated).
 */
import { createHmac } from "node:crypto";
import { signingSecretFor } from "../apikeys/apikeys.ts";
import { apiKeyStatus } from "../apikeys/schema.ts";
import type { Db } from "../db/client.ts";
import type { GuardedPost } from "../media/fetch.ts";
import { v1TaskOf } from "./v1.ts";

export const CLIENT_CALLBACK_RETRY_DELAYS_MS = [1_000, 2_000, 4_000] as const;
export const CLIENT_CALLBACK_TIMEOUT_MS = 10_000;

/** The signature header's value for `body` sent at `timestamp` (Unix seconds). */
export function callbackSignature(signingSecret: string, timestamp: number, body: string): string {
  return `v1=${createHmac("sha256", signingSecret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export interface ClientCallbackDeps {
  db: Db;
  serverSecret: string;
  post: GuardedPost;
  resultLink: (taskId: string) => string;
  retryDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

/** Tasks whose end is waiting to be sent to their callback_url (the worker's tick queues them). */
export async function findPendingClientCallbacks(db: Db, limit = 100): Promise<string[]> {
  const rows = await db.task.findMany({ where: { clientCallbackStatus: "pending" }, select: { id: true }, orderBy: { completedAt: "asc" }, take: limit });
  return rows.map((r) => r.id);
}

/** Sends one task's end to its callback_url, with the retries; records how it went. */
export async function deliverClientCallback(deps: ClientCallbackDeps, taskId: string): Promise<"delivered" | "failed" | "skipped"> {
  const task = await deps.db.task.findUnique({ where: { id: taskId }, include: { apiKey: { include: { user: { select: { status: true } } } } } });
  if (!task || task.clientCallbackStatus !== "pending" || !task.clientCallbackUrl) return "skipped";
  const now = deps.now?.() ?? new Date();
  const record = (status: "delivered" | "failed", attempts: number, error: string | null) =>
    deps.db.task.updateMany({
      where: { id: taskId, clientCallbackStatus: "pending" },
      data: { clientCallbackStatus: status, clientCallbackAttempts: { increment: attempts }, clientCallbackError: error, clientCallbackAt: deps.now?.() ?? new Date() },
    });
  const key = task.apiKey;
  if (!key || apiKeyStatus(key, now) !== "active" || key.user.status !== "active") {
    await record("failed", 0, "Not sent: the API key that made the task no longer works (revoked, expired, or its person deactivated).");
    return "failed";
  }
  const body = JSON.stringify(v1TaskOf(task, deps.resultLink));
  const secret = signingSecretFor(deps.serverSecret, key.id);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const delays = deps.retryDelaysMs ?? CLIENT_CALLBACK_RETRY_DELAYS_MS;
  let last = "";
  for (let attempt = 0; attempt <= delays.length; attempt++) {
    if (attempt > 0) await sleep(delays[attempt - 1]!);
    const timestamp = Math.floor((deps.now?.() ?? new Date()).getTime() / 1000);
    const answer = await deps.post(task.clientCallbackUrl, body, {
      "X-Portal-Timestamp": String(timestamp),
      "X-Portal-Signature": callbackSignature(secret, timestamp, body),
      "X-Portal-Task-Id": task.id,
    });
    if ("status" in answer && answer.status >= 200 && answer.status < 300) {
      await record("delivered", attempt + 1, null);
      return "delivered";
    }
    last = "status" in answer ? `answered HTTP ${answer.status}` : answer.error;
  }
  await record("failed", delays.length + 1, `Not delivered after ${delays.length + 1} attempts: the last ${last.slice(0, 300)}.`);
  return "failed";
}
