/**
 * The API page's examples (server/v1/examples.ts) say what the server does:
 * the create bodies pass the /v1 request contract, every example speaks to
 * this portal's base URL with the key from the environment, and the
 * JavaScript signature check, run here, accepts the portal's own signature
 * (server/v1/client-callbacks.ts) and refuses a changed body or an old one.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";
import { callbackSignature } from "@/server/v1/client-callbacks.ts";
import { apiExamples, EXAMPLE_LANGUAGES, EXAMPLE_STEPS, exampleCreateBody } from "@/server/v1/examples.ts";
import { parseV1CreateRequest } from "@/server/v1/request.ts";

const BASE = "https://portal.example.com";
const IMAGE = "https://example.com/first-frame.png";
const examples = apiExamples({ baseUrl: `${BASE}/`, imageUrl: IMAGE });
const schema = createGenerationInputSchema();

describe("the API page's examples", () => {
  it("the curl bodies are valid /v1 requests (the second with callback_url)", () => {
    const bodies = [examples.curl.create, examples.curl.idempotency].map((c) => JSON.parse(/-d '([^']+)'/.exec(c)![1]!) as Record<string, unknown>);
    expect(bodies[0]).toEqual(exampleCreateBody(IMAGE));
    for (const body of bodies) expect(parseV1CreateRequest(body, schema).input.prompt).toBe(exampleCreateBody(IMAGE).prompt);
    expect(parseV1CreateRequest(bodies[1], schema).callbackUrl).toBe("https://hooks.example.com/video-done");
  });

  it("every language has every step, against the base URL, with the key from the environment", () => {
    for (const language of EXAMPLE_LANGUAGES) {
      for (const step of EXAMPLE_STEPS) expect(examples[language][step].length, `${language} ${step}`).toBeGreaterThan(20);
      // JavaScript and Python define the address once, in the first example; curl names it in each.
      for (const step of language === "curl" ? (["create", "poll", "balance", "idempotency"] as const) : (["create"] as const)) expect(examples[language][step]).toContain(BASE);
      expect(examples[language].create).toContain(`${BASE}/v1`);
      expect(examples[language].create).not.toContain(`${BASE}//v1`);
      expect(examples[language].create).toContain("WVP_API_KEY");
      expect(examples[language].idempotency).toContain("Idempotency-Key");
      expect(examples[language].callback).toContain("WVP_SIGNING_SECRET");
    }
  });

  it("the JavaScript signature check accepts the portal's signature, and refuses a changed body or an old timestamp", () => {
    const code = examples.javascript.callback.replace(/^import .*$/m, "");
    const secret = "wvps_example-signing-secret";
    const isFromPortal = new Function("createHmac", "timingSafeEqual", "process", "Buffer", `${code}\nreturn isFromPortal;`)(
      createHmac,
      timingSafeEqual,
      { env: { WVP_SIGNING_SECRET: secret } },
      Buffer,
    ) as (headers: Record<string, string>, body: string) => boolean;
    const body = JSON.stringify({ id: "task-1", status: "completed" });
    const now = Math.floor(Date.now() / 1000);
    const headers = (timestamp: number, b = body) => ({ "x-portal-timestamp": String(timestamp), "x-portal-signature": callbackSignature(secret, timestamp, b) });
    expect(isFromPortal(headers(now), body)).toBe(true);
    expect(isFromPortal(headers(now), body.replace("completed", "failed"))).toBe(false);
    expect(isFromPortal(headers(now - 3600), body)).toBe(false);
    expect(isFromPortal({ ...headers(now), "x-portal-signature": callbackSignature("another-secret", now, body) }, body)).toBe(false);
  });
});
