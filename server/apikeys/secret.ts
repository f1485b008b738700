/**
 * The key itself: how a personal API key looks, how it is hashed for storage
 * and lookup, and how its webhook signing secret is derived
 * (docs/decisions/0019-personal-api-keys.md).
 *
 * A key is `wvp_` followed by 40 random base-62 characters (about 238 bits):
 * recognisable by its marker (secret scanners, logs), selectable with one
 * double-click, and far beyond guessing, so a fast keyed hash is enough to
 * store it (no password hash's deliberate slowness is needed).
 */
import { createHmac, randomInt } from "node:crypto";

export const API_KEY_MARKER = "wvp_";
const RANDOM_LENGTH = 40;
/** How many characters after the marker lists show ("wvp_Ab3dE6gH"). */
const PREFIX_RANDOM_CHARS = 8;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SHAPE = new RegExp(`^${API_KEY_MARKER}[0-9A-Za-z]{${RANDOM_LENGTH}}$`);

/** A new random key (crypto.randomInt: uniform over the alphabet, no modulo bias). */
export function newApiKeySecret(): string {
  let random = "";
  for (let i = 0; i < RANDOM_LENGTH; i++) random += ALPHABET[randomInt(ALPHABET.length)];
  return API_KEY_MARKER + random;
}

/** Whether a string could be one of our keys at all, before any lookup. */
export function isApiKeyShaped(token: string): boolean {
  return SHAPE.test(token);
}

/** What lists show of a key: the marker and the first characters after it. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, API_KEY_MARKER.length + PREFIX_RANDOM_CHARS);
}

/**
 * What the database keeps of a key, and looks it up by: HMAC-SHA-256 under
 * the server secret (AUTH_SECRET), hex. A copy of the database alone neither
 * opens anything nor lets anyone check a guess offline.
 */
export function hashApiKey(serverSecret: string, key: string): string {
  return createHmac("sha256", serverSecret).update(`api-key:${key}`).digest("hex");
}

export const SIGNING_SECRET_MARKER = "wvps_";

/**
 * The per-key signing secret of the portal's webhooks (callbacks to a
 * request's `callback_url`, issue 13).
 *
 * Contract: `signingSecretFor(serverSecret, keyId)` returns
 * `"wvps_" + base64url(HMAC-SHA-256(serverSecret, "signing:" + keyId))`
 * (48 characters). It is a pure function of the server secret and the key's
 * id: nothing is stored, the server derives it again whenever it signs, and
 * it is shown to the person once, beside the key, when the key is made.
 * Receivers use the whole string (marker included, as UTF-8 bytes) as their
 * HMAC key. It differs for every key and reveals nothing about the key or the
 * server secret. Changing AUTH_SECRET changes every signing secret (and, as
 * the key hashes are keyed with it too, retires every key): people make new
 * keys. It stays the same when the key is revoked; the callers must not sign
 * for a key that no longer works.
 */
export function signingSecretFor(serverSecret: string, keyId: string): string {
  return SIGNING_SECRET_MARKER + createHmac("sha256", serverSecret).update(`signing:${keyId}`).digest("base64url");
}

/**
 * The token of an `Authorization: Bearer <token>` header value; null when the
 * header is absent or not of that form (the scheme is case-insensitive, as in
 * RFC 9110).
 */
export function bearerTokenOf(authorization: string | null | undefined): string | null {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? "");
  return match?.[1] ?? null;
}
