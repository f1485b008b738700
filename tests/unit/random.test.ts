import { describe, expect, it } from "vitest";
import { newRequestId } from "../../server/logging/request-id.ts";
import { pooledRandomBytes } from "../../server/security/random.ts";

describe("pooled random bytes (request ids, CSP nonces)", () => {
  it("hands out the length asked for, and no two values alike across many pool refills", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const bytes = pooledRandomBytes(16);
      expect(bytes.length).toBe(16);
      seen.add(bytes.toString("hex"));
    }
    expect(seen.size).toBe(5000);
    expect(pooledRandomBytes(5000)).toHaveLength(5000);
  });

  it("a value handed out never changes when the pool is refilled", () => {
    const first = pooledRandomBytes(16);
    const copy = Buffer.from(first);
    for (let i = 0; i < 1000; i++) pooledRandomBytes(16);
    expect(first.equals(copy)).toBe(true);
  });

  it("request ids are 32 hex digits, each new", () => {
    const ids = Array.from({ length: 1000 }, () => newRequestId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(1000);
  });
});
