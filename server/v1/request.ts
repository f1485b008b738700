/**
 * A `/v1` create request, as the provider takes it (the seed reference's
 * fields, `model` and `callback_url` included), checked by the portal's one
 * request contract (server/generation/request-schema.ts) and refused the
 * provider's way: 400 `invalid_parameters` naming the offending `param`, in
 * the order the provider checks (unknown and null fields, model, then each
 * field, then the mode table). The messages are the portal's own, written
 * for the person who reads them.
 */
import type { z } from "zod";
import { MODEL_ID } from "../provider/types.ts";
import { createGenerationInputSchema, MATERIALS, type GenerationInput, type SchemaOptions } from "../generation/request-schema.ts";
import { V1Error } from "./errors.ts";

/** The provider's callback rule: an https URL of at most this many characters. */
export const CALLBACK_URL_MAX_CHARS = 2048;

/** The request fields the provider knows; any other is refused by name. */
export const V1_CREATE_FIELDS = [
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
] as const;
const KNOWN = new Set<string>(V1_CREATE_FIELDS);

/** The order in which a field's own problem is reported (the provider's order); the mode table comes after. */
const FIELD_ORDER = ["generation_mode", "prompt", "negative_prompt", "image_start", "image_end", "video_urls", "audio_urls", "quality", "duration", "seed", "prompt_extend"];

export interface V1CreateRequest {
  input: GenerationInput;
  /** Where the caller wants the task's end sent (https), when it asked. */
  callbackUrl?: string;
}

export type V1CreateSchema = ReturnType<typeof createGenerationInputSchema>;

export function createV1Schema(opts: SchemaOptions = {}): V1CreateSchema {
  return createGenerationInputSchema(opts);
}

const refuse = (message: string, param?: string): never => {
  throw new V1Error(400, message, param === undefined ? {} : { param });
};

function checkCallbackUrl(value: unknown): string {
  if (typeof value !== "string") return refuse("callback_url must be an https URL, as a string.", "callback_url");
  if (value.length > CALLBACK_URL_MAX_CHARS) {
    return refuse(`callback_url is ${value.length} characters; at most ${CALLBACK_URL_MAX_CHARS} are allowed.`, "callback_url");
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse("callback_url must be a full https URL, like https://hooks.example.com/video-done.", "callback_url");
  }
  if (url.protocol !== "https:") return refuse("callback_url must be an https URL: the portal sends task results over https only.", "callback_url");
  if (url.username || url.password) return refuse("callback_url must not carry a user name or password; put a token in its path or query instead.", "callback_url");
  return value;
}

/** The checked request, or a V1Error (400) naming the first offending field. */
export function parseV1CreateRequest(body: unknown, schema: V1CreateSchema): V1CreateRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refuse("The request body must be a JSON object with the generation fields (model, prompt, image_start, ...).");
  const fields = body as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (!KNOWN.has(key)) return refuse(`Unknown parameter "${key.slice(0, 100)}": this model takes ${V1_CREATE_FIELDS.join(", ")}.`, key.slice(0, 100));
    if (value === null) return refuse(`${key} must not be null; leave it out instead.`, key);
  }
  if (fields.model !== MODEL_ID) return refuse(`model must be "${MODEL_ID}".`, "model");
  const callbackUrl = fields.callback_url === undefined ? undefined : checkCallbackUrl(fields.callback_url);

  const { model: _model, callback_url: _callback, ...request } = fields;
  const parsed = schema.safeParse(request);
  if (!parsed.success) return refuse(...firstProblem(parsed.error, fields.generation_mode === undefined));
  return { input: parsed.data, ...(callbackUrl !== undefined && { callbackUrl }) };
}

/** The message and `param` of the problem the provider would name: a field's own first, then the mode table's. */
function firstProblem(error: z.ZodError, modeOmitted: boolean): [string, string | undefined] {
  const issues = error.issues.map((issue) => {
    // The mode table's issues (request-schema.ts) carry the rule they broke: "required" or "refused".
    const rule = issue.code === "custom" ? (issue as { params?: { rule?: unknown } }).params?.rule : undefined;
    return { field: issue.path.length > 0 ? String(issue.path[0]) : undefined, message: issue.message, modeRule: typeof rule === "string", refused: rule === "refused" };
  });
  const own = issues.filter((i) => !i.modeRule);
  const rank = (field: string | undefined) => (field === undefined ? -1 : FIELD_ORDER.indexOf(field) === -1 ? FIELD_ORDER.length : FIELD_ORDER.indexOf(field));
  const pick = own.sort((a, b) => rank(a.field) - rank(b.field))[0];
  if (pick) return [pick.message, pick.field];
  // The provider names a material the mode refuses before one it lacks.
  const rule = issues.find((i) => i.refused) ?? issues[0];
  if (!rule) return ["The request is not valid.", undefined];
  // Without generation_mode, a combination no mode accepts is the mode's problem, as the provider reports it.
  const param = modeOmitted && rule.field !== undefined && (MATERIALS as readonly string[]).includes(rule.field) ? "generation_mode" : rule.field;
  return [rule.message, param];
}
