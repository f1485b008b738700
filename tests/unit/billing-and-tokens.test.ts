import { describe, expect, it } from "vitest";
import { billedSecondsFor, costFor } from "@/server/billing/billing.ts";
import { callbackToken, callbackUrlFor, isValidCallbackToken } from "@/server/callbacks/token.ts";

describe("billing", () => {
  it("bills the duration of a completed task, in every mode", () => {
    expect(billedSecondsFor({ mode: "first_frame", durationSeconds: 5 }, "completed")).toBe(5);
    expect(billedSecondsFor({ mode: "first_last_frame", durationSeconds: 12 }, "completed")).toBe(12);
    // Continuation: the whole output (8 s clip, duration 8 -> billed 8).
    expect(billedSecondsFor({ mode: "video_continuation", durationSeconds: 8 }, "completed")).toBe(8);
  });

  it("does not bill failed tasks", () => {
    expect(billedSecondsFor({ mode: "first_frame", durationSeconds: 5 }, "failed")).toBe(0);
  });

  it("prices seconds from the configured table", () => {
    const prices = { currency: "USD", perSecond: { "720p": 0.086, "1080p": 0.144 } };
    expect(costFor(prices, "720p", 5)).toBe(0.43);
    expect(costFor(prices, "1080p", 15)).toBe(2.16);
  });
});

describe("callback tokens", () => {
  const secret = "s".repeat(40);

  it("accepts the task's own token only", () => {
    const token = callbackToken(secret, "task-a");
    expect(isValidCallbackToken(secret, "task-a", token)).toBe(true);
    expect(isValidCallbackToken(secret, "task-b", token)).toBe(false);
    expect(isValidCallbackToken("t".repeat(40), "task-a", token)).toBe(false);
    expect(isValidCallbackToken(secret, "task-a", token.slice(0, -1))).toBe(false);
    expect(isValidCallbackToken(secret, "task-a", null)).toBe(false);
  });

  it("builds a callback URL only where the provider can call it", () => {
    const https = callbackUrlFor({ publicBaseUrl: "https://portal.example", serverSecret: secret, simulator: false }, "t1");
    expect(https).toBe(`https://portal.example/api/callbacks/evolink/t1?token=${callbackToken(secret, "t1")}`);
    expect(callbackUrlFor({ publicBaseUrl: "http://localhost:3000", serverSecret: secret, simulator: false }, "t1")).toBeUndefined();
    expect(callbackUrlFor({ publicBaseUrl: "http://localhost:3000", serverSecret: secret, simulator: true }, "t1")).toMatch(/^http:\/\/localhost:3000\//);
  });
});
