/**
 * Upload links: the provider fetches an uploaded file without a session, so
 * its URL carries an unguessable token, HMAC-SHA256(storage key) under a key
 * derived from the server secret (a different derivation from the callback
 * tokens', so one kind of token never opens the other), compared in constant
 * time. Anyone holding the link can read that one file, and nothing else.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

function uploadKey(serverSecret: string): Buffer {
  return createHmac("sha256", serverSecret).update("wan-portal/upload-token/v1").digest();
}

export function uploadToken(serverSecret: string, storageKey: string): string {
  return createHmac("sha256", uploadKey(serverSecret)).update(storageKey).digest("base64url");
}

export function isValidUploadToken(serverSecret: string, storageKey: string, token: string | null | undefined): boolean {
  if (!token) return false;
  const expected = Buffer.from(uploadToken(serverSecret, storageKey));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
