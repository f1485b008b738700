import { describe, expect, it } from "vitest";
import { fieldErrorsOf } from "@/server/errors.ts";
import { charCount, createGenerationInputSchema, isAllowedMediaUrl, LIMITS, mediaUrlProblem, toProviderBody } from "@/server/generation/request-schema.ts";

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
    expect(errors.prompt).toEqual(["Describe the video in the prompt."]);
    expect(errors.image_start).toEqual(["The first frame image must be an https:// link the video service can download."]);
    expect(errorsOf({ prompt: "x" }).image_start).toEqual(["Give a first frame image to start the video from (or a clip to continue): its URL or an upload."]);
  });

  it("accepts http on loopback only for a listed origin (the local simulator's)", () => {
    const simulator = createGenerationInputSchema({ httpOrigins: ["http://127.0.0.1:4010"] });
    const local = { ...valid, image_start: "http://127.0.0.1:4010/samples/first-frame.png" };
    expect(schema.safeParse(local).success).toBe(false);
    expect(simulator.safeParse(local).success).toBe(true);
    const remote = { ...valid, image_start: "http://example.com/a.png" };
    expect(simulator.safeParse(remote).success).toBe(false);
    const otherPort = { ...valid, image_start: "http://127.0.0.1:4011/a.png" };
    expect(simulator.safeParse(otherPort).success).toBe(false);
  });

  it("takes all three modes, each with its own materials (the full table is in request-contract.test.ts)", () => {
    expect(errorsOf({ ...valid, generation_mode: "video_continuation" })).toEqual({
      video_urls: ["Continuing a video needs the clip to continue (MP4, 2 to 10 s): give its URL or upload it."],
      image_start: ["A continued video starts from the clip itself, so it takes no first frame image; remove it (a last frame image can set where it ends)."],
    });
    expect(schema.parse({ prompt: "x", video_urls: ["https://example.com/clip.mp4"] }).generation_mode).toBe("video_continuation");
    expect(schema.parse({ ...valid, image_end: "https://example.com/last.png" }).generation_mode).toBe("first_last_frame");
  });

  it("a malformed URL does not hide a refused combination", () => {
    expect(errorsOf({ prompt: "x", image_end: "/last.png" })).toEqual({
      image_end: ["The last frame image must be a full link, like https://example.com/last-frame.png"],
      image_start: ["A last frame image needs a first frame image too; to end a continued clip on it, give the clip to continue instead."],
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

describe("the media URL rule", () => {
  const simulator = { httpOrigins: ["http://127.0.0.1:4010", "http://localhost:3000"] };
  const notPublic = "The first frame image is on a private network or this computer, where the video service cannot fetch it; use a public address.";

  it("accepts https on public names and addresses, whatever the origins listed", () => {
    for (const u of ["https://example.com/a.png", "https://cdn.example.co.uk:8443/x/y.mp4?sig=1", "https://8.8.8.8/a.png", "https://[2606:4700:4700::1111]/a.png", "https://localhost.example.com/a.png"]) {
      expect(mediaUrlProblem(u), u).toBeNull();
      expect(mediaUrlProblem(u, simulator), u).toBeNull();
    }
  });

  it("refuses http except on a listed origin, which must match exactly (scheme, host, port)", () => {
    expect(mediaUrlProblem("http://example.com/a.png")).toBe("not-https");
    expect(mediaUrlProblem("http://example.com/a.png", simulator)).toBe("not-https");
    expect(isAllowedMediaUrl("http://127.0.0.1:4010/samples/first-frame.png", simulator)).toBe(true);
    expect(isAllowedMediaUrl("http://localhost:3000/api/uploads/x.png?token=t", simulator)).toBe(true);
    // The same origin spelled another way is the same origin; another port, host or scheme is not.
    expect(isAllowedMediaUrl("http://2130706433:4010/x.png", simulator)).toBe(true);
    for (const u of ["http://127.0.0.1:4011/x.png", "http://localhost:4010/x.png", "https://127.0.0.1:4010/x.png", "http://[::1]:4010/x.png", "http://127.0.0.2:4010/x.png"]) {
      expect(isAllowedMediaUrl(u, simulator), u).toBe(false);
    }
    expect(mediaUrlProblem("ftp://example.com/a.png", { httpOrigins: ["ftp://example.com"] })).toBe("not-https");
  });

  it("refuses this computer and private networks by their spelling, with a message a person can act on", () => {
    const hosts = ["localhost", "LOCALHOST", "localhost.", "portal.localhost", "127.0.0.1", "127.1", "2130706433", "0x7f000001", "017700000001", "0", "[::1]", "[::ffff:127.0.0.1]", "[::]", "10.0.0.1", "172.16.5.4", "192.168.1.2", "100.64.0.1", "169.254.169.254", "192.0.2.1", "198.51.100.1", "203.0.113.1", "198.18.0.1", "224.0.0.1", "240.0.0.1", "[fd00::1]", "[fe80::1]", "[fec0::1]", "[2001:db8::1]", "[64:ff9b::a00:1]", "[2002:a00:1::1]"];
    for (const scheme of ["https", "http"]) {
      for (const host of hosts) {
        const u = `${scheme}://${host}:8443/a.png`;
        expect(mediaUrlProblem(u), u).toBe("not-public");
        expect(mediaUrlProblem(u, simulator), u).toBe("not-public");
        expect(errorsOf({ ...valid, image_start: u }).image_start, u).toEqual([notPublic]);
      }
    }
  });
});

