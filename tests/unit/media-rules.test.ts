/**
 * The media rules on real (small) files: tests/fixtures/media/ (made by its
 * generate.sh). Size limits are tested with smaller limits, not big files.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkGenerationMedia, checkMediaBytes, type MediaCheckDeps } from "@/server/media/check.ts";
import type { FetchedMedia } from "@/server/media/fetch.ts";
import { probeAudio, probeImage, probeMp4 } from "@/server/media/probe.ts";
import { MEDIA_RULES, type MediaRules } from "@/server/media/rules.ts";
import { createGenerationInputSchema, type MaterialName } from "@/server/generation/request-schema.ts";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/media/${name}`, import.meta.url)));
const asset = (name: string) => new Uint8Array(readFileSync(new URL(`../../server/simulator/assets/${name}`, import.meta.url)));
const schema = createGenerationInputSchema();
const url = (name: string) => `https://media.example/${name}`;

/** A fetcher that serves fixtures by name; "missing/..." is unreachable. */
function fixtureFetcher(calls: string[] = []): MediaCheckDeps["fetchMedia"] {
  return async (u, opts) => {
    calls.push(u);
    const name = new URL(u).pathname.slice(1);
    if (name.startsWith("missing/")) return null;
    const bytes = fixture(name);
    if (opts?.maxBytes !== undefined && bytes.length > opts.maxBytes) return { tooLarge: true, size: bytes.length } satisfies FetchedMedia;
    return { bytes };
  };
}

function withLimits(patch: { image?: number; clip?: number; audio?: number }): MediaRules {
  return {
    image: { ...MEDIA_RULES.image, maxBytes: patch.image ?? MEDIA_RULES.image.maxBytes },
    clip: { ...MEDIA_RULES.clip, maxBytes: patch.clip ?? MEDIA_RULES.clip.maxBytes },
    audio: { ...MEDIA_RULES.audio, maxBytes: patch.audio ?? MEDIA_RULES.audio.maxBytes },
  };
}

describe("probes (image-size, mp4box, music-metadata)", () => {
  it.each([
    ["image-200x200.png", { type: "png", width: 200, height: 200 }],
    ["image-239x320.png", { type: "png", width: 239, height: 320 }],
    ["image-320x240.jpg", { type: "jpg", width: 320, height: 240 }],
    ["image-320x240.webp", { type: "webp", width: 320, height: 240 }],
    ["image-8001x240.png", { type: "png", width: 8001, height: 240 }],
  ])("reads %s", (name, expected) => {
    expect(probeImage(fixture(name))).toEqual(expected);
  });

  it.each(["not-media.txt", "audio-3s.mp3", "clip-3s-320x240.mp4"])("does not take %s for an image", (name) => {
    expect(probeImage(fixture(name))).toBeNull();
  });

  it.each([
    ["clip-3s-320x240.mp4", 3, 320, 240],
    ["clip-1.5s-320x240.mp4", 1.5, 320, 240],
    ["clip-10s-320x240.mp4", 10, 320, 240],
    ["clip-2s-4112x240.mp4", 2, 4112, 240],
  ])("reads %s: %s s, %sx%s", (name, seconds, width, height) => {
    expect(probeMp4(fixture(name))).toMatchObject({ durationSeconds: seconds, width, height });
  });

  it.each(["clip-3s.webm", "image-200x200.png", "audio-3s.mp3", "not-media.txt"])("does not take %s for an MP4", (name) => {
    expect(probeMp4(fixture(name))).toBeNull();
  });

  it.each([
    ["audio-3s.mp3", "mp3", 3.168],
    ["audio-1s.mp3", "mp3", 1.152],
    ["audio-3s.wav", "wav", 3],
    ["audio-3s.ogg", "other", 3],
    ["audio-3s.flac", "other", 3],
  ])("reads %s as %s of %s s", async (name, format, seconds) => {
    const probe = await probeAudio(fixture(name));
    expect(probe?.format).toBe(format);
    expect(probe?.durationSeconds).toBeCloseTo(seconds, 2);
  });

  it.each(["not-media.txt", "image-200x200.png"])("does not take %s for audio", async (name) => {
    expect(await probeAudio(fixture(name))).toBeNull();
  });

  it("the simulator's sample image and clip meet the rules", async () => {
    expect((await checkMediaBytes("image_start", asset("first-frame.png"))).errors).toEqual([]);
    const clip = await checkMediaBytes("video_urls", asset("sample.mp4"));
    expect(clip.errors).toEqual([]);
    expect(clip.facts).toMatchObject({ kind: "clip", width: 640, height: 360, durationSeconds: 5 });
  });
});

describe("media rules on the file's bytes", () => {
  const cases: Array<[MaterialName, string, RegExp | null]> = [
    // images: 240..8000 px a side
    ["image_start", "image-200x200.png", /^The first frame image is 200×200 px; each side must be at least 240 px/],
    ["image_start", "image-239x320.png", /^The first frame image is 239×320 px; each side must be at least 240 px/],
    ["image_start", "image-240x240.png", null],
    ["image_end", "image-320x240.jpg", null],
    ["image_end", "image-320x240.webp", null],
    ["image_start", "image-8000x240.png", null],
    ["image_end", "image-8001x240.png", /^The last frame image is 8001×240 px; each side must be at most 8000 px\. Scale it down/],
    ["image_start", "not-media.txt", /^The first frame image is not an image we can read \(PNG, JPEG, WebP or BMP\)/],
    ["image_start", "audio-3s.mp3", /^The first frame image is not an image we can read/],
    // a video given as the first frame: said so, with the mode it belongs to
    ["image_start", "clip-3s-320x240.mp4", /^The first frame image is a video \(MP4, 3 s\), not an image\. A first frame must be an image\. To continue this video, switch to Continue a video/],
    ["image_end", "clip-3s-320x240.mp4", /^The last frame image is a video \(MP4, 3 s\), not an image\./],
    // clips: 2..10 s, 240..4096 px, MP4
    ["video_urls", "clip-1.5s-320x240.mp4", /^The clip to continue is 1\.5 s long; it must be 2 to 10 s\. Use a longer clip/],
    ["video_urls", "clip-2s-320x240.mp4", null],
    ["video_urls", "clip-3s-320x240.mp4", null],
    ["video_urls", "clip-10s-320x240.mp4", null],
    ["video_urls", "clip-11s-320x240.mp4", /^The clip to continue is 11 s long; it must be 2 to 10 s\. Trim it to 10 s or less/],
    ["video_urls", "clip-3s-320x200.mp4", /^The clip to continue is 320×200 px; each side must be at least 240 px/],
    ["video_urls", "clip-2s-4112x240.mp4", /^The clip to continue is 4112×240 px; each side must be at most 4096 px/],
    ["video_urls", "clip-3s.webm", /^The clip to continue is not an MP4 video we can read; export the clip as MP4/],
    // an image given as the clip: said so, with the mode it belongs to
    ["video_urls", "image-240x240.png", /^The clip to continue is an image \(PNG, 240×240 px\), not a video\. The clip to continue must be an MP4 video\. To start a video from this image, switch to First frame/],
    // audio: wav or mp3, 2..30 s
    ["audio_urls", "audio-3s.mp3", null],
    ["audio_urls", "audio-3s.wav", null],
    ["audio_urls", "audio-1s.mp3", /^The driving audio is 1\.152 s long; it must be 2 to 30 s\. Use a longer recording/],
    ["audio_urls", "audio-1s.wav", /^The driving audio is 1 s long; it must be 2 to 30 s/],
    ["audio_urls", "audio-3s.ogg", /^The driving audio is Ogg \(Vorbis I\) audio; use WAV or MP3\.$/],
    ["audio_urls", "audio-3s.flac", /^The driving audio is FLAC audio; use WAV or MP3\.$/],
    ["audio_urls", "clip-3s-320x240.mp4", /^The driving audio is a video \(MP4, 3 s\), not audio\. Driving audio must be a WAV or MP3 file/],
    ["audio_urls", "image-240x240.png", /^The driving audio is an image \(PNG, 240×240 px\), not audio\./],
    ["audio_urls", "not-media.txt", /^The driving audio is not an audio file we can read \(WAV or MP3\)/],
  ];

  it.each(cases)("%s = %s -> %s", async (field, name, expected) => {
    const { errors } = await checkMediaBytes(field, fixture(name));
    if (expected === null) expect(errors).toEqual([]);
    else {
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(expected);
    }
  });

  it.each([
    ["image_start", "image-240x240.png", "image"],
    ["video_urls", "clip-3s-320x240.mp4", "clip"],
    ["audio_urls", "audio-3s.wav", "audio"],
  ] as const)("refuses %s over its byte limit (at the limit passes, one byte over fails)", async (field, name, kind) => {
    const the = { image_start: "The first frame image", video_urls: "The clip to continue", audio_urls: "The driving audio" }[field];
    const bytes = fixture(name);
    expect((await checkMediaBytes(field, bytes, withLimits({ [kind]: bytes.length }))).errors).toEqual([]);
    const over = await checkMediaBytes(field, bytes, withLimits({ [kind]: bytes.length - 1 }));
    expect(over.errors).toEqual([expect.stringMatching(new RegExp(`^${the} is ${bytes.length} bytes; the limit is ${bytes.length - 1} bytes\\. Compress`))]);
    const halved = await checkMediaBytes(field, bytes, withLimits({ [kind]: Math.floor(bytes.length / 2) }));
    expect(halved.errors[0]).toMatch(new RegExp(`^${the} is [0-9.]+ (kB|bytes); the limit is [0-9.]+ (kB|bytes)\\. Compress`));
  });

  it("states the real limits in MB", async () => {
    expect(MEDIA_RULES.image.maxBytes).toBe(20_000_000);
    expect(MEDIA_RULES.clip.maxBytes).toBe(100_000_000);
    expect(MEDIA_RULES.audio.maxBytes).toBe(15_000_000);
  });
});

describe("checkGenerationMedia", () => {
  it("checks every material of the request, fetching each URL once", async () => {
    const calls: string[] = [];
    const input = schema.parse({
      prompt: "x",
      image_start: url("image-240x240.png"),
      image_end: url("image-240x240.png"),
      audio_urls: [url("audio-3s.mp3")],
    });
    const r = await checkGenerationMedia(input, { fetchMedia: fixtureFetcher(calls) });
    expect(r.fieldErrors).toEqual({});
    expect(r.facts.unchecked).toEqual([]);
    expect(Object.keys(r.facts.media).sort()).toEqual(["audio_urls", "image_end", "image_start"]);
    expect(calls.sort()).toEqual([url("audio-3s.mp3"), url("image-240x240.png")]);
  });

  it("reports each field's problem under its own name", async () => {
    const input = schema.parse({
      prompt: "x",
      image_start: url("image-200x200.png"),
      image_end: url("image-8001x240.png"),
      audio_urls: [url("audio-3s.ogg")],
    });
    const r = await checkGenerationMedia(input, { fetchMedia: fixtureFetcher() });
    expect(Object.keys(r.fieldErrors).sort()).toEqual(["audio_urls", "image_end", "image_start"]);
    expect(r.fieldErrors.image_start?.[0]).toMatch(/at least 240 px/);
    expect(r.fieldErrors.image_end?.[0]).toMatch(/at most 8000 px/);
    expect(r.fieldErrors.audio_urls?.[0]).toMatch(/use WAV or MP3/);
  });

  it("an unreachable file is not a validation failure: the provider judges it, and the result says so", async () => {
    const input = schema.parse({ prompt: "x", image_start: url("missing/frame.png"), audio_urls: [url("audio-3s.wav")] });
    const r = await checkGenerationMedia(input, { fetchMedia: fixtureFetcher() });
    expect(r.fieldErrors).toEqual({});
    expect(r.facts.unchecked).toEqual(["image_start"]);
    expect(r.warnings).toContain("The first frame image could not be downloaded to check it; the video service will judge it.");
  });

  it("a fetcher that throws counts as unreachable", async () => {
    const input = schema.parse({ prompt: "x", image_start: url("image-240x240.png") });
    const r = await checkGenerationMedia(input, { fetchMedia: () => Promise.reject(new Error("boom")) });
    expect(r.fieldErrors).toEqual({});
    expect(r.facts.unchecked).toEqual(["image_start"]);
  });

  it("passes each kind's byte limit to the fetcher and reports a file over it", async () => {
    const seen: Array<number | undefined> = [];
    const fetchMedia: MediaCheckDeps["fetchMedia"] = async (_u, opts) => {
      seen.push(opts?.maxBytes);
      return { tooLarge: true, size: 25_000_000 };
    };
    const input = schema.parse({ prompt: "x", image_start: url("a.png"), audio_urls: [url("b.mp3")] });
    const r = await checkGenerationMedia(input, { fetchMedia });
    expect(seen.sort()).toEqual([MEDIA_RULES.audio.maxBytes, MEDIA_RULES.image.maxBytes].sort());
    expect(r.fieldErrors.image_start).toEqual(["The first frame image is 25 MB; the limit is 20 MB. Compress it or scale it down."]);
    expect(r.fieldErrors.audio_urls).toEqual(["The driving audio is 25 MB; the limit is 15 MB. Compress or shorten the audio."]);
    const unknownSize = await checkGenerationMedia(schema.parse({ prompt: "x", video_urls: [url("c.mp4")] }), { fetchMedia: async () => ({ tooLarge: true }) });
    expect(unknownSize.fieldErrors.video_urls).toEqual(["The clip to continue is larger than 100 MB; the limit is 100 MB. Compress or shorten the clip."]);
  });

  describe("video_continuation: duration is the whole output and must be >= the clip", () => {
    const continuation = (duration: number, clip = "clip-3s-320x240.mp4") =>
      schema.parse({ prompt: "x", video_urls: [url(clip)], duration });

    it.each([
      [2, false],
      [3, true],
      [4, true],
      [15, true],
    ])("3 s clip, duration %s accepted: %s", async (duration, ok) => {
      const r = await checkGenerationMedia(continuation(duration), { fetchMedia: fixtureFetcher() });
      expect(r.facts.inputClipSeconds).toBe(3);
      expect(r.fieldErrors.duration === undefined).toBe(ok);
      if (!ok) {
        expect(r.fieldErrors.duration).toEqual([
          "The duration (2 s) is shorter than the clip to continue (3 s): a continued video's duration is the whole output, clip included. Set it to at least 3 s.",
        ]);
      }
    });

    it("equal is allowed (the clip comes back as is, still billed) and says so", async () => {
      const r = await checkGenerationMedia(continuation(3), { fetchMedia: fixtureFetcher() });
      expect(r.fieldErrors).toEqual({});
      expect(r.warnings).toEqual([expect.stringMatching(/^The duration equals the clip's length \(3 s\): the clip comes back unchanged/)]);
    });

    it("names both numbers for a fractional clip and rounds the advice up", async () => {
      const r = await checkGenerationMedia(continuation(2, "clip-1.5s-320x240.mp4"), { fetchMedia: fixtureFetcher() });
      // 1.5 s is too short a clip; the duration rule holds (2 >= 1.5).
      expect(r.fieldErrors.video_urls?.[0]).toMatch(/^The clip to continue is 1\.5 s long/);
      expect(r.fieldErrors.duration).toBeUndefined();
      const long = await checkGenerationMedia(continuation(9, "clip-10s-320x240.mp4"), { fetchMedia: fixtureFetcher() });
      expect(long.fieldErrors.duration?.[0]).toMatch(/^The duration \(9 s\) is shorter than the clip to continue \(10 s\):.*at least 10 s\.$/);
    });

    it("an unreachable clip leaves the rule to the provider", async () => {
      const r = await checkGenerationMedia(continuation(2, "missing/clip.mp4"), { fetchMedia: fixtureFetcher() });
      expect(r.fieldErrors).toEqual({});
      expect(r.facts.inputClipSeconds).toBeUndefined();
      expect(r.facts.unchecked).toEqual(["video_urls"]);
    });

    it("checks image_end as an image in continuation", async () => {
      const input = schema.parse({ prompt: "x", video_urls: [url("clip-3s-320x240.mp4")], image_end: url("image-239x320.png"), duration: 8 });
      const r = await checkGenerationMedia(input, { fetchMedia: fixtureFetcher() });
      expect(Object.keys(r.fieldErrors)).toEqual(["image_end"]);
    });
  });

  it("warns when the audio is longer than the video (the rest is cut)", async () => {
    const input = schema.parse({ prompt: "x", image_start: url("image-240x240.png"), audio_urls: [url("audio-3s.wav")], duration: 2 });
    const r = await checkGenerationMedia(input, { fetchMedia: fixtureFetcher() });
    expect(r.fieldErrors).toEqual({});
    expect(r.warnings).toEqual(["The driving audio is 3 s long; only its first 2 s drive the video."]);
  });
});
