/**
 * The provider's limits on the media files themselves (seed reference,
 * summarised in /work/shared/evolink/API-NOTES.md), and the rules between a
 * file's facts and the rest of the request (the continuation's duration).
 * Pure: the form imports it for hints, measured facts and the checks it can
 * make itself. "MB" is read as 1,000,000 bytes, the stricter reading, so a
 * file we pass is never over the provider's limit.
 */
import { theField } from "../generation/labels.ts";
export const MB = 1_000_000;

export interface MediaRules {
  image: { minSide: number; maxSide: number; maxBytes: number; formats: readonly string[] };
  clip: { minSeconds: number; maxSeconds: number; minSide: number; maxSide: number; maxBytes: number };
  audio: { minSeconds: number; maxSeconds: number; maxBytes: number; formats: readonly ("wav" | "mp3")[] };
}

export const MEDIA_RULES: MediaRules = {
  // image-size type names; the formats the model's own API documents.
  image: { minSide: 240, maxSide: 8000, maxBytes: 20 * MB, formats: ["png", "jpg", "webp", "bmp"] },
  clip: { minSeconds: 2, maxSeconds: 10, minSide: 240, maxSide: 4096, maxBytes: 100 * MB },
  audio: { minSeconds: 2, maxSeconds: 30, maxBytes: 15 * MB, formats: ["wav", "mp3"] },
};

/** The largest file any rule accepts: the cap for a fetcher shared by all media. */
export function largestMediaBytes(rules: MediaRules = MEDIA_RULES): number {
  return Math.max(rules.image.maxBytes, rules.clip.maxBytes, rules.audio.maxBytes);
}

export function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${Number((bytes / MB).toFixed(1))} MB`;
  if (bytes >= 1000) return `${Number((bytes / 1000).toFixed(1))} kB`;
  return `${bytes} bytes`;
}

export function formatSeconds(seconds: number): string {
  return `${Number(seconds.toFixed(3))} s`;
}

/** Seconds to the millisecond, as the rules compare them. */
export function roundMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** image-size's type names as people know them. */
const IMAGE_NAMES: Record<string, string> = { png: "PNG", jpg: "JPEG", webp: "WebP", bmp: "BMP", gif: "GIF", svg: "SVG", tiff: "TIFF", heif: "HEIF" };
export const imageTypeName = (type: string) => IMAGE_NAMES[type] ?? type.toUpperCase();

/** "PNG, JPEG, WebP or BMP": the formats of a rule, as people name them. */
export function formatNames(kind: "image" | "clip" | "audio", rules: MediaRules = MEDIA_RULES): string {
  const names = kind === "image" ? rules.image.formats.map(imageTypeName) : kind === "clip" ? ["MP4"] : rules.audio.formats.map((f) => f.toUpperCase());
  return names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}

const MIME_TYPES: Readonly<Record<string, readonly string[]>> = {
  png: ["image/png", ".png"],
  jpg: ["image/jpeg", ".jpg", ".jpeg"],
  webp: ["image/webp", ".webp"],
  bmp: ["image/bmp", ".bmp"],
  wav: ["audio/wav", "audio/x-wav", "audio/wave", ".wav"],
  mp3: ["audio/mpeg", ".mp3"],
};

/** A file picker's `accept` for a kind of media: the formats its rule allows. */
export function acceptFor(kind: "image" | "clip" | "audio", rules: MediaRules = MEDIA_RULES): string {
  if (kind === "clip") return "video/mp4,.mp4";
  const formats: readonly string[] = kind === "image" ? rules.image.formats : rules.audio.formats;
  return formats.flatMap((f) => MIME_TYPES[f] ?? [`.${f}`]).join(",");
}

/** What was measured of a file (check.ts MediaFacts, restated here so that the browser needs no probe code). */
export type MeasuredFacts =
  | { kind: "image"; bytes: number; type: string; width: number; height: number }
  | { kind: "clip"; bytes: number; width: number; height: number; durationSeconds: number; codec?: string }
  | { kind: "audio"; bytes: number; format: "wav" | "mp3" | "other"; description: string; durationSeconds?: number };

/** What was measured, in one line: "PNG · 640×360 px · 210 kB". */
export function describeFacts(facts: MeasuredFacts): string {
  const parts: string[] = [];
  if (facts.kind === "image") parts.push(imageTypeName(facts.type), `${facts.width}×${facts.height} px`);
  if (facts.kind === "clip") parts.push("MP4", `${facts.width}×${facts.height} px`, formatSeconds(roundMs(facts.durationSeconds)));
  if (facts.kind === "audio") {
    parts.push(facts.format === "other" ? facts.description : facts.format.toUpperCase());
    if (facts.durationSeconds !== undefined) parts.push(formatSeconds(roundMs(facts.durationSeconds)));
  }
  parts.push(formatBytes(facts.bytes));
  return parts.join(" · ");
}

/**
 * The continuation rule (API-NOTES: `duration` is the whole output, clip
 * included, and must be at least the clip's length): the error when the
 * duration is shorter, the notice when it is equal (the clip comes back
 * unchanged, and is still billed).
 */
export function continuationDurationCheck(duration: number, clipSeconds: number): { error?: string; warning?: string } {
  const clip = roundMs(clipSeconds);
  if (duration < clip) {
    return {
      error: `The duration (${duration} s) is shorter than the clip to continue (${formatSeconds(clip)}): a continued video's duration is the whole output, clip included. Set it to at least ${Math.ceil(clip)} s.`,
    };
  }
  if (duration === clip) return { warning: `The duration equals the clip's length (${formatSeconds(clip)}): the clip comes back unchanged, and is still billed.` };
  return {};
}

/** The notice for driving audio longer than the video (the provider cuts it). */
export function audioLongerThanVideo(audioSeconds: number, duration: number): string | null {
  const seconds = roundMs(audioSeconds);
  return seconds > duration ? `${theField("audio_urls")} is ${formatSeconds(seconds)} long; only its first ${duration} s drive the video.` : null;
}
