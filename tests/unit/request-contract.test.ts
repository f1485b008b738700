/**
 * The request contract, table-driven: the mode table, automatic selection,
 * every combination of materials with and without an explicit mode, every
 * field's limits at / just inside / just outside its bound, and the provider
 * body per mode. The expectations are written out here from the provider's
 * reference, not computed with the module under test.
 */
import { describe, expect, it } from "vitest";
import { SEED_AUTO_SELECTION, SEED_MODE_TABLE } from "../fixtures/seed-contract.ts";
import { fieldErrorsOf, type FieldErrors } from "@/server/errors.ts";
import { checkGenerationRequest } from "@/server/simulator/contract.ts";
import {
  createGenerationInputSchema,
  deriveMode,
  GENERATION_MODES,
  LIMITS,
  MATERIALS,
  MODE_RULES,
  toProviderBody,
  truncateToLimit,
  type GenerationInput,
  type GenerationModeName,
  type MaterialName,
} from "@/server/generation/request-schema.ts";

const schema = createGenerationInputSchema();
const URLS = {
  image_start: "https://media.example/first.png",
  image_end: "https://media.example/last.png",
  video_urls: ["https://media.example/clip.mp4"],
  audio_urls: ["https://media.example/voice.mp3"],
} as const;
const base = { prompt: "A cat playing piano" };

function withMaterials(materials: readonly MaterialName[], extra: Record<string, unknown> = {}) {
  const input: Record<string, unknown> = { ...base, ...extra };
  for (const m of materials) input[m] = URLS[m];
  return input;
}

function parse(input: unknown, s = schema) {
  const r = s.safeParse(input);
  const noErrors: FieldErrors = {};
  return r.success ? { ok: true as const, data: r.data, errors: noErrors } : { ok: false as const, data: undefined, errors: fieldErrorsOf(r.error) };
}

// The seed reference's table, restated.
const TABLE = SEED_MODE_TABLE;
const AUTO = SEED_AUTO_SELECTION;

/** The fields as people read them (server/generation/labels.ts), written out. */
const THE: Record<string, string> = {
  prompt: "The prompt",
  negative_prompt: "The negative prompt",
  image_start: "The first frame image",
  image_end: "The last frame image",
  video_urls: "The clip to continue",
  audio_urls: "The driving audio",
};
/** API names: never in a message a person reads, except as secondary text in parentheses. */
const API_NAME = /\b(image_start|image_end|video_urls|audio_urls|first_frame|first_last_frame|video_continuation|generation_mode)\b/;

const key = (ms: readonly MaterialName[]) => [...ms].sort().join("+") || "(none)";
const SUBSETS: MaterialName[][] = Array.from({ length: 16 }, (_, bits) => MATERIALS.filter((_, i) => bits & (1 << i)));

describe("the mode table", () => {
  it("is exported as data, exactly as the reference states it", () => {
    expect(MODE_RULES).toEqual(TABLE);
    expect(GENERATION_MODES).toEqual(["first_frame", "first_last_frame", "video_continuation"]);
  });

  describe.each(GENERATION_MODES)("%s", (mode) => {
    const row = TABLE[mode];

    it(`accepts its required materials (${row.required.join(", ")}), alone and with each optional one`, () => {
      for (const materials of [row.required, ...row.optional.map((o) => [...row.required, o])]) {
        const r = parse(withMaterials(materials, { generation_mode: mode }));
        expect(r.errors).toEqual({});
        expect(r.data?.generation_mode).toBe(mode);
      }
    });

    it.each(row.required)("refuses it without %s, naming the field", (missing) => {
      const r = parse(withMaterials([...row.required.filter((m) => m !== missing), ...row.optional], { generation_mode: mode }));
      expect(r.ok).toBe(false);
      expect(r.errors[missing]?.[0]).toMatch(/ needs .*: give its URL or upload it/);
      expect(r.errors[missing]?.[0]).not.toMatch(API_NAME);
    });

    it.each(row.refused)("refuses %s, naming the field and what to do", (refused) => {
      const r = parse(withMaterials([...row.required, refused], { generation_mode: mode }));
      expect(r.ok).toBe(false);
      expect(Object.keys(r.errors)).toEqual([refused]);
      expect(r.errors[refused]?.[0]).toMatch(/; remove (it|the clip|the audio)/);
      expect(r.errors[refused]?.[0]).not.toMatch(API_NAME);
    });
  });

  it("says what the issue asks for, in the person's words: first_frame + image_end, first_frame + a clip", () => {
    expect(parse(withMaterials(["image_start", "image_end"], { generation_mode: "first_frame" })).errors).toEqual({
      image_end: ["A first-frame video takes no last frame image; remove it or switch to First and last frame."],
    });
    expect(parse(withMaterials(["image_start", "video_urls"], { generation_mode: "first_frame" })).errors).toEqual({
      video_urls: ["A first-frame video takes one start image; remove the clip or switch to Continue a video."],
    });
  });

  it("refuses an unknown mode, listing the modes", () => {
    expect(parse(withMaterials(["image_start"], { generation_mode: "text_to_video" })).errors).toEqual({
      generation_mode: ["The mode must be First frame (first_frame), First and last frame (first_last_frame), Continue a video (video_continuation), or left out to follow the materials."],
    });
  });
});

describe("automatic selection when generation_mode is omitted", () => {
  it.each(AUTO)("%j -> %s, stored explicitly", (materials, mode) => {
    expect(deriveMode(withMaterials(materials))).toBe(mode);
    const r = parse(withMaterials(materials));
    expect(r.errors).toEqual({});
    expect(r.data?.generation_mode).toBe(mode);
  });

  it("treats empty strings and empty arrays as absent", () => {
    expect(deriveMode({ image_start: URLS.image_start, image_end: "  ", video_urls: [], audio_urls: [] })).toBe("first_frame");
    const r = parse({ ...base, image_start: URLS.image_start, image_end: "", video_urls: [], audio_urls: [] });
    expect(r.data).toEqual({ ...base, image_start: URLS.image_start, generation_mode: "first_frame", quality: "720p", duration: 5, prompt_extend: false });
  });
});

describe("every combination of materials, with and without an explicit mode", () => {
  const autoByKey = new Map(AUTO.map(([ms, mode]) => [key(ms), mode]));
  const cases: Array<[string, string, MaterialName[], GenerationModeName | undefined, GenerationModeName | null]> = [];
  for (const subset of SUBSETS) {
    cases.push([key(subset), "(omitted)", subset, undefined, autoByKey.get(key(subset)) ?? null]);
    for (const mode of GENERATION_MODES) {
      const row = TABLE[mode];
      const ok = row.required.every((m) => subset.includes(m)) && !subset.some((m) => row.refused.includes(m));
      cases.push([key(subset), mode, subset, mode, ok ? mode : null]);
    }
  }

  it("covers 16 subsets x 4 mode choices, 6 + 10 of them without a mode", () => {
    expect(cases).toHaveLength(64);
    expect(cases.filter((c) => c[3] === undefined && c[4] !== null)).toHaveLength(6);
    expect(cases.filter((c) => c[3] === undefined && c[4] === null)).toHaveLength(10);
  });

  it.each(cases)("%s with mode %s", (_k, _m, subset, mode, expected) => {
    const r = parse(withMaterials(subset, mode ? { generation_mode: mode } : {}));
    if (mode === undefined) expect(deriveMode(withMaterials(subset))).toBe(expected);
    if (expected !== null) {
      expect(r.errors).toEqual({});
      expect(r.data?.generation_mode).toBe(expected);
      return;
    }
    expect(r.ok).toBe(false);
    // Every message sits on a material field, in the person's words (no API names), and says what to do.
    const fields = Object.keys(r.errors);
    expect(fields.length).toBeGreaterThan(0);
    for (const field of fields) {
      expect(MATERIALS).toContain(field);
      for (const message of r.errors[field] ?? []) {
        expect(message).not.toMatch(API_NAME);
        expect(message).toMatch(/(remove|give|switch)/i);
      }
    }
  });

  it.each([
    [[], { image_start: "Give a first frame image to start the video from (or a clip to continue): its URL or an upload." }],
    [["audio_urls"], { image_start: "Give a first frame image to start the video from (or a clip to continue): its URL or an upload." }],
    [["image_end"], { image_start: "A last frame image needs a first frame image too; to end a continued clip on it, give the clip to continue instead." }],
    [["image_end", "audio_urls"], { image_start: "A last frame image needs a first frame image too; to end a continued clip on it, give the clip to continue instead." }],
    [["video_urls", "image_start"], { image_start: "A first frame image and a clip to continue do not go together: a continued video starts from the clip. Remove one of them." }],
    [["video_urls", "audio_urls"], { audio_urls: "Driving audio and a clip to continue do not go together: a continued video takes no audio. Remove one of them." }],
  ] as Array<[MaterialName[], Record<string, string>]>)("without a mode, %j is refused with a message saying what to do", (materials, expected) => {
    const r = parse(withMaterials(materials));
    expect(r.errors).toEqual(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, [v]])));
  });
});

describe("limits, at / just inside / just outside each bound", () => {
  const ok = (extra: Record<string, unknown>) => parse(withMaterials(["image_start"], extra));

  describe.each([
    ["prompt", LIMITS.promptMaxChars],
    ["negative_prompt", LIMITS.negativePromptMaxChars],
  ] as const)("%s (max %s characters, counted one per character)", (field, max) => {
    it.each([
      ["ASCII", "x"],
      ["Chinese", "猫"],
      ["emoji (two UTF-16 units, one character)", "🎹"],
    ])("%s", (_name, ch) => {
      expect(ok({ [field]: ch.repeat(max - 1) }).ok).toBe(true);
      expect(ok({ [field]: ch.repeat(max) }).ok).toBe(true);
      const over = ok({ [field]: ch.repeat(max + 1) });
      expect(over.errors).toEqual({
        [field]: [`${THE[field]} is ${max + 1} characters; the limit is ${max} (1 over). Shorten it or truncate it to ${max} characters; the video service would cut the rest silently.`],
      });
      expect(ok({ [field]: ch.repeat(max + 250) }).errors[field]?.[0]).toMatch(/\(250 over\)/);
    });

    it("with overLongText: 'truncate', cuts to the limit by characters instead of refusing", () => {
      const truncating = createGenerationInputSchema({ overLongText: "truncate" });
      const r = parse(withMaterials(["image_start"], { [field]: "🎹".repeat(max + 10) }), truncating);
      expect(r.ok).toBe(true);
      expect(Array.from((r.data as unknown as Record<string, string>)[field] ?? "")).toHaveLength(max);
    });
  });

  it("prompt is required, and must not be blank", () => {
    expect(parse({ image_start: URLS.image_start }).errors.prompt).toEqual(["The prompt must be text"]);
    expect(ok({ prompt: " \n " }).errors.prompt).toEqual(["Describe the video in the prompt."]);
  });

  it("truncateToLimit counts and cuts by characters, never splitting one", () => {
    expect(truncateToLimit("猫🎹ab", 2)).toBe("猫🎹");
    expect(truncateToLimit("abc", 3)).toBe("abc");
    expect(truncateToLimit("🎹".repeat(5001), 5000)).toBe("🎹".repeat(5000));
    expect(truncateToLimit("", 5)).toBe("");
  });

  // One message for every wrong duration: it says what is right.
  const durationMessage = "The duration must be a whole number of seconds from 2 to 15.";
  const wholeMessage = durationMessage;
  it.each([
    [1, durationMessage],
    [2, null],
    [3, null],
    [14, null],
    [15, null],
    [16, durationMessage],
    [0, durationMessage],
    [-5, durationMessage],
    [2.5, wholeMessage],
    [14.999, wholeMessage],
    [Number.NaN, wholeMessage],
    [Number.POSITIVE_INFINITY, wholeMessage],
    ["5", wholeMessage],
  ] as Array<[unknown, string | null]>)("duration %s", (duration, message) => {
    const r = ok({ duration });
    if (message === null) expect(r.data?.duration).toBe(duration);
    else expect(r.errors).toEqual({ duration: [message] });
  });

  it("duration defaults to 5", () => {
    expect(ok({}).data?.duration).toBe(5);
  });

  const seedMessage = "The seed must be a whole number from 1 to 2147483647; leave it empty for a random one.";
  it.each([
    [0, false],
    [1, true],
    [2, true],
    [LIMITS.seedMax - 1, true],
    [LIMITS.seedMax, true],
    [LIMITS.seedMax + 1, false],
    [-1, false],
    [1.5, false],
    ["42", false],
  ] as Array<[unknown, boolean]>)("seed %s accepted: %s", (seed, accepted) => {
    const r = ok({ seed });
    if (accepted) expect(r.data?.seed).toBe(seed);
    else expect(r.errors).toEqual({ seed: [seedMessage] });
  });

  it("seed absent means random: not sent", () => {
    const r = ok({});
    expect(r.data).not.toHaveProperty("seed");
    expect(toProviderBody(r.data as GenerationInput)).not.toHaveProperty("seed");
  });

  it.each([
    [undefined, "720p"],
    ["720p", "720p"],
    ["1080p", "1080p"],
    ["4k", null],
    ["1080P", null],
  ])("quality %s -> %s", (quality, expected) => {
    const r = ok(quality === undefined ? {} : { quality });
    if (expected) expect(r.data?.quality).toBe(expected);
    else expect(r.errors).toEqual({ quality: ["The quality must be 720p or 1080p."] });
  });

  it.each([
    [undefined, false],
    [false, false],
    [true, true],
    ["true", null],
    [1, null],
  ])("prompt_extend %s -> %s", (prompt_extend, expected) => {
    const r = ok(prompt_extend === undefined ? {} : { prompt_extend });
    if (expected !== null) expect(r.data?.prompt_extend).toBe(expected);
    else expect(r.errors).toEqual({ prompt_extend: ["Prompt rewriting (prompt_extend) must be true or false."] });
  });

  describe.each([
    ["video_urls", ["video_urls"], "Give one clip only; remove the others."],
    ["audio_urls", ["image_start", "audio_urls"], "Give one audio file only; remove the others."],
  ] as Array<[MaterialName, MaterialName[], string]>)("%s holds at most one element", (field, materials, message) => {
    const one = "https://media.example/a";
    it.each([
      [0, true],
      [1, true],
      [2, false],
    ])("%s elements accepted: %s", (n, accepted) => {
      const r = parse({ ...withMaterials(materials.filter((m) => m !== field)), [field]: Array.from({ length: n }, (_, i) => `${one}${i}`) });
      if (n === 0 && field === "video_urls") {
        // No clip at all: then nothing to continue, so image_start is missing.
        expect(Object.keys(r.errors)).toEqual(["image_start"]);
        return;
      }
      if (accepted) {
        expect(r.errors).toEqual({});
        if (n === 0) expect(r.data).not.toHaveProperty(field);
      } else expect(r.errors).toEqual({ [field]: [message] });
    });

    it("refuses a bare string in place of the list", () => {
      expect(parse({ ...withMaterials(materials.filter((m) => m !== field)), [field]: one }).errors[field]?.[0]).toMatch(new RegExp(`^${THE[field]} must be a list of links \\(${field}\\)`));
    });
  });

  describe("URLs are https only, on public hosts (http only on the origins listed for the local simulator)", () => {
    const fields: Array<[MaterialName, (u: string) => unknown, MaterialName[]]> = [
      ["image_start", (u) => u, []],
      ["image_end", (u) => u, ["image_start"]],
      ["video_urls", (u) => [u], []],
      ["audio_urls", (u) => [u], ["image_start"]],
    ];
    const refusedHttp = (field: string) => `${THE[field]} must be an https:// link the video service can download.`;
    const refusedLocal = (field: string) => `${THE[field]} is on a private network or this computer, where the video service cannot fetch it; use a public address.`;
    it.each(fields.flatMap(([field, wrap, others]) => [
      [field, "https://media.example/x", null, wrap, others],
      [field, "  https://media.example/x  ", null, wrap, others],
      [field, "http://media.example/x", refusedHttp, wrap, others],
      [field, "ftp://media.example/x", refusedHttp, wrap, others],
      [field, "data:image/png;base64,AAAA", refusedHttp, wrap, others],
      [field, "javascript:alert(1)", refusedHttp, wrap, others],
      [field, "http://127.0.0.1:4010/x", refusedLocal, wrap, others],
      [field, "https://localhost/x", refusedLocal, wrap, others],
      [field, "https://10.0.0.1/x", refusedLocal, wrap, others],
    ] as const))("%s = %j (refused: %s)", (field, u, refused, wrap, others) => {
      const r = parse({ ...withMaterials(others), [field]: wrap(u) });
      if (refused === null) expect(r.errors).toEqual({});
      else {
        const messages = Object.entries(r.errors).filter(([k]) => k.startsWith(field)).flatMap(([, v]) => v);
        expect(messages).toEqual([refused(field)]);
      }
    });

    it.each(fields.map(([f, w, o]) => [f, w, o] as const))("%s: a relative URL is refused with an example", (field, wrap, others) => {
      const r = parse({ ...withMaterials(others), [field]: wrap("/frames/a.png") });
      const messages = Object.entries(r.errors).filter(([k]) => k.startsWith(field)).flatMap(([, v]) => v);
      expect(messages).toEqual([expect.stringMatching(new RegExp(`^${THE[field]} must be a full link, like https://`))]);
    });

    it("accepts http on loopback only on a listed origin, exactly", () => {
      for (const origin of ["http://127.0.0.1:4010", "http://localhost:4010", "http://[::1]:4010"]) {
        const local = createGenerationInputSchema({ httpOrigins: [origin] });
        expect(parse({ ...base, image_start: `${origin}/x.png` }, local).ok).toBe(true);
        expect(parse({ ...base, image_start: `${origin}/x.png` }).ok).toBe(false);
      }
      const local = createGenerationInputSchema({ httpOrigins: ["http://127.0.0.1:4010"] });
      for (const u of ["http://127.0.0.1:4011/x.png", "http://localhost:4010/x.png", "http://[::1]:4010/x.png", "http://192.168.1.2/x.png"]) {
        expect(parse({ ...base, image_start: u }, local).ok, u).toBe(false);
      }
    });
  });
});

describe("toProviderBody", () => {
  const common = { model: "wan2.7-image-to-video", prompt: base.prompt, quality: "720p", duration: 5, prompt_extend: false };

  it.each([
    ["first_frame", ["image_start"], { image_start: URLS.image_start }],
    ["first_frame", ["image_start", "audio_urls"], { image_start: URLS.image_start, audio_urls: URLS.audio_urls }],
    ["first_last_frame", ["image_start", "image_end"], { image_start: URLS.image_start, image_end: URLS.image_end }],
    ["first_last_frame", ["image_start", "image_end", "audio_urls"], { image_start: URLS.image_start, image_end: URLS.image_end, audio_urls: URLS.audio_urls }],
    ["video_continuation", ["video_urls"], { video_urls: URLS.video_urls }],
    ["video_continuation", ["video_urls", "image_end"], { video_urls: URLS.video_urls, image_end: URLS.image_end }],
  ] as Array<[GenerationModeName, MaterialName[], Record<string, unknown>]>)("%s with %j sends exactly the fields that apply", (mode, materials, fields) => {
    const input = schema.parse(withMaterials(materials, { generation_mode: mode }));
    expect(toProviderBody(input, "https://portal.example/cb?token=t")).toEqual({
      ...common,
      generation_mode: mode,
      ...fields,
      callback_url: "https://portal.example/cb?token=t",
    });
    // The same body when the mode was left to the materials.
    expect(toProviderBody(schema.parse(withMaterials(materials)))).toEqual({ ...common, generation_mode: mode, ...fields });
  });

  it("never sends empty arrays, nor a material the mode refuses (even if a caller sets one)", () => {
    const input: GenerationInput = {
      ...schema.parse(withMaterials(["video_urls"])),
      image_start: URLS.image_start,
      audio_urls: [],
    };
    const body = toProviderBody(input);
    expect(body).not.toHaveProperty("image_start");
    expect(body).not.toHaveProperty("audio_urls");
    expect(body.video_urls).toEqual(URLS.video_urls);
  });

  it("sends the optional settings only when given", () => {
    const body = toProviderBody(schema.parse(withMaterials(["image_start"], { seed: 42, negative_prompt: "blurry", quality: "1080p", duration: 15, prompt_extend: true })));
    expect(body).toMatchObject({ seed: 42, negative_prompt: "blurry", quality: "1080p", duration: 15, prompt_extend: true });
    expect(toProviderBody(schema.parse(withMaterials(["image_start"], { negative_prompt: "" })))).not.toHaveProperty("negative_prompt");
  });
});

describe("agreement with the simulator's independently written contract (server/simulator/contract.ts)", () => {
  const callback = "https://portal.example/api/callbacks/t?token=x";
  const combos = SUBSETS.flatMap((subset) => [undefined, ...GENERATION_MODES].map((mode) => [key(subset), mode ?? "(omitted)", subset, mode] as const));

  it.each(combos)("%s with mode %s: the simulator takes what the schema accepts, with the same mode", (_k, _m, subset, mode) => {
    const r = parse(withMaterials(subset, mode ? { generation_mode: mode } : {}));
    if (!r.ok) return;
    const verdict = checkGenerationRequest(toProviderBody(r.data, callback));
    expect(verdict).toMatchObject({ ok: true, mode: r.data.generation_mode });
  });

  it.each([
    ["prompt", "猫".repeat(LIMITS.promptMaxChars)],
    ["negative_prompt", "🎹".repeat(LIMITS.negativePromptMaxChars)],
    ["duration", LIMITS.durationMin],
    ["duration", LIMITS.durationMax],
    ["seed", LIMITS.seedMin],
    ["seed", LIMITS.seedMax],
    ["quality", "1080p"],
    ["prompt_extend", true],
  ] as Array<[string, unknown]>)("%s at its bound (%#) passes both", (field, value) => {
    const r = parse(withMaterials(["image_start", "audio_urls"], { [field]: value }));
    expect(r.errors).toEqual({});
    expect(checkGenerationRequest(toProviderBody(r.data as GenerationInput, callback))).toMatchObject({ ok: true });
  });
});
