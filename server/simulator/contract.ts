/**
 * The create request contract, written independently from the provider's
 * reference (/work/shared/evolink/wan2.7-image-to-video.seed.txt and
 * API-NOTES.md), NOT from the portal's request schema (server/tasks/): its
 * job is to make a request the portal should not send fail in tests.
 *
 * On purpose stricter than the provider in a few places, each so that a
 * portal mistake shows up instead of being silently absorbed:
 * - An over-long prompt (> 5000 characters) or negative_prompt (> 500) is
 *   refused with 400, where the provider cuts the text silently (the portal
 *   must tell the user first). `overlongText: "truncate"` mimics the provider
 *   instead and reports the truncation.
 * - Unknown fields and `null` values are refused.
 * - A prompt is required and must not be blank.
 * Limits the simulator cannot check without fetching the media (image size,
 * clip and audio length, "duration >= clip length") are not checked.
 */
import type { SimError } from "./http.ts";

/** Written out here rather than imported: the simulator must not follow the portal's constants. */
export const SIM_MODEL_ID = "wan2.7-image-to-video";

export const SIM_MODES = ["first_frame", "first_last_frame", "video_continuation"] as const;
export type SimMode = (typeof SIM_MODES)[number];

export type Material = "image_start" | "image_end" | "video_urls" | "audio_urls";
const MATERIALS: readonly Material[] = ["image_start", "image_end", "video_urls", "audio_urls"];

/** The seed's mode table. */
export const MODE_RULES: Readonly<Record<SimMode, { required: readonly Material[]; optional: readonly Material[]; refused: readonly Material[] }>> = {
  first_frame: { required: ["image_start"], optional: ["audio_urls"], refused: ["image_end", "video_urls"] },
  first_last_frame: { required: ["image_start", "image_end"], optional: ["audio_urls"], refused: ["video_urls"] },
  video_continuation: { required: ["video_urls"], optional: ["image_end"], refused: ["image_start", "audio_urls"] },
};

/** Without generation_mode, the materials present decide (keys in MATERIALS order). */
const DERIVED_MODE: Readonly<Record<string, SimMode>> = {
  image_start: "first_frame",
  "image_start+audio_urls": "first_frame",
  "image_start+image_end": "first_last_frame",
  "image_start+image_end+audio_urls": "first_last_frame",
  video_urls: "video_continuation",
  "image_end+video_urls": "video_continuation",
};

export const CONTRACT_LIMITS = {
  promptMaxChars: 5000,
  negativePromptMaxChars: 500,
  durationMin: 2,
  durationMax: 15,
  seedMin: 1,
  seedMax: 2_147_483_647,
  callbackUrlMaxChars: 2048,
  maxArrayItems: 1,
} as const;

const KNOWN_FIELDS = new Set([
  "model",
  "generation_mode",
  "prompt",
  "negative_prompt",
  "image_start",
  "image_end",
  "video_urls",
  "audio_urls",
  "quality",
  "duration",
  "seed",
  "prompt_extend",
  "callback_url",
]);

export interface ContractOptions {
  /** "refuse" (default): 400 on over-long text. "truncate": accept and cut, as the provider does. */
  overlongText?: "refuse" | "truncate";
}

export type ContractResult =
  | {
      ok: true;
      /** The mode used: the explicit one, or the one derived from the materials. */
      mode: SimMode;
      modeDerived: boolean;
      /** Fields the simulator cut (only with `overlongText: "truncate"`). */
      truncated: string[];
    }
  | { ok: false; error: SimError };

const invalid = (message: string, param?: string): { ok: false; error: SimError } => ({
  ok: false,
  error: { status: 400, code: "invalid_parameters", type: "invalid_request_error", message, ...(param !== undefined && { param }) },
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Characters as the provider counts them: one per code point. */
export const charCount = (s: string): number => Array.from(s).length;

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Media must be fetchable by the provider: https, or http on loopback (the simulator's own samples). */
function mediaUrlProblem(v: unknown, field: string): string | undefined {
  if (typeof v !== "string") return `${field} must be a URL string.`;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return `${field} is not a valid URL.`;
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return undefined;
  return `${field} must be an https URL.`;
}

export function checkGenerationRequest(body: unknown, opts: ContractOptions = {}): ContractResult {
  if (!isObject(body)) return invalid("The request body must be a JSON object.");

  for (const key of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(key)) return invalid(`Unknown parameter "${key}".`, key);
    if (body[key] === null) return invalid(`${key} must not be null; leave it out instead.`, key);
  }

  if (body.model !== SIM_MODEL_ID) return invalid(`model must be "${SIM_MODEL_ID}".`, "model");

  const mode = body.generation_mode;
  if (mode !== undefined && !SIM_MODES.includes(mode as SimMode)) {
    return invalid(`generation_mode must be one of ${SIM_MODES.join(", ")}.`, "generation_mode");
  }

  const truncated: string[] = [];
  const texts = [
    ["prompt", CONTRACT_LIMITS.promptMaxChars],
    ["negative_prompt", CONTRACT_LIMITS.negativePromptMaxChars],
  ] as const;
  for (const [field, max] of texts) {
    const value = body[field];
    if (value === undefined) {
      if (field === "prompt") return invalid("prompt is required.", "prompt");
      continue;
    }
    if (typeof value !== "string") return invalid(`${field} must be a string.`, field);
    if (field === "prompt" && value.trim() === "") return invalid("prompt must not be empty.", "prompt");
    const length = charCount(value);
    if (length > max) {
      if (opts.overlongText !== "truncate") {
        return invalid(`${field} is ${length} characters; at most ${max} are allowed (the provider would cut the rest silently).`, field);
      }
      truncated.push(field);
    }
  }

  for (const field of ["image_start", "image_end"] as const) {
    if (body[field] === undefined) continue;
    const problem = mediaUrlProblem(body[field], field);
    if (problem) return invalid(problem, field);
  }
  for (const field of ["video_urls", "audio_urls"] as const) {
    const value = body[field];
    if (value === undefined) continue;
    if (!Array.isArray(value)) return invalid(`${field} must be an array of URLs.`, field);
    if (value.length > CONTRACT_LIMITS.maxArrayItems) return invalid(`${field} supports only ${CONTRACT_LIMITS.maxArrayItems} element.`, field);
    for (const item of value) {
      const problem = mediaUrlProblem(item, `${field}[0]`);
      if (problem) return invalid(problem, field);
    }
  }

  if (body.quality !== undefined && body.quality !== "720p" && body.quality !== "1080p") {
    return invalid("quality must be 720p or 1080p.", "quality");
  }
  const intInRange = (field: string, min: number, max: number) => {
    const v = body[field];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      return invalid(`${field} must be an integer from ${min} to ${max}.`, field);
    }
    return undefined;
  };
  const rangeError =
    intInRange("duration", CONTRACT_LIMITS.durationMin, CONTRACT_LIMITS.durationMax) ?? intInRange("seed", CONTRACT_LIMITS.seedMin, CONTRACT_LIMITS.seedMax);
  if (rangeError) return rangeError;
  if (body.prompt_extend !== undefined && typeof body.prompt_extend !== "boolean") {
    return invalid("prompt_extend must be true or false.", "prompt_extend");
  }

  if (body.callback_url !== undefined) {
    const cb = body.callback_url;
    if (typeof cb !== "string") return invalid("callback_url must be a URL string.", "callback_url");
    if (cb.length > CONTRACT_LIMITS.callbackUrlMaxChars) {
      return invalid(`callback_url is ${cb.length} characters; at most ${CONTRACT_LIMITS.callbackUrlMaxChars} are allowed.`, "callback_url");
    }
    // The provider demands https and a public address; the simulator must also
    // call http://127.0.0.1 receivers in tests and local runs.
    let protocol = "";
    try {
      protocol = new URL(cb).protocol;
    } catch {
      // handled below
    }
    if (protocol !== "https:" && protocol !== "http:") return invalid("callback_url must be an https URL.", "callback_url");
  }

  // Modes and materials. Present = the key is there (even an empty array).
  const present = MATERIALS.filter((m) => body[m] !== undefined);
  let used: SimMode;
  const derived = mode === undefined;
  if (derived) {
    const found = DERIVED_MODE[present.join("+")];
    if (found === undefined) {
      const what = present.length > 0 ? present.join(" + ") : "no image or video";
      return invalid(`Cannot choose a generation mode for ${what}; see the generation_mode documentation for valid combinations.`, "generation_mode");
    }
    used = found;
  } else {
    used = mode as SimMode;
  }
  const rules = MODE_RULES[used];
  for (const m of rules.refused) {
    if (body[m] !== undefined) return invalid(`${m} is not accepted in ${used} mode.`, m);
  }
  for (const m of rules.required) {
    const v = body[m];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) {
      return invalid(`${m} is required in ${used} mode.`, m);
    }
  }

  return { ok: true, mode: used, modeDerived: derived, truncated };
}

/** Backward-compatible form: the error to answer, or null when the request is accepted. */
export function validateGenerationRequest(body: unknown, opts: ContractOptions = {}): SimError | null {
  const result = checkGenerationRequest(body, opts);
  return result.ok ? null : result.error;
}
