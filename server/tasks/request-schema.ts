/**
 * The generation request contract: the one zod module used by the form, the
 * tRPC input and the tests. Limits come from the provider's reference
 * (../shared/evolink/wan2.7-image-to-video.seed.txt).
 */
import { z } from "zod";
import { MODEL_ID, type GenerationRequestBody } from "../provider/types.ts";

export const GENERATION_MODES = ["first_frame", "first_last_frame", "video_continuation"] as const;
export type GenerationModeName = (typeof GENERATION_MODES)[number];
export const QUALITIES = ["720p", "1080p"] as const;
export type Quality = (typeof QUALITIES)[number];

export const LIMITS = {
  promptMaxChars: 5000,
  negativePromptMaxChars: 500,
  durationMin: 2,
  durationMax: 15,
  durationDefault: 5,
  seedMin: 1,
  seedMax: 2_147_483_647,
} as const;

/** Characters as the provider counts them: one per character (code point), Chinese included. */
export function charCount(text: string): number {
  return Array.from(text).length;
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

export interface SchemaOptions {
  /**
   * Accept http:// URLs on this machine's loopback addresses. Only for the
   * local simulator, which serves sample media over plain HTTP; the real
   * provider fetches media from the internet and takes https only.
   */
  allowLoopbackHttp?: boolean;
}

function mediaUrl(field: string, opts: SchemaOptions) {
  return z
    .string({ error: `${field} is required` })
    .trim()
    .min(1, `${field} is required`)
    .refine((v) => URL.canParse(v), `${field} must be a full URL, like https://example.com/frame.png`)
    .refine((v) => {
      const u = new URL(v);
      return u.protocol === "https:" || (opts.allowLoopbackHttp === true && u.protocol === "http:" && isLoopbackHost(u.hostname));
    }, `${field} must be an https:// URL that the provider can download`);
}

function limitedText(field: string, max: number) {
  return z
    .string()
    .refine((v) => charCount(v) <= max, {
      error: (issue) => `${field} is ${charCount(String(issue.input))} characters; the limit is ${max}. Shorten it (the provider would cut the rest silently).`,
    });
}

export function createGenerationInputSchema(opts: SchemaOptions = {}) {
  return z.object({
    generation_mode: z.literal("first_frame").default("first_frame"),
    prompt: limitedText("prompt", LIMITS.promptMaxChars).refine((v) => v.trim().length > 0, "prompt is required: describe the video"),
    negative_prompt: limitedText("negative_prompt", LIMITS.negativePromptMaxChars).optional(),
    image_start: mediaUrl("image_start", opts),
    quality: z.enum(QUALITIES, { error: "quality must be 720p or 1080p" }).default("720p"),
    duration: z
      .number({ error: "duration must be a whole number of seconds" })
      .int("duration must be a whole number of seconds")
      .min(LIMITS.durationMin, `duration must be between ${LIMITS.durationMin} and ${LIMITS.durationMax} seconds`)
      .max(LIMITS.durationMax, `duration must be between ${LIMITS.durationMin} and ${LIMITS.durationMax} seconds`)
      .default(LIMITS.durationDefault),
    seed: z
      .number()
      .int("seed must be a whole number")
      .min(LIMITS.seedMin, `seed must be between ${LIMITS.seedMin} and ${LIMITS.seedMax}; leave it empty for a random one`)
      .max(LIMITS.seedMax, `seed must be between ${LIMITS.seedMin} and ${LIMITS.seedMax}; leave it empty for a random one`)
      .optional(),
    prompt_extend: z.boolean().default(false),
  });
}

export type GenerationInput = z.output<ReturnType<typeof createGenerationInputSchema>>;
export type GenerationFormValues = z.input<ReturnType<typeof createGenerationInputSchema>>;

/** The provider request body: only the fields that apply; callback_url is the portal's, never the user's. */
export function toProviderBody(input: GenerationInput, callbackUrl?: string): GenerationRequestBody {
  const body: GenerationRequestBody = {
    model: MODEL_ID,
    generation_mode: input.generation_mode,
    prompt: input.prompt,
    image_start: input.image_start,
    quality: input.quality,
    duration: input.duration,
    prompt_extend: input.prompt_extend,
  };
  if (input.negative_prompt) body.negative_prompt = input.negative_prompt;
  if (input.seed !== undefined) body.seed = input.seed;
  if (callbackUrl) body.callback_url = callbackUrl;
  return body;
}
