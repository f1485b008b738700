/**
 * The `/v1` create request at parse level: the contract table
 * (tests/fixtures/contract-cases.ts) through the portal's parser, with the
 * provider simulator's own checker beside it as a second witness. The same
 * table runs over HTTP against both servers in the integration tests.
 */
import { describe, expect, it } from "vitest";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";
import { checkGenerationRequest } from "@/server/simulator/contract.ts";
import { V1Error } from "@/server/v1/errors.ts";
import { parseV1CreateRequest } from "@/server/v1/request.ts";
import { contractCases, EXAMPLE_URLS, NOT_AN_OBJECT } from "../fixtures/contract-cases.ts";

const schema = createGenerationInputSchema();
const outcome = (body: unknown): "ok" | { param: string | null } => {
  try {
    parseV1CreateRequest(body, schema);
    return "ok";
  } catch (err) {
    if (!(err instanceof V1Error)) throw err;
    expect(err.status).toBe(400);
    expect(err.code).toBe("invalid_parameters");
    expect(err.type).toBe("invalid_request_error");
    return { param: err.param ?? null };
  }
};

describe("a /v1 create request, by the contract table", () => {
  it.each(contractCases(EXAMPLE_URLS))("$name", (c) => {
    expect(outcome(c.body)).toEqual(c.expect);
    // The simulator, written from the same reference, says the same.
    const sim = checkGenerationRequest(c.body);
    expect(sim.ok ? "ok" : { param: sim.error.param ?? null }).toEqual(c.expect);
  });

  it("keeps the mode the materials select, and the callback URL", () => {
    for (const c of contractCases(EXAMPLE_URLS).filter((x) => x.expect === "ok" && x.mode)) {
      expect(parseV1CreateRequest(c.body, schema).input.generation_mode).toBe(c.mode);
    }
    const parsed = parseV1CreateRequest({ model: "wan2.7-image-to-video", prompt: "p", image_start: EXAMPLE_URLS.image_start, callback_url: "https://hooks.example.com/done?t=1" }, schema);
    expect(parsed.callbackUrl).toBe("https://hooks.example.com/done?t=1");
    expect(parsed.input).toMatchObject({ generation_mode: "first_frame", duration: 5, quality: "720p", prompt_extend: false });
  });

  it("refuses a body that is not an object, without a param", () => {
    for (const body of [...NOT_AN_OBJECT, null]) expect(outcome(body)).toEqual({ param: null });
  });

  it("sends results to https callbacks only, without credentials in the URL (the portal calls them, not the provider)", () => {
    const base = { model: "wan2.7-image-to-video", prompt: "p", image_start: EXAMPLE_URLS.image_start };
    expect(outcome({ ...base, callback_url: "http://127.0.0.1:9/hook" })).toEqual({ param: "callback_url" });
    expect(outcome({ ...base, callback_url: "https://user:pw@hooks.example.com/x" })).toEqual({ param: "callback_url" });
    expect(outcome({ ...base, callback_url: 7 })).toEqual({ param: "callback_url" });
  });

  it("says what is wrong in a person's words", () => {
    try {
      parseV1CreateRequest({ model: "wan2.7-image-to-video", prompt: "p", generation_mode: "first_frame", image_start: EXAMPLE_URLS.image_start, video_urls: [EXAMPLE_URLS.video_urls] }, schema);
      expect.unreachable();
    } catch (err) {
      expect((err as V1Error).message).toMatch(/remove the clip or switch to Continue a video/);
    }
  });
});
