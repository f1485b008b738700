/**
 * Upload links: the provider fetches an uploaded file without a session, so
 * its URL carries an unguessable token, HMAC-SHA256(storage key) under a key
 * derived from the server secret (a different derivation from the callback
 * tokens', so one kind of token never opens the other), compared in constant
 * time. Anyone holding the link can read that one file, and nothing else.
 */
import { signToken, verifyToken } from "../security/signed-token.ts";

export function uploadToken(serverSecret: string, storageKey: string): string {
  return signToken(serverSecret, "upload-token", storageKey);
}

export function isValidUploadToken(serverSecret: string, storageKey: string, token: string | null | undefined): boolean {
  return verifyToken(serverSecret, "upload-token", storageKey, token);
}
