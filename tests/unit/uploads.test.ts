import { describe, expect, it } from "vitest";
import { callbackToken } from "@/server/callbacks/token.ts";
import { httpMediaOrigins } from "@/server/config.ts";
import { parseRange } from "@/server/http/range.ts";
import { uploadAvailability, UPLOADS_UNAVAILABLE } from "@/server/uploads/availability.ts";
import { isValidUploadToken, uploadToken } from "@/server/uploads/token.ts";

describe("upload tokens", () => {
  const secret = "s".repeat(40);
  const key = "uploads/0b7e6f9a-2c1d-4e5f-8a9b-0c1d2e3f4a5b.png";

  it("opens the file it was made for, under the same secret, only", () => {
    const token = uploadToken(secret, key);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(isValidUploadToken(secret, key, token)).toBe(true);
    expect(isValidUploadToken(secret, key.replace(".png", ".jpg"), token)).toBe(false);
    expect(isValidUploadToken("t".repeat(40), key, token)).toBe(false);
    expect(isValidUploadToken(secret, key, token.slice(0, -1))).toBe(false);
    expect(isValidUploadToken(secret, key, `${token}A`)).toBe(false);
    expect(isValidUploadToken(secret, key, "")).toBe(false);
    expect(isValidUploadToken(secret, key, null)).toBe(false);
  });

  it("is not a callback token for the same text (separate key derivations)", () => {
    expect(uploadToken(secret, "x")).not.toBe(callbackToken(secret, "x"));
  });
});

describe("whether the provider can fetch upload links", () => {
  const off = { enabled: false, reason: UPLOADS_UNAVAILABLE };
  /** With the http origins the configuration allows (the simulator at its default address when `simulator`). */
  const availability = (publicBaseUrl: string, simulator: boolean) =>
    uploadAvailability({ publicBaseUrl, httpOrigins: httpMediaOrigins({ publicBaseUrl, provider: { baseUrl: "http://127.0.0.1:4010", apiKey: undefined, simulator } }).request });

  it("works with a public https address, for the real provider and the simulator", () => {
    expect(availability("https://video.example.com", false)).toEqual({ enabled: true });
    expect(availability("https://video.example.com:8443/portal", false)).toEqual({ enabled: true });
    expect(availability("https://8.8.8.8", false)).toEqual({ enabled: true });
    expect(availability("https://video.example.com", true)).toEqual({ enabled: true });
  });

  it("is off for plain http with the real provider, wherever it points", () => {
    expect(availability("http://localhost:3000", false)).toEqual(off);
    expect(availability("http://video.example.com", false)).toEqual(off);
  });

  it("is off for https addresses the internet cannot reach, with the real provider", () => {
    for (const base of ["https://localhost:3000", "https://127.0.0.1", "https://[::1]:3000", "https://10.1.2.3", "https://192.168.1.5", "https://203.0.113.7", "https://portal.local", "https://intranet", "https://app.localhost"]) {
      expect(availability(base, false), base).toEqual(off);
    }
  });

  it("accepts loopback http with the local simulator, as the request schema does, and nothing else over http", () => {
    expect(availability("http://localhost:3000", true)).toEqual({ enabled: true });
    expect(availability("http://127.0.0.1:3210", true)).toEqual({ enabled: true });
    expect(availability("http://192.168.1.5:3000", true)).toEqual(off);
    expect(availability("http://video.example.com", true)).toEqual(off);
  });

  it("is off for an address that is not a URL", () => {
    expect(availability("not a url", true)).toEqual(off);
  });
});

describe("Range header", () => {
  it("reads one range, open-ended or not, and refuses the rest", () => {
    expect(parseRange(null)).toBeUndefined();
    expect(parseRange("bytes=0-")).toEqual({ start: 0, end: undefined });
    expect(parseRange("bytes=10-19")).toEqual({ start: 10, end: 19 });
    expect(parseRange("bytes=19-10")).toBe("invalid");
    expect(parseRange("bytes=-500")).toBe("invalid");
    expect(parseRange("bytes=0-1,5-6")).toBe("invalid");
    expect(parseRange("items=0-1")).toBe("invalid");
  });
});
