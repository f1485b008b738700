/**
 * The media rules applied to the actual files: pixel sizes, lengths, formats
 * and sizes in bytes (rules.ts), plus the continuation rule `duration >= the
 * clip's length`. Works on bytes (`checkMediaBytes`), so uploads can reuse it
 * once the portal stores them; `checkGenerationMedia` fetches the request's
 * URLs once each and checks them. A file that cannot be fetched is not a
 * validation failure: the provider judges it, and the result says so.
 */
import type { FieldErrors } from "../errors.ts";
import { MODE_RULES, type GenerationInput, type MaterialName } from "../generation/request-schema.ts";
import type { FetchedMedia } from "./fetch.ts";
import { probeAudio, probeImage, probeMp4, type AudioProbe, type ClipProbe, type ImageProbe } from "./probe.ts";
import { formatBytes, formatSeconds, MEDIA_RULES, type MediaRules } from "./rules.ts";

export type MediaKind = "image" | "clip" | "audio";
export const MEDIA_KIND_OF: Readonly<Record<MaterialName, MediaKind>> = {
  image_start: "image",
  image_end: "image",
  video_urls: "clip",
  audio_urls: "audio",
};

export type MediaFacts =
  | ({ kind: "image"; bytes: number } & ImageProbe)
  | ({ kind: "clip"; bytes: number } & ClipProbe)
  | ({ kind: "audio"; bytes: number } & AudioProbe);

const IMAGE_NAMES: Record<string, string> = { png: "PNG", jpg: "JPEG", webp: "WebP", bmp: "BMP", gif: "GIF", svg: "SVG", tiff: "TIFF", heif: "HEIF" };
const imageName = (type: string) => IMAGE_NAMES[type] ?? type.toUpperCase();

function listOf(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}

function tooLargeMessage(field: MaterialName, limit: number, size?: number): string {
  const what = MEDIA_KIND_OF[field] === "image" ? "Compress it or scale it down" : MEDIA_KIND_OF[field] === "clip" ? "Compress or shorten the clip" : "Compress or shorten the audio";
  // Exact bytes when rounding would make the size look equal to the limit.
  const [shown, shownLimit] =
    size !== undefined && formatBytes(size) === formatBytes(limit) ? [`${size} bytes`, `${limit} bytes`] : [size !== undefined ? formatBytes(size) : undefined, formatBytes(limit)];
  return `${field} is ${shown ?? `larger than ${shownLimit}`}; the limit is ${shownLimit}. ${what}.`;
}

/** Checks one file's bytes against the rules for `field`'s kind of media. */
export async function checkMediaBytes(field: MaterialName, bytes: Uint8Array, rules: MediaRules = MEDIA_RULES): Promise<{ errors: string[]; facts?: MediaFacts }> {
  const kind = MEDIA_KIND_OF[field];
  const limit = rules[kind].maxBytes;
  if (bytes.length > limit) return { errors: [tooLargeMessage(field, limit, bytes.length)] };
  const errors: string[] = [];

  if (kind === "image") {
    const r = rules.image;
    const formats = listOf(r.formats.map(imageName));
    const probe = probeImage(bytes);
    if (!probe) return { errors: [`${field} is not an image we can read (${formats}); check that the URL points to the image file itself`] };
    const facts: MediaFacts = { kind, bytes: bytes.length, ...probe };
    if (!r.formats.includes(probe.type)) return { errors: [`${field} is a ${imageName(probe.type)} image; use ${formats}`], facts };
    const size = `${probe.width}×${probe.height} px`;
    if (Math.min(probe.width, probe.height) < r.minSide) errors.push(`${field} is ${size}; each side must be at least ${r.minSide} px. Use a larger image.`);
    if (Math.max(probe.width, probe.height) > r.maxSide) errors.push(`${field} is ${size}; each side must be at most ${r.maxSide} px. Scale it down.`);
    return { errors, facts };
  }

  if (kind === "clip") {
    const r = rules.clip;
    const probe = probeMp4(bytes);
    if (!probe) return { errors: [`${field} is not an MP4 video we can read; export the clip as MP4 (H.264) and try again`] };
    const facts: MediaFacts = { kind, bytes: bytes.length, ...probe };
    const seconds = roundMs(probe.durationSeconds);
    if (seconds < r.minSeconds || seconds > r.maxSeconds) {
      const fix = seconds < r.minSeconds ? "Use a longer clip." : `Trim it to ${r.maxSeconds} s or less.`;
      errors.push(`${field} is ${formatSeconds(seconds)} long; the clip must be ${r.minSeconds} to ${r.maxSeconds} s. ${fix}`);
    }
    const size = `${probe.width}×${probe.height} px`;
    if (Math.min(probe.width, probe.height) < r.minSide) errors.push(`${field} is ${size}; each side must be at least ${r.minSide} px. Use a larger clip.`);
    if (Math.max(probe.width, probe.height) > r.maxSide) errors.push(`${field} is ${size}; each side must be at most ${r.maxSide} px. Scale it down.`);
    return { errors, facts };
  }

  const r = rules.audio;
  const formats = listOf(r.formats.map((f) => f.toUpperCase()));
  const probe = await probeAudio(bytes);
  if (!probe) return { errors: [`${field} is not an audio file we can read (${formats}); check that the URL points to the audio file itself`] };
  const facts: MediaFacts = { kind, bytes: bytes.length, ...probe };
  if (probe.format === "other" || !r.formats.includes(probe.format)) return { errors: [`${field} is ${probe.description} audio; use ${formats}`], facts };
  if (probe.durationSeconds === undefined) return { errors: [`${field}: we could not tell how long this audio is; re-export it as ${formats}`], facts };
  const seconds = roundMs(probe.durationSeconds);
  if (seconds < r.minSeconds || seconds > r.maxSeconds) {
    const fix = seconds < r.minSeconds ? "Use a longer recording." : `Trim it to ${r.maxSeconds} s or less.`;
    errors.push(`${field} is ${formatSeconds(seconds)} long; audio must be ${r.minSeconds} to ${r.maxSeconds} s. ${fix}`);
  }
  return { errors, facts };
}

function roundMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

export interface MediaCheckDeps {
  /**
   * Downloads a URL once; null when it cannot be fetched. `createMediaFetcher`
   * (fetch.ts) is the real one; it is told each kind's byte limit.
   */
  fetchMedia: (url: string, opts?: { maxBytes?: number }) => Promise<FetchedMedia | null>;
  /** The limits; MEDIA_RULES unless a test sets smaller ones. */
  rules?: MediaRules;
}

export interface MediaCheckResult {
  /** Field -> messages, like the schema's; empty when every file that could be checked passed. */
  fieldErrors: FieldErrors;
  facts: {
    /** The continuation clip's length, when it was read. */
    inputClipSeconds?: number;
    /** What was read from each file. */
    media: Partial<Record<MaterialName, MediaFacts>>;
    /** Fields whose file could not be fetched: the provider will judge them. */
    unchecked: MaterialName[];
  };
  /** Things worth telling the user that do not stop the request. */
  warnings: string[];
}

/** The request's material URLs that apply to its mode, one per field. */
function materialUrls(input: GenerationInput): Array<[MaterialName, string]> {
  const refused = MODE_RULES[input.generation_mode].refused;
  const out: Array<[MaterialName, string]> = [];
  const add = (field: MaterialName, url: string | undefined) => {
    if (url && !refused.includes(field)) out.push([field, url]);
  };
  add("image_start", input.image_start);
  add("image_end", input.image_end);
  add("video_urls", input.video_urls?.[0]);
  add("audio_urls", input.audio_urls?.[0]);
  return out;
}

/**
 * Applies the media rules to a parsed request's files (fetched once each) and
 * the continuation rule (`duration` >= the clip's length).
 */
export async function checkGenerationMedia(input: GenerationInput, deps: MediaCheckDeps): Promise<MediaCheckResult> {
  const rules = deps.rules ?? MEDIA_RULES;
  const result: MediaCheckResult = { fieldErrors: {}, facts: { media: {}, unchecked: [] }, warnings: [] };
  const add = (field: string, message: string) => (result.fieldErrors[field] ??= []).push(message);

  const downloads = new Map<string, Promise<FetchedMedia | null>>();
  const fetchOnce = (url: string, maxBytes: number) => {
    const key = `${maxBytes} ${url}`;
    let p = downloads.get(key);
    if (!p) {
      p = deps.fetchMedia(url, { maxBytes }).catch(() => null);
      downloads.set(key, p);
    }
    return p;
  };

  await Promise.all(
    materialUrls(input).map(async ([field, url]) => {
      const limit = rules[MEDIA_KIND_OF[field]].maxBytes;
      const fetched = await fetchOnce(url, limit);
      if (fetched === null) {
        result.facts.unchecked.push(field);
        result.warnings.push(`${field} could not be downloaded to check it; the provider will judge it.`);
        return;
      }
      if (!("bytes" in fetched)) return add(field, tooLargeMessage(field, limit, fetched.size));
      const { errors, facts } = await checkMediaBytes(field, fetched.bytes, rules);
      for (const m of errors) add(field, m);
      if (facts) result.facts.media[field] = facts;
    }),
  );
  result.facts.unchecked.sort();

  const clip = result.facts.media.video_urls;
  if (input.generation_mode === "video_continuation" && clip?.kind === "clip") {
    const clipSeconds = roundMs(clip.durationSeconds);
    result.facts.inputClipSeconds = clipSeconds;
    if (input.duration < clipSeconds) {
      add(
        "duration",
        `duration (${input.duration} s) is shorter than the video_urls clip (${formatSeconds(clipSeconds)}); in video_continuation, duration is the whole output, clip included. Set it to at least ${Math.ceil(clipSeconds)} s.`,
      );
    } else if (input.duration === clipSeconds) {
      result.warnings.push(`duration equals the clip's length (${formatSeconds(clipSeconds)}): the clip comes back unchanged, and is still billed.`);
    }
  }

  const audio = result.facts.media.audio_urls;
  if (audio?.kind === "audio" && audio.durationSeconds !== undefined && roundMs(audio.durationSeconds) > input.duration) {
    result.warnings.push(`audio_urls is ${formatSeconds(roundMs(audio.durationSeconds))} long; only its first ${input.duration} s drive the video.`);
  }
  return result;
}

/** One line for an error's message when `fieldErrors` is not empty. */
export function summarizeFieldErrors(fieldErrors: FieldErrors): string {
  const messages = Object.values(fieldErrors).flat();
  return messages.length === 1 ? (messages[0] ?? "") : `${messages.length} problems with the request: ${messages.join(" ")}`;
}

export function hasFieldErrors(fieldErrors: FieldErrors): boolean {
  return Object.values(fieldErrors).some((m) => m.length > 0);
}
