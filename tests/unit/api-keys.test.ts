/**
 * Personal API keys, the pure parts: the key's shape and prefix, its keyed
 * hash, the derived signing secret, the bearer header, the name's rules.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { apiKeyNameSchema, apiKeyStatus, createApiKeyInput } from "@/server/apikeys/schema.ts";
import { apiKeyPrefix, bearerTokenOf, hashApiKey, isApiKeyShaped, newApiKeySecret, signingSecretFor } from "@/server/apikeys/secret.ts";

const SECRET = "unit-test-server-secret-0123456789abcdef";

describe("the key", () => {
  it("is wvp_ and 40 base-62 characters, different every time", () => {
    const keys = Array.from({ length: 200 }, newApiKeySecret);
    for (const key of keys) {
      expect(key).toMatch(/^wvp_[0-9A-Za-z]{40}$/);
      expect(isApiKeyShaped(key)).toBe(true);
    }
    expect(new Set(keys).size).toBe(keys.length);
    // Every character of the alphabet turns up (no narrowed alphabet).
    expect(new Set(keys.join("").slice(0).replace(/wvp_/g, "")).size).toBe(62);
  });

  it("refuses anything else as a key before any lookup", () => {
    const key = newApiKeySecret();
    for (const bad of ["", "wvp_", key.slice(0, -1), `${key}x`, key.replace("wvp_", "wvx_"), `${key.slice(0, -1)}-`, ` ${key}`, `Bearer ${key}`, `sk-${key.slice(4)}`]) {
      expect(isApiKeyShaped(bad), bad).toBe(false);
    }
  });

  it("is listed by its marker and first 8 characters", () => {
    const key = newApiKeySecret();
    expect(apiKeyPrefix(key)).toBe(key.slice(0, 12));
    expect(key.startsWith(apiKeyPrefix(key))).toBe(true);
  });
});

describe("the stored hash", () => {
  it("is the HMAC-SHA-256 of the key under the server secret: the same key, the same hash; another key or secret, another", () => {
    const key = newApiKeySecret();
    const hash = hashApiKey(SECRET, key);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(createHmac("sha256", SECRET).update(`api-key:${key}`).digest("hex"));
    expect(hashApiKey(SECRET, key)).toBe(hash);
    expect(hashApiKey(SECRET, newApiKeySecret())).not.toBe(hash);
    expect(hashApiKey(`${SECRET}-rotated`, key)).not.toBe(hash);
    expect(hash).not.toContain(key.slice(4, 12));
  });
});

describe("the signing secret", () => {
  it("is derived from the server secret and the key's id alone, documented byte for byte", () => {
    const s = signingSecretFor(SECRET, "key-1");
    expect(s).toMatch(/^wvps_[\w-]{43}$/);
    expect(s).toBe(`wvps_${createHmac("sha256", SECRET).update("signing:key-1").digest("base64url")}`);
    expect(signingSecretFor(SECRET, "key-1")).toBe(s);
    expect(signingSecretFor(SECRET, "key-2")).not.toBe(s);
    expect(signingSecretFor(`${SECRET}-rotated`, "key-1")).not.toBe(s);
  });

  it("is never the key's stored hash (separate labels)", () => {
    const key = newApiKeySecret();
    expect(signingSecretFor(SECRET, key).slice(5)).not.toBe(Buffer.from(hashApiKey(SECRET, key), "hex").toString("base64url"));
  });
});

describe("bearerTokenOf", () => {
  it("takes the token of a Bearer header, and nothing else", () => {
    expect(bearerTokenOf("Bearer wvp_abc")).toBe("wvp_abc");
    expect(bearerTokenOf("bearer wvp_abc")).toBe("wvp_abc");
    expect(bearerTokenOf("Bearer  wvp_abc ")).toBe("wvp_abc");
    for (const bad of [null, undefined, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "wvp_abc", "Bearer a b", "Bearerwvp_abc"]) expect(bearerTokenOf(bad), String(bad)).toBeNull();
  });
});

describe("what a person types", () => {
  it("a name: trimmed, 1 to 60 characters, one line", () => {
    expect(apiKeyNameSchema.parse("  Notebook  ")).toBe("Notebook");
    expect(apiKeyNameSchema.safeParse("   ").error?.issues[0]?.message).toMatch(/Give the key a name/);
    expect(apiKeyNameSchema.safeParse("x".repeat(61)).error?.issues[0]?.message).toMatch(/60 characters/);
    expect(apiKeyNameSchema.safeParse("x".repeat(60)).success).toBe(true);
    expect(apiKeyNameSchema.safeParse("two\nlines").error?.issues[0]?.message).toMatch(/one line/);
    expect(apiKeyNameSchema.safeParse("Ünïcode ✓ name").success).toBe(true);
  });

  it("an expiry: whole days from 1 to 3650, or none", () => {
    expect(createApiKeyInput.safeParse({ name: "a" }).success).toBe(true);
    expect(createApiKeyInput.safeParse({ name: "a", expiresInDays: 30 }).success).toBe(true);
    for (const bad of [0, -1, 1.5, 3651]) expect(createApiKeyInput.safeParse({ name: "a", expiresInDays: bad }).success, String(bad)).toBe(false);
  });
});

describe("a key's status", () => {
  const now = new Date("2026-11-10T12:00:00Z");
  it("revoked before expired; expired from its expiry on", () => {
    expect(apiKeyStatus({ revokedAt: null, expiresAt: null }, now)).toBe("active");
    expect(apiKeyStatus({ revokedAt: null, expiresAt: new Date(now.getTime() + 1) }, now)).toBe("active");
    expect(apiKeyStatus({ revokedAt: null, expiresAt: now }, now)).toBe("expired");
    expect(apiKeyStatus({ revokedAt: now, expiresAt: new Date(0) }, now)).toBe("revoked");
  });
});
