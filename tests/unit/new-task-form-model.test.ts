/**
 * The new video form's model (app/(portal)/tasks/new/form-model.ts): the
 * request it sends, the fields each mode shows in its order, the errors it
 * shows before anything is sent, the estimate (only for a valid request;
 * for a continuation, the billing rule with the clip's measured length) and
 * the stored draft.
 */
import { describe, expect, it } from "vitest";
import {
  checkKey,
  defaultState,
  estimateOf,
  evaluate,
  fieldOrder,
  fromRequest,
  parseDraft,
  toRequest,
  visibleMaterials,
  type FileCheckState,
  type FormState,
} from "@/app/(portal)/tasks/new/form-model.ts";
import { createGenerationInputSchema, type MaterialName } from "@/server/generation/request-schema.ts";
import { describeFacts } from "@/server/media/rules.ts";

const schema = createGenerationInputSchema();
const prices = { currency: "USD", perSecond: { "720p": 0.086, "1080p": 0.144 } };
const IMAGE = "https://media.example/first.png";
const CLIP = "https://media.example/clip.mp4";

function form(over: Partial<FormState>, checks: Array<[MaterialName, string, FileCheckState]> = [], opts: { submitted?: boolean; touched?: string[] } = {}) {
  const state = { ...defaultState(), prompt: "A cat", image_start: IMAGE, ...over };
  const e = evaluate(schema, state, {
    checks: new Map(checks.map(([f, u, c]) => [checkKey(f, u), c])),
    touched: new Set(opts.touched ?? []),
    submitted: opts.submitted ?? false,
    uploading: new Set(),
  });
  return { state, e, estimate: estimateOf(prices, state, e) };
}

const clipOf = (seconds: number): FileCheckState => ({ status: "ok", facts: { kind: "clip", bytes: 1_200_000, width: 640, height: 360, durationSeconds: seconds } });

describe("fields per mode", () => {
  it("shows what each mode takes, in its order: in a continuation the clip comes before the optional last frame", () => {
    expect(visibleMaterials("")).toEqual(["image_start", "image_end", "video_urls", "audio_urls"]);
    expect(visibleMaterials("first_frame")).toEqual(["image_start", "audio_urls"]);
    expect(visibleMaterials("first_last_frame")).toEqual(["image_start", "image_end", "audio_urls"]);
    expect(visibleMaterials("video_continuation")).toEqual(["video_urls", "image_end"]);
    expect(fieldOrder("video_continuation")).toEqual(["generation_mode", "prompt", "negative_prompt", "video_urls", "image_end", "quality", "duration", "seed", "prompt_extend"]);
  });

  it("sends only the materials the mode shows", () => {
    const r = toRequest({ ...defaultState(), mode: "video_continuation", prompt: "x", image_start: IMAGE, video_urls: CLIP });
    expect(r).not.toHaveProperty("image_start");
    expect(r.video_urls).toEqual([CLIP]);
  });

  it("round-trips a request (a task's settings) through the form's state", () => {
    const values = { generation_mode: "first_last_frame", prompt: "p", negative_prompt: "n", image_start: IMAGE, image_end: IMAGE, quality: "1080p", duration: 7, seed: 9, prompt_extend: true } as const;
    expect(toRequest(fromRequest(values))).toEqual(values);
  });
});

describe("the estimate appears only for a valid request", () => {
  it("prices a valid first-frame request by the billing rule", () => {
    const { estimate } = form({ duration: "8", quality: "1080p" });
    expect(estimate).toMatchObject({ kind: "ok", estimate: { billedSeconds: 8, pricePerSecond: 0.144, cost: 1.152, currency: "USD" } });
  });

  it.each(["16", "2.5", "", "1", "abc"])("no price for a duration of %j, and the duration's message says what is right", (duration) => {
    const { e, estimate } = form({ duration }, [], { submitted: true });
    expect(estimate.kind).toBe("none");
    expect(e.shown.duration).toEqual(["The duration must be a whole number of seconds from 2 to 15."]);
  });

  it("an empty duration is never taken as 5 s", () => {
    expect(Number.isNaN(toRequest({ ...defaultState(), duration: " " }).duration)).toBe(true);
  });

  it("does not wait for the prompt (it does not change the price), but does for the materials", () => {
    expect(form({ prompt: "" }).estimate.kind).toBe("ok");
    expect(form({ image_start: "" }).estimate.kind).toBe("none");
    expect(form({}, [["image_start", IMAGE, { status: "refused", errors: ["too small"] }]]).estimate.kind).toBe("none");
  });

  it("for a continuation: waits for the clip's length, then bills the whole duration, and refuses one shorter than the clip", () => {
    const cont = { mode: "video_continuation" as const, video_urls: CLIP };
    expect(form({ ...cont, duration: "3" }, [["video_urls", CLIP, { status: "checking" }]]).estimate).toEqual({ kind: "pending", text: "No estimate yet: measuring the clip…" });
    const short = form({ ...cont, duration: "3" }, [["video_urls", CLIP, clipOf(5)]]);
    expect(short.estimate.kind).toBe("none");
    expect(short.e.shown.duration).toEqual([
      "The duration (3 s) is shorter than the clip to continue (5 s): a continued video's duration is the whole output, clip included. Set it to at least 5 s.",
    ]);
    const ok = form({ ...cont, duration: "8" }, [["video_urls", CLIP, clipOf(5)]]);
    expect(ok.estimate).toMatchObject({ kind: "ok", clipSeconds: 5, durationSeconds: 8, estimate: { billedSeconds: 8, cost: 0.688 } });
    const equal = form({ ...cont, duration: "5" }, [["video_urls", CLIP, clipOf(5)]]);
    expect(equal.estimate).toMatchObject({ kind: "ok", estimate: { billedSeconds: 5 } });
    expect(equal.e.notices).toEqual(["The duration equals the clip's length (5 s): the clip comes back unchanged, and is still billed."]);
    // A clip the portal could not download: the provider judges it; the rule's price on the duration.
    const unchecked = form({ ...cont, duration: "6" }, [["video_urls", CLIP, { status: "unchecked", notice: "could not be downloaded" }]]);
    expect(unchecked.estimate).toMatchObject({ kind: "ok", estimate: { billedSeconds: 6 } });
  });
});

describe("errors shown before anything is sent", () => {
  it("a refused combination at once; a missing prompt only once touched or on submit", () => {
    const both = form({ video_urls: CLIP });
    expect(both.e.shown.image_start?.[0]).toMatch(/^A first frame image and a clip to continue do not go together/);
    expect(both.e.shown.prompt).toBeUndefined();
    expect(form({ prompt: "" }).e.shown.prompt).toBeUndefined();
    expect(form({ prompt: "" }, [], { touched: ["prompt"] }).e.shown.prompt).toEqual(["Describe the video in the prompt."]);
    expect(form({ prompt: "" }, [], { submitted: true }).e.shown.prompt).toEqual(["Describe the video in the prompt."]);
  });

  it("a file's check errors show beside it as soon as it is checked, and only for the link it was made for", () => {
    const refused: FileCheckState = { status: "refused", errors: ["The first frame image is a video (MP4, 5 s), not an image."] };
    expect(form({}, [["image_start", IMAGE, refused]]).e.shown.image_start).toEqual(refused.errors);
    expect(form({ image_start: "https://media.example/other.png" }, [["image_start", IMAGE, refused]]).e.shown.image_start).toBeUndefined();
  });

  it("files being checked are pending", () => {
    expect(form({}, [["image_start", IMAGE, { status: "checking" }]]).e.pending).toEqual(["image_start"]);
  });
});

describe("measured facts", () => {
  it("are said in one line", () => {
    expect(describeFacts({ kind: "image", bytes: 210_000, type: "png", width: 640, height: 360 })).toBe("PNG · 640×360 px · 210 kB");
    expect(describeFacts({ kind: "clip", bytes: 1_200_000, width: 640, height: 360, durationSeconds: 5.0004 })).toBe("MP4 · 640×360 px · 5 s · 1.2 MB");
    expect(describeFacts({ kind: "audio", bytes: 52_000, format: "mp3", description: "MPEG (MPEG 1 Layer 3)", durationSeconds: 3.168 })).toBe("MP3 · 3.168 s · 52 kB");
  });
});

describe("drafts", () => {
  it("reads back what was stored, and nothing that is not a draft", () => {
    const state = { ...defaultState(), prompt: "kept", mode: "first_frame" as const, duration: "" };
    const stored = JSON.stringify({ v: 1, savedAt: "2026-11-26T10:00:00Z", state, files: { image_start: { name: "cat.png", uploaded: true } } });
    expect(parseDraft(stored)).toEqual({ v: 1, savedAt: "2026-11-26T10:00:00Z", state, files: { image_start: { name: "cat.png", uploaded: true } } });
    expect(parseDraft("{not json")).toBeNull();
    expect(parseDraft(JSON.stringify({ v: 2, state }))).toBeNull();
    expect(parseDraft(JSON.stringify({ v: 1, state: { ...state, mode: "text_to_video", quality: "4k", prompt: 5 } }))?.state).toMatchObject({ mode: "", quality: "720p", prompt: "" });
  });
});
