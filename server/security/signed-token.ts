/**
 * Unguessable tokens for URLs that a third party calls without a session
 * (provider callbacks, upload links): HMAC-SHA256 of a value under a key
 * derived from the server secret for one purpose, so that a token made for one
 * purpose never opens another; compared in constant time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export type TokenPurpose = "callback-token" | "upload-token" | "v1-result";

function purposeKey(serverSecret: string, purpose: TokenPurpose): Buffer {
  return createHmac("sha256", serverSecret).update(`wan-portal/${purpose}/v1`).digest();
}

export function signToken(serverSecret: string, purpose: TokenPurpose, value: string): string {
  return createHmac("sha256", purposeKey(serverSecret, purpose)).update(value).digest("base64url");
}

export function verifyToken(serverSecret: string, purpose: TokenPurpose, value: string, token: string | null | undefined): boolean {
  if (!token) return false;
  const expected = Buffer.from(signToken(serverSecret, purpose, value));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
