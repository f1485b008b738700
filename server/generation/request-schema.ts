/**
 * The generation request contract: the one zod module used by the form, the
 * tRPC input and the tests. Limits and the mode table come from the
 * provider's reference (/work/shared/evolink/wan2.7-image-to-video.seed.txt,
 * summarised in API-NOTES.md). Rules that need the actual files (pixel sizes,
 * clip and audio lengths) live in server/media/.
 */
import { z } from "zod";
import { MODEL_ID, type GenerationRequestBody } from "../provider/types.ts";
import { isLocalHostname } from "../security/address.ts";
import { MODE_LABELS, theField } from "./labels.ts";

export const GENERATION_MODES = ["first_frame", "first_last_frame", "video_continuation"] as const;
export type GenerationModeName = (typeof GENERATION_MODES)[number];
export const QUALITIES = ["720p", "1080p"] as const;
export type Quality = (typeof QUALITIES)[number];

/** The request's media fields ("materials"); the mode decides which apply. */
export const MATERIALS = ["image_start", "image_end", "video_urls", "audio_urls"] as const;
export type MaterialName = (typeof MATERIALS)[number];

export const LIMITS = {
  promptMaxChars: 5000,
  negativePromptMaxChars: 500,
  durationMin: 2,
  durationMax: 15,
  durationDefault: 5,
  seedMin: 1,
  seedMax: 2_147_483_647,
  /** video_urls and audio_urls take one element each. */
  maxVideoUrls: 1,
  maxAudioUrls: 1,
} as const;

export interface ModeRule {
  required: readonly MaterialName[];
  optional: readonly MaterialName[];
  refused: readonly MaterialName[];
}

/** The mode table, exactly as the provider's reference states it. */
export const MODE_RULES: Readonly<Record<GenerationModeName, ModeRule>> = {
  first_frame: { required: ["image_start"], optional: ["audio_urls"], refused: ["image_end", "video_urls"] },
  first_last_frame: { required: ["image_start", "image_end"], optional: ["audio_urls"], refused: ["video_urls"] },
  video_continuation: { required: ["video_urls"], optional: ["image_end"], refused: ["image_start", "audio_urls"] },
};

/** Characters as the provider counts them: one per character (code point), Chinese included. */
export function charCount(text: string): number {
  return Array.from(text).length;
}

/** The first `max` characters (code points, as counted by `charCount`); never splits a surrogate pair. */
export function truncateToLimit(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max).join("");
}

/** The materials a request carries, in a shape both raw input and parsed input fit. */
export interface MaterialValues {
  image_start?: string | null;
  image_end?: string | null;
  video_urls?: readonly string[] | null;
  audio_urls?: readonly string[] | null;
}

/** Which materials are present: non-empty strings, non-empty arrays. */
export function presentMaterials(m: MaterialValues): Set<MaterialName> {
  const present = new Set<MaterialName>();
  const has = (v: unknown) => (Array.isArray(v) ? v.length > 0 : typeof v === "string" && v.trim() !== "");
  for (const name of MATERIALS) if (has(m[name])) present.add(name);
  return present;
}

/** Whether `present` satisfies `mode`'s row of the table. */
export function modeAccepts(mode: GenerationModeName, present: ReadonlySet<MaterialName>): boolean {
  const rule = MODE_RULES[mode];
  return rule.required.every((f) => present.has(f)) && [...present].every((f) => rule.required.includes(f) || rule.optional.includes(f));
}

/**
 * The mode the provider selects when `generation_mode` is omitted: the one
 * mode whose row the materials satisfy (image_start [+ audio] -> first_frame;
 * image_start + image_end [+ audio] -> first_last_frame; video_urls
 * [+ image_end] -> video_continuation), or null for any other combination.
 */
export function deriveMode(materials: MaterialValues): GenerationModeName | null {
  const present = presentMaterials(materials);
  const matches = GENERATION_MODES.filter((mode) => modeAccepts(mode, present));
  return matches.length === 1 ? (matches[0] ?? null) : null;
}

/**
 * The only mode a combination could mean: a clip means continuation, else an
 * ending image means first_last_frame, else first_frame. `deriveMode` accepts
 * the combination exactly when this mode's row does.
 */
function intendedMode(present: ReadonlySet<MaterialName>): GenerationModeName {
  if (present.has("video_urls")) return "video_continuation";
  if (present.has("image_end")) return "first_last_frame";
  return "first_frame";
}

/**
 * What a person reads when a mode lacks a material it needs, or has one it
 * refuses, with what to do; in their words (mode labels, field labels),
 * never the API names, which the form shows beside the field.
 */
const REQUIRED_HELP: Record<GenerationModeName, Partial<Record<MaterialName, string>>> = {
  first_frame: { image_start: "A first-frame video needs a start image: give its URL or upload it." },
  first_last_frame: {
    image_start: "A first-and-last-frame video needs a start image: give its URL or upload it.",
    image_end: "A first-and-last-frame video needs a last frame image: give its URL or upload it, or switch to First frame.",
  },
  video_continuation: { video_urls: "Continuing a video needs the clip to continue (MP4, 2 to 10 s): give its URL or upload it." },
};

const REFUSED_HELP: Record<GenerationModeName, Partial<Record<MaterialName, string>>> = {
  first_frame: {
    image_end: "A first-frame video takes no last frame image; remove it or switch to First and last frame.",
    video_urls: "A first-frame video takes one start image; remove the clip or switch to Continue a video.",
  },
  first_last_frame: { video_urls: "A first-and-last-frame video takes two images and no clip; remove the clip or switch to Continue a video." },
  video_continuation: {
    image_start: "A continued video starts from the clip itself, so it takes no first frame image; remove it (a last frame image can set where it ends).",
    audio_urls: "A continued video takes no driving audio; remove the audio or switch to First frame.",
  },
};

/** Messages for a combination without an explicit mode, per intended mode and field. */
const AUTO_HELP: Record<GenerationModeName, Partial<Record<MaterialName, string>>> = {
  first_frame: {
    image_start: "Give a first frame image to start the video from (or a clip to continue): its URL or an upload.",
  },
  first_last_frame: {
    image_start: "A last frame image needs a first frame image too; to end a continued clip on it, give the clip to continue instead.",
  },
  video_continuation: {
    image_start: "A first frame image and a clip to continue do not go together: a continued video starts from the clip. Remove one of them.",
    audio_urls: "Driving audio and a clip to continue do not go together: a continued video takes no audio. Remove one of them.",
  },
};

export interface ModeViolation {
  field: MaterialName;
  kind: "required" | "refused";
  message: string;
}

/**
 * What is wrong with the materials for `mode` (or, when `mode` is undefined,
 * for the mode the provider would select). Empty when the combination is valid.
 */
export function modeViolations(mode: GenerationModeName | undefined, materials: MaterialValues): ModeViolation[] {
  const present = presentMaterials(materials);
  const target = mode ?? intendedMode(present);
  const rule = MODE_RULES[target];
  const out: ModeViolation[] = [];
  for (const field of rule.required) {
    if (present.has(field)) continue;
    const message =
      (mode === undefined ? AUTO_HELP[target][field] : REQUIRED_HELP[target][field]) ?? `${theField(field)} is needed here: give its URL or upload it.`;
    out.push({ field, kind: "required", message });
  }
  for (const field of rule.refused) {
    if (!present.has(field)) continue;
    const message =
      (mode === undefined ? AUTO_HELP[target][field] : REFUSED_HELP[target][field]) ?? `${theField(field)} does not go with these materials; remove it.`;
    out.push({ field, kind: "refused", message });
  }
  return out;
}

export interface SchemaOptions {
  /**
   * Exact origins (scheme, host and port, e.g. http://127.0.0.1:4010) whose
   * URLs are accepted over plain http, and on this computer: with the local
   * simulator, its own origin and the portal's (see httpMediaOrigins in
   * server/config.ts). Empty or absent with the real provider, which fetches
   * media from the internet over https only.
   */
  httpOrigins?: readonly string[];
  /**
   * What to do with a prompt or negative_prompt over its limit: "refuse"
   * (default: the message says by how much and offers truncation) or
   * "truncate" (cut to the limit by characters). Either way no more than the
   * limit is ever sent; the provider would otherwise cut it silently.
   */
  overLongText?: "refuse" | "truncate";
}

/** Why the provider could not download `url`, or null when it is fine. */
export type MediaUrlProblem = "not-a-url" | "not-https" | "not-public";

/** The http(s) origin of `url` as the URL parser writes it (scheme, host, port); null for anything else. */
export function httpOriginOf(url: string): string | null {
  if (!URL.canParse(url)) return null;
  const u = new URL(url);
  return u.protocol === "http:" || u.protocol === "https:" ? u.origin : null;
}

/**
 * The URL rule of every media field: a listed origin (`httpOrigins`) as is;
 * otherwise https, on a host that is not this computer or a private network
 * by its spelling (localhost, *.localhost, a non-public IP literal). The
 * portal's fetcher checks the addresses a name resolves to, at connect time.
 */
export function mediaUrlProblem(url: string, opts: Pick<SchemaOptions, "httpOrigins"> = {}): MediaUrlProblem | null {
  if (!URL.canParse(url)) return "not-a-url";
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:") return "not-https";
  if ((opts.httpOrigins ?? []).some((listed) => httpOriginOf(listed) === u.origin)) return null;
  if (isLocalHostname(u.hostname)) return "not-public";
  return u.protocol === "https:" ? null : "not-https";
}

/** Whether `url` is one the provider (or, for listed origins, the local simulator) can download. */
export function isAllowedMediaUrl(url: string, opts: Pick<SchemaOptions, "httpOrigins"> = {}): boolean {
  return mediaUrlProblem(url, opts) === null;
}

function urlRuleMessage(field: MaterialName, problem: MediaUrlProblem | null): string | null {
  if (problem === "not-public") {
    return `${theField(field)} is on a private network or this computer, where the video service cannot fetch it; use a public address.`;
  }
  return problem ? `${theField(field)} must be an https:// link the video service can download.` : null;
}

const EXAMPLES: Record<MaterialName, string> = {
  image_start: "https://example.com/first-frame.png",
  image_end: "https://example.com/last-frame.png",
  video_urls: "https://example.com/clip.mp4",
  audio_urls: "https://example.com/voice.mp3",
};

/** What is wrong with `url` as `field`'s link (the schema's URL rule, in its words), or null when it is fine. */
export function mediaUrlMessage(field: MaterialName, url: string, opts: Pick<SchemaOptions, "httpOrigins"> = {}): string | null {
  const v = url.trim();
  if (v === "") return `${theField(field)} is empty; give a link like ${EXAMPLES[field]}, or upload the file.`;
  if (!URL.canParse(v)) return `${theField(field)} must be a full link, like ${EXAMPLES[field]}`;
  return urlRuleMessage(field, mediaUrlProblem(v, opts));
}

function urlChecks(field: MaterialName, opts: SchemaOptions) {
  return z
    .string({ error: `${theField(field)} must be a link, like ${EXAMPLES[field]}` })
    .trim()
    .superRefine((v, ctx) => {
      // One message per URL, and no aborting issue, so the mode table is still checked.
      const message = mediaUrlMessage(field, v, opts);
      if (message) ctx.addIssue({ code: "custom", message });
    });
}

/** An optional URL field: an empty or blank string counts as absent. */
function optionalUrl(field: MaterialName, opts: SchemaOptions) {
  return z
    .string({ error: `${theField(field)} must be a link, like ${EXAMPLES[field]}` })
    .trim()
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .pipe(urlChecks(field, opts).optional());
}

/** A list of at most `max` URLs; an empty list counts as absent. */
function urlList(field: MaterialName, max: number, what: string, opts: SchemaOptions) {
  return z
    .array(urlChecks(field, opts), { error: `${theField(field)} must be a list of links (${field}), like ["${EXAMPLES[field]}"]` })
    // (a refine rather than .max: zod runs length checks even on a non-array)
    .refine((v) => !Array.isArray(v) || v.length <= max, `Give one ${what} only; remove the others.`)
    .optional()
    .transform((v) => (v && v.length > 0 ? v : undefined));
}

/** The message for a prompt or negative prompt over its limit (the form's counter says the same). */
export function overLimitMessage(field: "prompt" | "negative_prompt", length: number, max: number): string {
  return `${theField(field)} is ${length} characters; the limit is ${max} (${length - max} over). Shorten it or truncate it to ${max} characters; the video service would cut the rest silently.`;
}

function limitedText(field: "prompt" | "negative_prompt", max: number, opts: SchemaOptions) {
  const text = z.string({ error: `${theField(field)} must be text` });
  if (opts.overLongText === "truncate") return text.transform((v) => truncateToLimit(v, max));
  return text.refine((v) => charCount(v) <= max, { error: (issue) => overLimitMessage(field, charCount(String(issue.input)), max) });
}

const seedMessage = `The seed must be a whole number from ${LIMITS.seedMin} to ${LIMITS.seedMax}; leave it empty for a random one.`;
/** Also what the form says when the duration is left empty: it is never silently taken as the default. */
export const DURATION_MESSAGE = `The duration must be a whole number of seconds from ${LIMITS.durationMin} to ${LIMITS.durationMax}.`;
const modeListMessage = `The mode must be ${GENERATION_MODES.map((m) => `${MODE_LABELS[m]} (${m})`).join(", ")}, or left out to follow the materials.`;

export function createGenerationInputSchema(opts: SchemaOptions = {}) {
  return z
    .object(
      {
        generation_mode: z
          .enum(GENERATION_MODES, { error: modeListMessage })
          .optional(),
        prompt: limitedText("prompt", LIMITS.promptMaxChars, opts).refine((v) => v.trim().length > 0, "Describe the video in the prompt."),
        negative_prompt: limitedText("negative_prompt", LIMITS.negativePromptMaxChars, opts).optional(),
        image_start: optionalUrl("image_start", opts),
        image_end: optionalUrl("image_end", opts),
        video_urls: urlList("video_urls", LIMITS.maxVideoUrls, "clip", opts),
        audio_urls: urlList("audio_urls", LIMITS.maxAudioUrls, "audio file", opts),
        quality: z.enum(QUALITIES, { error: `The quality must be ${QUALITIES.join(" or ")}.` }).default("720p"),
        duration: z
          .number({ error: DURATION_MESSAGE })
          .int(DURATION_MESSAGE)
          .min(LIMITS.durationMin, DURATION_MESSAGE)
          .max(LIMITS.durationMax, DURATION_MESSAGE)
          .default(LIMITS.durationDefault),
        seed: z.number({ error: seedMessage }).int(seedMessage).min(LIMITS.seedMin, seedMessage).max(LIMITS.seedMax, seedMessage).optional(),
        prompt_extend: z.boolean({ error: "Prompt rewriting (prompt_extend) must be true or false." }).default(false),
      },
      { error: "The request must be an object with the generation fields (prompt, image_start, ...)" },
    )
    .superRefine((v, ctx) => {
      // zod skips this when a field has the wrong type (e.g. an unknown mode), which is reported on its own.
      for (const { field, kind, message } of modeViolations(v.generation_mode, v)) {
        ctx.addIssue({ code: "custom", path: [field], message, params: { rule: kind } });
      }
    })
    .transform(({ generation_mode, ...rest }) => {
      // Absent optional fields are left out rather than kept as undefined.
      for (const key of Object.keys(rest) as Array<keyof typeof rest>) if (rest[key] === undefined) delete rest[key];
      // Always explicit after parsing: the mode to store and to send.
      return { ...rest, generation_mode: generation_mode ?? (deriveMode(rest) as GenerationModeName) };
    });
}

export type GenerationInput = z.output<ReturnType<typeof createGenerationInputSchema>>;
export type GenerationFormValues = z.input<ReturnType<typeof createGenerationInputSchema>>;

/**
 * The provider request body: only the fields that apply to the mode (no
 * empty arrays, nothing the mode refuses); callback_url is the portal's,
 * never the user's.
 */
export function toProviderBody(input: GenerationInput, callbackUrl?: string): GenerationRequestBody {
  const mode = input.generation_mode;
  const applies = (f: MaterialName) => !MODE_RULES[mode].refused.includes(f);
  const body: GenerationRequestBody = {
    model: MODEL_ID,
    generation_mode: mode,
    prompt: input.prompt,
  };
  if (input.negative_prompt) body.negative_prompt = input.negative_prompt;
  if (input.image_start && applies("image_start")) body.image_start = input.image_start;
  if (input.image_end && applies("image_end")) body.image_end = input.image_end;
  if (input.video_urls?.length && applies("video_urls")) body.video_urls = [...input.video_urls];
  if (input.audio_urls?.length && applies("audio_urls")) body.audio_urls = [...input.audio_urls];
  body.quality = input.quality;
  body.duration = input.duration;
  if (input.seed !== undefined) body.seed = input.seed;
  body.prompt_extend = input.prompt_extend;
  if (callbackUrl) body.callback_url = callbackUrl;
  return body;
}
