/**
 * Per-task callback authentication: the provider signs nothing, so the
 * callback URL carries an unguessable token, HMAC-SHA256(task id) under a key
 * derived from the server secret, compared in constant time.
 */
import { signToken, verifyToken } from "../security/signed-token.ts";

export function callbackToken(serverSecret: string, taskId: string): string {
  return signToken(serverSecret, "callback-token", taskId);
}

export function isValidCallbackToken(serverSecret: string, taskId: string, token: string | null | undefined): boolean {
  return verifyToken(serverSecret, "callback-token", taskId, token);
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
