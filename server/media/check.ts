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
import { theField } from "../generation/labels.ts";
import { audioLongerThanVideo, continuationDurationCheck, formatBytes, formatNames, formatSeconds, imageTypeName, MEDIA_RULES, roundMs, type MediaRules } from "./rules.ts";

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

function tooLargeMessage(field: MaterialName, limit: number, size?: number): string {
  const what = MEDIA_KIND_OF[field] === "image" ? "Compress it or scale it down" : MEDIA_KIND_OF[field] === "clip" ? "Compress or shorten the clip" : "Compress or shorten the audio";
  // Exact bytes when rounding would make the size look equal to the limit.
  const [shown, shownLimit] =
    size !== undefined && formatBytes(size) === formatBytes(limit) ? [`${size} bytes`, `${limit} bytes`] : [size !== undefined ? formatBytes(size) : undefined, formatBytes(limit)];
  return `${theField(field)} is ${shown ?? `larger than ${shownLimit}`}; the limit is ${shownLimit}. ${what}.`;
}

/**
 * A file of the wrong kind for its field, told by what it is and what the
 * person probably meant: a video given as a frame belongs in a continuation,
 * an image given as the clip belongs as a first frame.
 */
const WRONG_KIND: Record<MaterialName, Partial<Record<MediaKind, string>>> = {
  image_start: {
    clip: "A first frame must be an image. To continue this video, switch to Continue a video and give it as the clip to continue.",
    audio: "A first frame must be an image (PNG, JPEG, WebP or BMP).",
  },
  image_end: {
    clip: "A last frame must be an image (PNG, JPEG, WebP or BMP).",
    audio: "A last frame must be an image (PNG, JPEG, WebP or BMP).",
  },
  video_urls: {
    image: "The clip to continue must be an MP4 video. To start a video from this image, switch to First frame and give it as the first frame image.",
    audio: "The clip to continue must be an MP4 video.",
  },
  audio_urls: {
    image: "Driving audio must be a WAV or MP3 file.",
    clip: "Driving audio must be a WAV or MP3 file; a video's sound cannot be used as it is.",
  },
};

/** What the bytes are when they are not what `field` takes: an image, an MP4 clip, or readable audio. */
async function otherKindOf(field: MaterialName, bytes: Uint8Array): Promise<MediaFacts | null> {
  const kind = MEDIA_KIND_OF[field];
  const image = kind !== "image" ? probeImage(bytes) : null;
  if (image) return { kind: "image", bytes: bytes.length, ...image };
  const clip = kind !== "clip" ? probeMp4(bytes) : null;
  if (clip) return { kind: "clip", bytes: bytes.length, ...clip };
  return null;
}

function wrongKindMessage(field: MaterialName, facts: MediaFacts): string | null {
  const advice = WRONG_KIND[field][facts.kind];
  if (!advice) return null;
  const what = facts.kind === "image" ? `an image (${imageTypeName(facts.type)}, ${facts.width}×${facts.height} px)` : facts.kind === "clip" ? `a video (MP4, ${formatSeconds(roundMs(facts.durationSeconds))})` : "audio";
  return `${theField(field)} is ${what}, not ${MEDIA_KIND_OF[field] === "image" ? "an image" : MEDIA_KIND_OF[field] === "clip" ? "a video" : "audio"}. ${advice}`;
}

/** Checks one file's bytes against the rules for `field`'s kind of media. */
export async function checkMediaBytes(field: MaterialName, bytes: Uint8Array, rules: MediaRules = MEDIA_RULES): Promise<{ errors: string[]; facts?: MediaFacts }> {
  const kind = MEDIA_KIND_OF[field];
  const limit = rules[kind].maxBytes;
  if (bytes.length > limit) return { errors: [tooLargeMessage(field, limit, bytes.length)] };
  const errors: string[] = [];
  const the = theField(field);
  /** The refusal of a file that is not this field's kind of media at all. */
  const unreadable = async (fallback: string) => {
    const other = await otherKindOf(field, bytes);
    const message = other ? wrongKindMessage(field, other) : null;
    return message && other ? { errors: [message], facts: other } : { errors: [fallback] };
  };

  if (kind === "image") {
    const r = rules.image;
    const formats = formatNames("image", rules);
    const probe = probeImage(bytes);
    if (!probe) return unreadable(`${the} is not an image we can read (${formats}); check that the link points to the image file itself.`);
    const facts: MediaFacts = { kind, bytes: bytes.length, ...probe };
    if (!r.formats.includes(probe.type)) return { errors: [`${the} is a ${imageTypeName(probe.type)} image; use ${formats}.`], facts };
    const size = `${probe.width}×${probe.height} px`;
    if (Math.min(probe.width, probe.height) < r.minSide) errors.push(`${the} is ${size}; each side must be at least ${r.minSide} px. Use a larger image.`);
    if (Math.max(probe.width, probe.height) > r.maxSide) errors.push(`${the} is ${size}; each side must be at most ${r.maxSide} px. Scale it down.`);
    return { errors, facts };
  }

  if (kind === "clip") {
    const r = rules.clip;
    const probe = probeMp4(bytes);
    if (!probe) return unreadable(`${the} is not an MP4 video we can read; export the clip as MP4 (H.264) and try again.`);
    const facts: MediaFacts = { kind, bytes: bytes.length, ...probe };
    const seconds = roundMs(probe.durationSeconds);
    if (seconds < r.minSeconds || seconds > r.maxSeconds) {
      const fix = seconds < r.minSeconds ? "Use a longer clip." : `Trim it to ${r.maxSeconds} s or less.`;
      errors.push(`${the} is ${formatSeconds(seconds)} long; it must be ${r.minSeconds} to ${r.maxSeconds} s. ${fix}`);
    }
    const size = `${probe.width}×${probe.height} px`;
    if (Math.min(probe.width, probe.height) < r.minSide) errors.push(`${the} is ${size}; each side must be at least ${r.minSide} px. Use a larger clip.`);
    if (Math.max(probe.width, probe.height) > r.maxSide) errors.push(`${the} is ${size}; each side must be at most ${r.maxSide} px. Scale it down.`);
    return { errors, facts };
  }

  const r = rules.audio;
  const formats = formatNames("audio", rules);
  const probe = await probeAudio(bytes);
  if (!probe) return unreadable(`${the} is not an audio file we can read (${formats}); check that the link points to the audio file itself.`);
  const facts: MediaFacts = { kind, bytes: bytes.length, ...probe };
  if (probe.format === "other" || !r.formats.includes(probe.format)) {
    // An MP4 video reads as audio too; say what it is.
    const other = probe.format === "other" ? await otherKindOf(field, bytes) : null;
    const message = other ? wrongKindMessage(field, other) : null;
    if (other && message) return { errors: [message], facts: other };
    return { errors: [`${the} is ${probe.description} audio; use ${formats}.`], facts };
  }
  if (probe.durationSeconds === undefined) return { errors: [`${the}: we could not tell how long this audio is; export it again as ${formats}.`], facts };
  const seconds = roundMs(probe.durationSeconds);
  if (seconds < r.minSeconds || seconds > r.maxSeconds) {
    const fix = seconds < r.minSeconds ? "Use a longer recording." : `Trim it to ${r.maxSeconds} s or less.`;
    errors.push(`${the} is ${formatSeconds(seconds)} long; it must be ${r.minSeconds} to ${r.maxSeconds} s. ${fix}`);
  }
  return { errors, facts };
}

export interface MediaCheckDeps {
  /**
   * Downloads a URL once; null when it cannot be fetched. `createMediaFetcher`
   * (fetch.ts) is the real one; it is told each kind's byte limit.
   */
  fetchMedia: (url: string, opts?: { maxBytes?: number }) => Promise<FetchedMedia | null>;
  /** The limits; MEDIA_RULES unless a test sets smaller ones. */
  rules?: MediaRules;
  /** Recent checks of the same URL (createMediaCheckCache), reused instead of downloading the file again. */
  cache?: MediaCheckCache;
}

/**
 * The checks of recently checked files, by field and URL, for a short time:
 * a team submitting from the same image (or a form submitting what it has
 * just checked) downloads and probes it once, not once per submit. Only
 * files that were fetched are kept (a file that could not be had is tried
 * again); concurrent checks of the same URL share one download. Every
 * download still goes through the guarded fetcher.
 */
export interface MediaCheckCache {
  check(key: string, url: string, run: () => Promise<MediaUrlCheck>): Promise<MediaUrlCheck>;
}

export function createMediaCheckCache(opts: { ttlMs: number; maxEntries: number; cacheable?: (url: string) => boolean; now?: () => number }): MediaCheckCache {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { at: number; result: Promise<MediaUrlCheck> }>();
  return {
    check(key, url, run) {
      if (opts.cacheable && !opts.cacheable(url)) return run();
      const hit = entries.get(key);
      if (hit && now() - hit.at < opts.ttlMs) return hit.result;
      entries.delete(key);
      const result = run();
      entries.set(key, { at: now(), result });
      // Oldest first (insertion order): the map never holds more than maxEntries.
      while (entries.size > opts.maxEntries) entries.delete(entries.keys().next().value!);
      result.then(
        (r) => {
          if (r.unchecked && entries.get(key)?.result === result) entries.delete(key);
        },
        () => entries.get(key)?.result === result && entries.delete(key),
      );
      return result;
    },
  };
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

/** What the portal says of a file it could not download: not a refusal, the provider judges it. */
export function uncheckedMessage(field: MaterialName): string {
  return `${theField(field)} could not be downloaded to check it; the video service will judge it.`;
}

/** One file, fetched once and checked: its problems and facts, or `unchecked` when it could not be had. */
export interface MediaUrlCheck {
  errors: string[];
  facts?: MediaFacts;
  unchecked?: true;
}

/**
 * Fetches `url` (within `field`'s byte limit) and applies `field`'s media
 * rules to it. Used for every file of a request, and for one file as soon as
 * the form is given it (server/media/file-check.ts).
 */
export async function checkMediaUrl(field: MaterialName, url: string, deps: MediaCheckDeps): Promise<MediaUrlCheck> {
  const rules = deps.rules ?? MEDIA_RULES;
  const limit = rules[MEDIA_KIND_OF[field]].maxBytes;
  if (deps.cache) return deps.cache.check(`${field} ${limit} ${url}`, url, () => fetchAndCheck(field, url, { ...deps, cache: undefined }, rules, limit));
  return fetchAndCheck(field, url, deps, rules, limit);
}

async function fetchAndCheck(field: MaterialName, url: string, deps: MediaCheckDeps, rules: MediaRules, limit: number): Promise<MediaUrlCheck> {
  const fetched = await deps.fetchMedia(url, { maxBytes: limit }).catch(() => null);
  if (fetched === null) return { errors: [], unchecked: true };
  if (!("bytes" in fetched)) return { errors: [tooLargeMessage(field, limit, fetched.size)] };
  return checkMediaBytes(field, fetched.bytes, rules);
}

/**
 * Applies the media rules to a parsed request's files (fetched once each) and
 * the continuation rule (`duration` >= the clip's length).
 */
export async function checkGenerationMedia(input: GenerationInput, deps: MediaCheckDeps): Promise<MediaCheckResult> {
  const rules = deps.rules ?? MEDIA_RULES;
  const result: MediaCheckResult = { fieldErrors: {}, facts: { media: {}, unchecked: [] }, warnings: [] };
  const add = (field: string, message: string) => (result.fieldErrors[field] ??= []).push(message);

  // The same URL in two fields of one kind is downloaded once.
  const downloads = new Map<string, Promise<FetchedMedia | null>>();
  const fetchOnce: MediaCheckDeps["fetchMedia"] = (url, opts) => {
    const key = `${opts?.maxBytes} ${url}`;
    let p = downloads.get(key);
    if (!p) {
      p = deps.fetchMedia(url, opts).catch(() => null);
      downloads.set(key, p);
    }
    return p;
  };

  await Promise.all(
    materialUrls(input).map(async ([field, url]) => {
      const checked = await checkMediaUrl(field, url, { fetchMedia: fetchOnce, rules, cache: deps.cache });
      if (checked.unchecked) {
        result.facts.unchecked.push(field);
        result.warnings.push(uncheckedMessage(field));
        return;
      }
      for (const m of checked.errors) add(field, m);
      if (checked.facts) result.facts.media[field] = checked.facts;
    }),
  );
  result.facts.unchecked.sort();

  const clip = result.facts.media.video_urls;
  if (input.generation_mode === "video_continuation" && clip?.kind === "clip") {
    result.facts.inputClipSeconds = roundMs(clip.durationSeconds);
    const { error, warning } = continuationDurationCheck(input.duration, clip.durationSeconds);
    if (error) add("duration", error);
    if (warning) result.warnings.push(warning);
  }

  const audio = result.facts.media.audio_urls;
  const longer = audio?.kind === "audio" && audio.durationSeconds !== undefined ? audioLongerThanVideo(audio.durationSeconds, input.duration) : null;
  if (longer) result.warnings.push(longer);
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
