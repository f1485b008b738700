/**
 * How the portal names the request's modes and fields to people. Messages,
 * the form and the task pages use these words; the API names
 * (`first_frame`, `image_start`, ...) appear only as small secondary text for
 * those who know them. Pure data: the browser imports it.
 */
import type { GenerationModeName, MaterialName } from "./request-schema.ts";

export const MODE_LABELS: Readonly<Record<GenerationModeName, string>> = {
  first_frame: "First frame",
  first_last_frame: "First and last frame",
  video_continuation: "Continue a video",
};

/** What each mode takes, in one sentence. */
export const MODE_DESCRIPTIONS: Readonly<Record<GenerationModeName, string>> = {
  first_frame: "Starts the video from one image; driving audio is optional.",
  first_last_frame: "Goes from a start image to a last frame image; driving audio is optional.",
  video_continuation: "Continues a clip (MP4, 2 to 10 s); a last frame image is optional.",
};

/** The request's fields, as people call them (lower case, to sit inside a sentence). */
export const FIELD_LABELS = {
  generation_mode: "mode",
  prompt: "prompt",
  negative_prompt: "negative prompt",
  image_start: "first frame image",
  image_end: "last frame image",
  video_urls: "clip to continue",
  audio_urls: "driving audio",
  quality: "quality",
  duration: "duration",
  seed: "seed",
  prompt_extend: "prompt rewriting",
} as const satisfies Record<string, string> & Record<MaterialName, string>;

export type RequestFieldName = keyof typeof FIELD_LABELS;

/** "The first frame image", to start a sentence about a field. */
export function theField(field: RequestFieldName): string {
  const label = FIELD_LABELS[field];
  return `The ${label}`;
}
