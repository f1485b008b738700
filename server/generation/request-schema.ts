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

const REQUIRED_HELP: Record<GenerationModeName, Partial<Record<MaterialName, string>>> = {
  first_frame: { image_start: "give the first frame image URL" },
  first_last_frame: {
    image_start: "give the first frame image URL",
    image_end: "give the last frame image URL, or choose first_frame",
  },
  video_continuation: { video_urls: "give the URL of the clip to continue (MP4, 2 to 10 s)" },
};

const REFUSED_HELP: Record<GenerationModeName, Partial<Record<MaterialName, string>>> = {
  first_frame: {
    image_end: "choose first_last_frame",
    video_urls: "remove it, or choose video_continuation to continue a clip",
  },
  first_last_frame: { video_urls: "remove it, or choose video_continuation to continue a clip" },
  video_continuation: {
    image_start: "remove it (a continued clip starts from the clip itself; image_end can set the ending frame)",
    audio_urls: "remove it (continuation takes no driving audio)",
  },
};

/** Messages for a combination without an explicit mode, per intended mode and field. */
const AUTO_HELP: Record<GenerationModeName, Partial<Record<MaterialName, string>>> = {
  first_frame: {
    image_start: "image_start is required: give the first frame image URL (or a clip in video_urls to continue it)",
  },
  first_last_frame: {
    image_start: "image_start is required with image_end (first_last_frame); to end a continued clip on image_end, give video_urls instead",
  },
  video_continuation: {
    image_start: "image_start cannot be combined with video_urls (video_continuation starts from the clip); remove one of them",
    audio_urls: "audio_urls cannot be combined with video_urls (video_continuation takes no driving audio); remove one of them",
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
      mode === undefined
        ? (AUTO_HELP[target][field] ?? `${field} is required`)
        : `${field} is required in ${target} mode; ${REQUIRED_HELP[target][field] ?? "add it"}`;
    out.push({ field, kind: "required", message });
  }
  for (const field of rule.refused) {
    if (!present.has(field)) continue;
    const message =
      mode === undefined
        ? (AUTO_HELP[target][field] ?? `${field} cannot be used with these materials; remove it`)
        : `${field} is not accepted in ${target} mode; ${REFUSED_HELP[target][field] ?? "remove it"}`;
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

function urlRuleMessage(field: string, problem: MediaUrlProblem | null): string | null {
  if (problem === "not-public") {
    return `${field}: use a public address; the video service cannot fetch files from a private network or this computer`;
  }
  return problem ? `${field} must be an https:// URL that the provider can download` : null;
}

function urlChecks(field: string, example: string, opts: SchemaOptions) {
  return z
    .string({ error: `${field} must be a URL, like ${example}` })
    .trim()
    .superRefine((v, ctx) => {
      // One message per URL, and no aborting issue, so the mode table is still checked.
      const message =
        v === ""
          ? `${field} is empty; give a URL like ${example}`
          : !URL.canParse(v)
            ? `${field} must be a full URL, like ${example}`
            : urlRuleMessage(field, mediaUrlProblem(v, opts));
      if (message) ctx.addIssue({ code: "custom", message });
    });
}

/** An optional URL field: an empty or blank string counts as absent. */
function optionalUrl(field: string, example: string, opts: SchemaOptions) {
  return z
    .string({ error: `${field} must be a URL, like ${example}` })
    .trim()
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .pipe(urlChecks(field, example, opts).optional());
}

/** A list of at most `max` URLs; an empty list counts as absent. */
function urlList(field: string, example: string, max: number, what: string, opts: SchemaOptions) {
  return z
    .array(urlChecks(field, example, opts), { error: `${field} must be a list of URLs, like ["${example}"]` })
    // (a refine rather than .max: zod runs length checks even on a non-array)
    .refine((v) => !Array.isArray(v) || v.length <= max, `${field} takes one ${what}; remove the others`)
    .optional()
    .transform((v) => (v && v.length > 0 ? v : undefined));
}

function overLimitMessage(field: string, length: number, max: number): string {
  return `${field} is ${length} characters; the limit is ${max} (${length - max} over). Shorten it or truncate it to ${max} characters; the provider would cut the rest silently.`;
}

function limitedText(field: string, max: number, opts: SchemaOptions) {
  const text = z.string({ error: `${field} must be text` });
  if (opts.overLongText === "truncate") return text.transform((v) => truncateToLimit(v, max));
  return text.refine((v) => charCount(v) <= max, { error: (issue) => overLimitMessage(field, charCount(String(issue.input)), max) });
}

const seedMessage = `seed must be a whole number between ${LIMITS.seedMin} and ${LIMITS.seedMax}; leave it empty for a random one`;
const durationMessage = `duration must be between ${LIMITS.durationMin} and ${LIMITS.durationMax} seconds`;

export function createGenerationInputSchema(opts: SchemaOptions = {}) {
  return z
    .object(
      {
        generation_mode: z
          .enum(GENERATION_MODES, { error: `generation_mode must be one of ${GENERATION_MODES.join(", ")}, or left out to select it from the materials` })
          .optional(),
        prompt: limitedText("prompt", LIMITS.promptMaxChars, opts).refine((v) => v.trim().length > 0, "prompt is required: describe the video"),
        negative_prompt: limitedText("negative_prompt", LIMITS.negativePromptMaxChars, opts).optional(),
        image_start: optionalUrl("image_start", "https://example.com/first-frame.png", opts),
        image_end: optionalUrl("image_end", "https://example.com/last-frame.png", opts),
        video_urls: urlList("video_urls", "https://example.com/clip.mp4", LIMITS.maxVideoUrls, "clip", opts),
        audio_urls: urlList("audio_urls", "https://example.com/voice.mp3", LIMITS.maxAudioUrls, "audio file", opts),
        quality: z.enum(QUALITIES, { error: "quality must be 720p or 1080p" }).default("720p"),
        duration: z
          .number({ error: "duration must be a whole number of seconds" })
          .int("duration must be a whole number of seconds")
          .min(LIMITS.durationMin, durationMessage)
          .max(LIMITS.durationMax, durationMessage)
          .default(LIMITS.durationDefault),
        seed: z.number({ error: seedMessage }).int(seedMessage).min(LIMITS.seedMin, seedMessage).max(LIMITS.seedMax, seedMessage).optional(),
        prompt_extend: z.boolean({ error: "prompt_extend must be true or false" }).default(false),
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
