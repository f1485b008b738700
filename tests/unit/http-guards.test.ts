/**
 * The pure rules behind the HTTP hardening: text that cannot be stored, the
 * one safe-redirect rule, the client address from trusted proxies only, the
 * security headers, and the cross-site write rule.
 */
import { describe, expect, it } from "vitest";
import { delaySeconds, DEFAULT_THROTTLE } from "@/server/auth/throttle.ts";
import { formatWait, retryAfterOf, signInRefusalMessage, throttledCode } from "@/server/auth/messages.ts";
import { safeRedirectPath } from "@/server/auth/redirect.ts";
import { AppError } from "@/server/errors.ts";
import { clientKeyOf, normalizeAddress, parseTrustedProxies, resolveClientAddress } from "@/server/http/client-address.ts";
import { toHttpResponse } from "@/server/http/errors.ts";
import { configureLogging } from "@/server/logging/logger.ts";
import { contentSecurityPolicy, isCrossSiteWrite, securityHeaders } from "@/server/http/security-headers.ts";
import { assertCleanUrl, assertStorableInput, decodeStrictUtf8, findUnstorableText, storableText } from "@/server/http/text.ts";

describe("text that cannot be stored is bad input", () => {
  it.each([
    ["a NUL byte", "abc\u0000def", "prompt"],
    ["a lone high surrogate", "abc\ud800", "prompt"],
    ["a lone low surrogate", "\udc00abc", "prompt"],
  ])("refuses %s, naming the field", (_what, text, field) => {
    expect(findUnstorableText({ prompt: text })).toBe(field);
    expect(() => assertStorableInput({ prompt: text })).toThrow(AppError);
    try {
      assertStorableInput({ prompt: text });
    } catch (err) {
      expect((err as AppError).code).toBe("BAD_REQUEST");
      expect((err as AppError).fieldErrors).toHaveProperty("prompt");
    }
  });

  it("finds it deep in arrays and in keys, and accepts ordinary text", () => {
    expect(findUnstorableText({ json: { video_urls: ["https://a.example/x.mp4", "x\u0000"] } })).toBe("json.video_urls.1");
    expect(findUnstorableText({ ["k\u0000"]: 1 })).toBe("k\u0000");
    expect(findUnstorableText({ prompt: "Un chat 🐱 qui joue du piano — 猫", n: 5, ok: true, nothing: null })).toBeNull();
    expect(storableText("a\u0000b\ud800")).toBe("a\ufffdb\ufffd");
  });

  it("refuses URLs whose path or query decode to a NUL or invalid UTF-8", () => {
    expect(() => assertCleanUrl("http://x/api/media/abc%00def")).toThrow(AppError);
    expect(() => assertCleanUrl("http://x/api/media/%FF%FE")).toThrow(AppError);
    expect(() => assertCleanUrl("http://x/api/trpc/tasks.get?input=%7B%22id%22%3A%22a%00%22%7D")).toThrow(AppError);
    expect(() => assertCleanUrl("http://x/api/uploads/a.png?token=abc-_")).not.toThrow();
    expect(() => assertCleanUrl("http://x/tasks/%E7%8C%AB")).not.toThrow();
  });

  it("decodes bodies strictly", () => {
    expect(decodeStrictUtf8(new TextEncoder().encode("héllo"))).toBe("héllo");
    expect(() => decodeStrictUtf8(new Uint8Array([0x68, 0xff, 0x69]))).toThrow(AppError);
    expect(() => decodeStrictUtf8(new Uint8Array([0x68, 0x00, 0x69]))).toThrow(AppError);
  });

  it("an internal error reaches the person as a generic message with a reference", async () => {
    const logged: string[] = [];
    configureLogging({ format: "json", write: (line) => logged.push(line) });
    try {
      const res = toHttpResponse(new Error('invalid byte sequence for encoding "UTF8": 0x00 (22021)'));
      const body = (await res.json()) as { error: { code: string; message: string; reference: string } };
      expect(res.status).toBe(500);
      expect(body.error.code).toBe("INTERNAL");
      expect(body.error.message).not.toMatch(/UTF8|0x00|22021/);
      expect(body.error.message).toContain(body.error.reference);
      // The log line has the reference and the whole error.
      const line = JSON.parse(logged[0] ?? "{}") as { level: string; msg: string; errorReference: string; err: { message: string; stack: string } };
      expect(line.level).toBe("error");
      expect(line.msg).toContain(body.error.reference);
      expect(line.errorReference).toBe(body.error.reference);
      expect(line.err.message).toContain("22021");
      expect(line.err.stack).toContain("http-guards.test.ts");
    } finally {
      configureLogging(null);
    }
  });
});

describe("safeRedirectPath: the one rule for ?next=", () => {
  it.each([
    "https://evil.example/",
    "http://evil.example",
    "//evil.example/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "evil.example",
    "",
    "/..//evil.example",
    "/.//evil.example",
    "/%2e%2e//evil.example",
    "/tasks/../..//evil.example",
    "/signin",
    "/signin?next=/tasks",
    "/api/auth/signout",
  ])("sends %j to the default", (next) => {
    expect(safeRedirectPath(next)).toBe("/tasks");
  });

  it.each([
    ["/tasks/new", "/tasks/new"],
    ["/tasks/abc?x=1#top", "/tasks/abc?x=1#top"],
    ["/account", "/account"],
    ["/tasks/../account", "/account"],
  ])("keeps the path %j", (next, expected) => {
    expect(safeRedirectPath(next)).toBe(expected);
  });

  it("ignores anything that is not a string", () => {
    expect(safeRedirectPath(undefined)).toBe("/tasks");
    expect(safeRedirectPath(["/account"])).toBe("/tasks");
  });
});

describe("client address", () => {
  const none = parseTrustedProxies("");
  const proxies = parseTrustedProxies("loopback, 10.0.0.0/8, 2001:db8::1");

  it("is the connection's peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(resolveClientAddress("203.0.113.7", "1.2.3.4", none)).toBe("203.0.113.7");
    expect(resolveClientAddress("::ffff:127.0.0.1", "1.2.3.4", none)).toBe("127.0.0.1");
  });

  it("behind trusted proxies, is the right-most address that is not one of them", () => {
    expect(resolveClientAddress("127.0.0.1", "198.51.100.9", proxies)).toBe("198.51.100.9");
    expect(resolveClientAddress("10.1.2.3", "6.6.6.6, 198.51.100.9, 10.0.0.5", proxies)).toBe("198.51.100.9");
    expect(resolveClientAddress("10.1.2.3", ["6.6.6.6", "198.51.100.9"], proxies)).toBe("198.51.100.9");
    expect(resolveClientAddress("2001:db8::1", "[2001:db8::42]", proxies)).toBe("2001:db8::42");
    // A forged entry further left is never reached; an unparsable one stops the walk.
    expect(resolveClientAddress("10.1.2.3", "garbage, 198.51.100.9", proxies)).toBe("198.51.100.9");
    expect(resolveClientAddress("10.1.2.3", "198.51.100.9, garbage", proxies)).toBe("10.1.2.3");
    expect(resolveClientAddress("10.1.2.3", undefined, proxies)).toBe("10.1.2.3");
  });

  it("a peer outside the trusted list cannot pass an address on", () => {
    expect(resolveClientAddress("198.51.100.20", "127.0.0.1", proxies)).toBe("198.51.100.20");
  });

  it("normalises and refuses what is not an address", () => {
    expect(normalizeAddress("::FFFF:10.0.0.1")).toBe("10.0.0.1");
    expect(normalizeAddress("[::1]")).toBe("::1");
    expect(normalizeAddress("fe80::1%eth0")).toBe("fe80::1");
    expect(normalizeAddress("2001:0DB8:0:0::1")).toBe(normalizeAddress("2001:db8::1"));
    expect(normalizeAddress("evil")).toBeNull();
    expect(normalizeAddress("127.1")).toBeNull();
    expect(() => parseTrustedProxies("10.0.0.0/99")).toThrow(/TRUSTED_PROXIES/);
    expect(() => parseTrustedProxies("proxy.example")).toThrow(/TRUSTED_PROXIES/);
  });
});

describe("a client, for counting sign-in failures", () => {
  it("is an IPv4 address, or an IPv6 /64 (a subscriber's whole prefix)", () => {
    expect(clientKeyOf("198.51.100.7")).toBe("198.51.100.7");
    expect(clientKeyOf("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(clientKeyOf("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe(clientKeyOf("2001:db8:1:2::1"));
    expect(clientKeyOf("2001:db8:1:3::1")).not.toBe(clientKeyOf("2001:db8:1:2::1"));
  });

  it("the app believes the client-address header only in a process the portal's web server runs", async () => {
    const { clientAddressOf, markServedByPortalServer, CLIENT_ADDRESS_HEADER } = await import("@/server/http/client-address.ts");
    const key = Symbol.for("wan-video-portal.web-server");
    const global = globalThis as Record<symbol, unknown>;
    const before = global[key];
    try {
      delete global[key];
      const headers = new Headers({ [CLIENT_ADDRESS_HEADER]: "198.51.100.7" });
      expect(clientAddressOf(headers)).toBeNull(); // e.g. under `next start`: anyone could send it
      markServedByPortalServer();
      expect(clientAddressOf(headers)).toBe("198.51.100.7");
    } finally {
      global[key] = before;
    }
  });
});

describe("logs", () => {
  it("never carry a one-time link's token", async () => {
    const { redactedPath } = await import("@/server/http/web-server.ts");
    expect(redactedPath("/invite/abcDEF123_-xyz?x=1")).toBe("/invite/…?x=1");
    expect(redactedPath("/reset/abc")).toBe("/reset/…");
    expect(redactedPath("/api/uploads/a.png?token=secret&x=1")).toBe("/api/uploads/a.png?token=…&x=1");
    expect(redactedPath("/tasks/1")).toBe("/tasks/1");
  });
});

describe("security headers", () => {
  it("a CSP with the nonce, no framing, no sniffing, no Referer to other sites; HSTS only over https", () => {
    const http = securityHeaders({ nonce: "abc", https: false, mediaOrigins: ["http://127.0.0.1:4010"] });
    expect(http["Content-Security-Policy"]).toContain("script-src 'self' 'nonce-abc' 'strict-dynamic'");
    expect(http["Content-Security-Policy"]).toContain("frame-ancestors 'none'");
    expect(http["Content-Security-Policy"]).toContain("media-src 'self' blob: https: http://127.0.0.1:4010");
    expect(http["Content-Security-Policy"]).not.toContain("unsafe-eval");
    expect(http["X-Frame-Options"]).toBe("DENY");
    expect(http["X-Content-Type-Options"]).toBe("nosniff");
    expect(http["Referrer-Policy"]).toBe("same-origin");
    expect(http).not.toHaveProperty("Strict-Transport-Security");
    const https = securityHeaders({ nonce: "abc", https: true, mediaOrigins: [] });
    expect(https["Strict-Transport-Security"]).toMatch(/^max-age=\d{7,}/);
    expect(https["Content-Security-Policy"]).toContain("upgrade-insecure-requests");
    expect(contentSecurityPolicy({ nonce: "n", https: false, mediaOrigins: [], dev: true })).toContain("'unsafe-eval'");
  });

  const write = (headers: Record<string, string>, method = "POST") => isCrossSiteWrite({ method, headers: { host: "portal.example:3000", ...headers } }, "https://video.example.com");

  it("refuses state-changing requests from another site's page", () => {
    expect(write({ origin: "https://evil.example" })).toBe(true);
    expect(write({ origin: "null" })).toBe(true);
    expect(write({ origin: "http://portal.example:3001" })).toBe(true);
    expect(write({ "sec-fetch-site": "cross-site" })).toBe(true);
    expect(write({ "sec-fetch-site": "same-site" })).toBe(true);
    expect(write({ origin: "https://evil.example" }, "PUT")).toBe(true);
  });

  it("lets through the portal's own pages, programs, and safe methods", () => {
    expect(write({ origin: "https://video.example.com" })).toBe(false);
    expect(write({ origin: "http://portal.example:3000" })).toBe(false);
    expect(write({ "sec-fetch-site": "same-origin" })).toBe(false);
    expect(write({})).toBe(false); // curl, the provider's callbacks
    expect(write({ origin: "https://evil.example" }, "GET")).toBe(false);
  });
});

describe("sign-in throttling rules", () => {
  it("free failures, then a doubling delay up to the cap", () => {
    const rule = DEFAULT_THROTTLE.account;
    const delays = Array.from({ length: 16 }, (_, i) => delaySeconds(rule, i + 1));
    expect(delays.slice(0, rule.freeFailures)).toEqual(Array(rule.freeFailures).fill(0));
    expect(delays.slice(rule.freeFailures, rule.freeFailures + 4)).toEqual([1, 2, 4, 8]);
    expect(Math.max(...Array.from({ length: 100 }, (_, i) => delaySeconds(rule, i)))).toBe(rule.maxDelaySeconds);
  });

  it("says how long to wait, in the same words for unknown emails and wrong passwords", () => {
    expect(signInRefusalMessage(null)).toBe("Wrong email or password.");
    expect(signInRefusalMessage("credentials")).toBe("Wrong email or password.");
    expect(signInRefusalMessage(throttledCode(42))).toBe("Too many failed sign-ins. Wait 42 seconds and try again.");
    expect(signInRefusalMessage("deactivated")).toMatch(/deactivated/);
    expect(signInRefusalMessage("sso_only", "Acme SSO")).toBe("Members sign in with Acme SSO: use the button below.");
    expect(formatWait(1)).toBe("1 second");
    expect(formatWait(61)).toBe("2 minutes");
    expect(retryAfterOf(throttledCode(17))).toBe(17);
    expect(retryAfterOf("credentials")).toBeNull();
  });
});
