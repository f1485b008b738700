/**
 * Per-task callback authentication: the provider signs nothing, so the
 * callback URL carries an unguessable token, HMAC-SHA256(task id) under a key
 * derived from the server secret, compared in constant time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

function callbackKey(serverSecret: string): Buffer {
  return createHmac("sha256", serverSecret).update("wan-portal/callback-token/v1").digest();
}

export function callbackToken(serverSecret: string, taskId: string): string {
  return createHmac("sha256", callbackKey(serverSecret)).update(taskId).digest("base64url");
}

export function isValidCallbackToken(serverSecret: string, taskId: string, token: string | null | undefined): boolean {
  if (!token) return false;
  const expected = Buffer.from(callbackToken(serverSecret, taskId));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The callback URL for a task, or undefined when the provider could not reach
 * it: the real provider calls https URLs only (polling covers the rest); the
 * local simulator calls whatever it is given.
 */
export function callbackUrlFor(opts: { publicBaseUrl: string; serverSecret: string; simulator: boolean }, taskId: string): string | undefined {
  const base = new URL(opts.publicBaseUrl);
  if (base.protocol !== "https:" && !opts.simulator) return undefined;
  const url = new URL(`${opts.publicBaseUrl}/api/callbacks/evolink/${encodeURIComponent(taskId)}`);
  url.searchParams.set("token", callbackToken(opts.serverSecret, taskId));
  return url.toString();
}
