import { describe, expect, it } from "vitest";
import { fieldErrorsOf } from "@/server/errors.ts";
import { charCount, createGenerationInputSchema, LIMITS, toProviderBody } from "@/server/generation/request-schema.ts";

const schema = createGenerationInputSchema();
const valid = { prompt: "A cat playing piano", image_start: "https://example.com/first.png" };

function errorsOf(input: unknown, s = schema) {
  const r = s.safeParse(input);
  return r.success ? {} : fieldErrorsOf(r.error);
}

describe("generation request schema", () => {
  it("fills the provider's defaults", () => {
    expect(schema.parse(valid)).toEqual({
      ...valid,
      generation_mode: "first_frame",
      quality: "720p",
      duration: 5,
      prompt_extend: false,
    });
  });

  it.each([
    [2, true],
    [15, true],
    [1, false],
    [16, false],
    [5.5, false],
  ])("duration %s accepted: %s", (duration, ok) => {
    expect(schema.safeParse({ ...valid, duration }).success).toBe(ok);
  });

  it.each([
    [1, true],
    [LIMITS.seedMax, true],
    [0, false],
    [LIMITS.seedMax + 1, false],
  ])("seed %s accepted: %s", (seed, ok) => {
    expect(schema.safeParse({ ...valid, seed }).success).toBe(ok);
  });

  it("counts prompt characters as the provider does (one per character, Chinese included)", () => {
    expect(charCount("猫弹钢琴")).toBe(4);
    expect(charCount("🎹")).toBe(1);
    expect(schema.safeParse({ ...valid, prompt: "猫".repeat(5000) }).success).toBe(true);
    const errors = errorsOf({ ...valid, prompt: "猫".repeat(5001) });
    expect(errors.prompt?.[0]).toMatch(/5001 characters; the limit is 5000/);
  });

  it("limits the negative prompt to 500 characters", () => {
    expect(schema.safeParse({ ...valid, negative_prompt: "x".repeat(500) }).success).toBe(true);
    expect(errorsOf({ ...valid, negative_prompt: "x".repeat(501) }).negative_prompt).toHaveLength(1);
  });

  it("requires a prompt and an https image, naming the field", () => {
    const errors = errorsOf({ prompt: "  ", image_start: "http://example.com/a.png" });
    expect(errors.prompt).toEqual(["prompt is required: describe the video"]);
    expect(errors.image_start).toEqual(["image_start must be an https:// URL that the provider can download"]);
    expect(errorsOf({ prompt: "x" }).image_start).toEqual(["image_start is required: give the first frame image URL (or a clip in video_urls to continue it)"]);
  });

  it("accepts http on loopback only when told to (the local simulator)", () => {
    const local = { ...valid, image_start: "http://127.0.0.1:4010/samples/first-frame.png" };
    expect(schema.safeParse(local).success).toBe(false);
    expect(createGenerationInputSchema({ allowLoopbackHttp: true }).safeParse(local).success).toBe(true);
    const remote = { ...valid, image_start: "http://example.com/a.png" };
    expect(createGenerationInputSchema({ allowLoopbackHttp: true }).safeParse(remote).success).toBe(false);
  });

  it("takes all three modes, each with its own materials (the full table is in request-contract.test.ts)", () => {
    expect(errorsOf({ ...valid, generation_mode: "video_continuation" })).toEqual({
      video_urls: ["video_urls is required in video_continuation mode; give the URL of the clip to continue (MP4, 2 to 10 s)"],
      image_start: ["image_start is not accepted in video_continuation mode; remove it (a continued clip starts from the clip itself; image_end can set the ending frame)"],
    });
    expect(schema.parse({ prompt: "x", video_urls: ["https://example.com/clip.mp4"] }).generation_mode).toBe("video_continuation");
    expect(schema.parse({ ...valid, image_end: "https://example.com/last.png" }).generation_mode).toBe("first_last_frame");
  });

  it("a malformed URL does not hide a refused combination", () => {
    expect(errorsOf({ prompt: "x", image_end: "/last.png" })).toEqual({
      image_end: ["image_end must be a full URL, like https://example.com/last-frame.png"],
      image_start: ["image_start is required with image_end (first_last_frame); to end a continued clip on image_end, give video_urls instead"],
    });
  });
});

describe("provider request body", () => {
  it("holds only the fields that apply, with the model and the portal's callback", () => {
    const body = toProviderBody(schema.parse(valid), "https://portal.example/cb");
    expect(body).toEqual({
      model: "wan2.7-image-to-video",
      generation_mode: "first_frame",
      prompt: valid.prompt,
      image_start: valid.image_start,
      quality: "720p",
      duration: 5,
      prompt_extend: false,
      callback_url: "https://portal.example/cb",
    });
    expect(toProviderBody(schema.parse({ ...valid, seed: 42, negative_prompt: "blurry" }))).toMatchObject({ seed: 42, negative_prompt: "blurry" });
    expect(toProviderBody(schema.parse(valid))).not.toHaveProperty("callback_url");
  });
});
