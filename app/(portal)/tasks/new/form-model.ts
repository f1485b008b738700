/**
 * The new video form's state as data, and what it means, without React:
 * the request it sends, the fields a mode shows (in the mode's order), the
 * errors it shows and the estimate. Every rule comes from the server's shared
 * modules (request schema, labels, media rules, billing); nothing is restated
 * here. Pure, so tests/unit/new-task-form-model.test.ts runs it directly.
 */
import { estimateCost, type Estimate, type PriceTable } from "@/server/billing/billing.ts";
import { fieldErrorsOf, mergeFieldErrors, type FieldErrors } from "@/server/errors.ts";
import { FIELD_LABELS } from "@/server/generation/labels.ts";
import {
  deriveMode,
  LIMITS,
  MATERIALS,
  MODE_RULES,
  QUALITIES,
  type createGenerationInputSchema,
  type GenerationFormValues,
  type GenerationModeName,
  type MaterialName,
  type Quality,
} from "@/server/generation/request-schema.ts";
import { audioLongerThanVideo, continuationDurationCheck, roundMs, type MeasuredFacts } from "@/server/media/rules.ts";

export interface FormState {
  mode: GenerationModeName | "";
  prompt: string;
  negative_prompt: string;
  image_start: string;
  image_end: string;
  video_urls: string;
  audio_urls: string;
  quality: Quality;
  /** As typed: empty is an error, never the default in disguise. */
  duration: string;
  seed: string;
  prompt_extend: boolean;
}

export type FieldName = Exclude<keyof FormState, "mode"> | "generation_mode";

export function defaultState(sampleImageUrl?: string): FormState {
  return {
    mode: "",
    prompt: "",
    negative_prompt: "",
    image_start: sampleImageUrl ?? "",
    image_end: "",
    video_urls: "",
    audio_urls: "",
    quality: "720p",
    duration: String(LIMITS.durationDefault),
    seed: "",
    prompt_extend: false,
  };
}

export function sameState(a: FormState, b: FormState): boolean {
  return (Object.keys(a) as Array<keyof FormState>).every((k) => a[k] === b[k]);
}

/** The material fields a mode shows, in its order: what it needs, then what it may take; all of them in automatic mode. */
export function visibleMaterials(mode: GenerationModeName | ""): MaterialName[] {
  if (mode === "") return [...MATERIALS];
  return [...MODE_RULES[mode].required, ...MODE_RULES[mode].optional];
}

/** Every field in the order the form shows it for `mode`: where focus goes first on a refused submit. */
export function fieldOrder(mode: GenerationModeName | ""): string[] {
  return ["generation_mode", "prompt", "negative_prompt", ...visibleMaterials(mode), "quality", "duration", "seed", "prompt_extend"];
}

/** "First frame image" */
export function titleOf(field: MaterialName): string {
  const label: string = FIELD_LABELS[field];
  return label.charAt(0).toUpperCase() + label.slice(1);
}

const number = (text: string) => (text.trim() === "" ? Number.NaN : Number(text));

/** The request the form sends: only the materials its mode shows, the duration as typed (empty is refused by the schema). */
export function toRequest(s: FormState): GenerationFormValues {
  const visible = new Set(visibleMaterials(s.mode));
  const has = (f: MaterialName) => visible.has(f) && s[f].trim() !== "";
  return {
    ...(s.mode !== "" && { generation_mode: s.mode }),
    prompt: s.prompt,
    ...(s.negative_prompt !== "" && { negative_prompt: s.negative_prompt }),
    ...(has("image_start") && { image_start: s.image_start }),
    ...(has("image_end") && { image_end: s.image_end }),
    ...(has("video_urls") && { video_urls: [s.video_urls] }),
    ...(has("audio_urls") && { audio_urls: [s.audio_urls] }),
    quality: s.quality,
    duration: number(s.duration),
    ...(s.seed.trim() !== "" && { seed: number(s.seed) }),
    prompt_extend: s.prompt_extend,
  };
}

/** The form's state for a request (a task's settings, a continuation): what the server's draftFrom answers. */
export function fromRequest(v: GenerationFormValues, base: FormState = defaultState()): FormState {
  const text = (x: unknown) => (typeof x === "string" ? x : "");
  return {
    ...base,
    mode: v.generation_mode ?? "",
    prompt: text(v.prompt),
    negative_prompt: text(v.negative_prompt),
    image_start: text(v.image_start),
    image_end: text(v.image_end),
    video_urls: text(v.video_urls?.[0]),
    audio_urls: text(v.audio_urls?.[0]),
    quality: QUALITIES.includes(v.quality as Quality) ? (v.quality as Quality) : "720p",
    duration: typeof v.duration === "number" ? String(v.duration) : String(LIMITS.durationDefault),
    seed: typeof v.seed === "number" ? String(v.seed) : "",
    prompt_extend: v.prompt_extend === true,
  };
}

/** What the portal knows of one file of the form. */
export type FileCheckState =
  | { status: "checking" }
  | { status: "ok"; facts: MeasuredFacts }
  | { status: "refused"; errors: string[]; facts?: MeasuredFacts }
  /** Could not be downloaded (the provider judges it), or not checked now (rate limit): not a refusal. */
  | { status: "unchecked"; notice: string };

export const checkKey = (field: MaterialName, url: string) => `${field} ${url.trim()}`;

type Schema = ReturnType<typeof createGenerationInputSchema>;

export interface Evaluation {
  /** The parsed request when the schema takes it. */
  request: ReturnType<Schema["safeParse"]>;
  /** The mode sent: the chosen one, or the one the materials select. */
  mode: GenerationModeName | null;
  /** Every error, by field: the schema's, the files' and the rules between them. */
  errors: FieldErrors;
  /** The errors shown now: those of fields touched, files given, refused combinations; all after a submit attempt. */
  shown: FieldErrors;
  /** Files still being checked or uploaded. */
  pending: MaterialName[];
  /** The clip's measured length, when known. */
  clipSeconds?: number;
  /** Notices that do not stop the request (audio cut, clip returned unchanged). */
  notices: string[];
}

/** Fields whose text does not change the price. */
const FREE_TEXT = new Set(["prompt", "negative_prompt", "seed"]);

export function evaluate(
  schema: Schema,
  s: FormState,
  ctx: { checks: ReadonlyMap<string, FileCheckState>; touched: ReadonlySet<string>; submitted: boolean; uploading: ReadonlySet<MaterialName> },
): Evaluation {
  const values = toRequest(s);
  const request = schema.safeParse(values);
  const visible = visibleMaterials(s.mode);
  const mode = s.mode !== "" ? s.mode : deriveMode(values);
  const media: FieldErrors = {};
  const notices: string[] = [];
  const pending: MaterialName[] = [];
  const facts: Partial<Record<MaterialName, MeasuredFacts>> = {};
  for (const field of visible) {
    if (ctx.uploading.has(field)) pending.push(field);
    if (s[field].trim() === "") continue;
    const check = ctx.checks.get(checkKey(field, s[field]));
    if (check?.status === "checking") pending.push(field);
    if (check?.status === "refused") media[field] = check.errors;
    if (check?.status === "ok") facts[field] = check.facts;
    if (check?.status === "unchecked") notices.push(check.notice);
  }
  // The rules between a file and the rest: the continuation's duration against the clip, the audio against the video.
  const clip = facts.video_urls?.kind === "clip" ? facts.video_urls : undefined;
  const duration = Number(s.duration);
  const durationValid = s.duration.trim() !== "" && Number.isInteger(duration) && duration >= LIMITS.durationMin && duration <= LIMITS.durationMax;
  if (mode === "video_continuation" && clip && durationValid) {
    const rule = continuationDurationCheck(duration, clip.durationSeconds);
    if (rule.error) media.duration = [rule.error];
    if (rule.warning) notices.push(rule.warning);
  }
  const audio = facts.audio_urls?.kind === "audio" ? facts.audio_urls : undefined;
  const cut = audio?.durationSeconds !== undefined && durationValid ? audioLongerThanVideo(audio.durationSeconds, duration) : null;
  if (cut) notices.push(cut);

  const issues = request.success ? [] : request.error.issues;
  const errors = mergeFieldErrors(fieldErrorsOf({ issues }), media);
  const live = issues.filter(
    (i) => ctx.submitted || ctx.touched.has(String(i.path[0] ?? "_form")) || (i.code === "custom" && (i.params as { rule?: string } | undefined)?.rule === "refused"),
  );
  return {
    request,
    mode,
    errors,
    shown: mergeFieldErrors(fieldErrorsOf({ issues: live }), media),
    pending,
    ...(clip && { clipSeconds: roundMs(clip.durationSeconds) }),
    notices,
  };
}

export type EstimateView =
  | { kind: "ok"; estimate: Estimate; clipSeconds?: number; durationSeconds: number }
  | { kind: "pending"; text: string }
  | { kind: "none"; text: string };

/**
 * The estimate, shown only for a request whose price is known and valid:
 * every field that decides it (mode and materials, quality, duration, the
 * files, the clip's measured length) is valid; the prompt, negative prompt
 * and seed do not change the price and are not waited for.
 */
export function estimateOf(prices: PriceTable, s: FormState, e: Evaluation): EstimateView {
  const blocking = Object.keys(e.errors).filter((k) => !FREE_TEXT.has(k));
  if (blocking.length > 0 || e.mode === null) return { kind: "none", text: "No estimate yet: complete the fields marked above (materials, duration and quality decide the price)." };
  if (e.mode === "video_continuation" && e.pending.includes("video_urls")) return { kind: "pending", text: "No estimate yet: measuring the clip…" };
  const durationSeconds = Number(s.duration);
  const estimate = estimateCost(prices, { mode: e.mode, quality: s.quality, durationSeconds, ...(e.clipSeconds !== undefined && { inputClipSeconds: e.clipSeconds }) });
  if (!estimate) return { kind: "none", text: "No estimate yet: the duration is shorter than the clip." };
  return { kind: "ok", estimate, durationSeconds, ...(e.clipSeconds !== undefined && { clipSeconds: e.clipSeconds }) };
}

/** A file the form holds: the name shown beside its preview, and whether it was uploaded (then no raw link is shown). */
export interface FileInfo {
  name: string;
  uploaded: boolean;
}

/** A stored draft: the form's state, and its files' names. */
export interface Draft {
  v: 1;
  savedAt: string;
  state: FormState;
  files: Partial<Record<MaterialName, FileInfo>>;
}

export const draftKey = (userId: string) => `wan-video-portal:new-video-draft:${userId}`;

/** A stored draft, or null for anything that is not one (another version, edited by hand). */
export function parseDraft(text: string | null): Draft | null {
  if (!text) return null;
  try {
    const d = JSON.parse(text) as Partial<Draft>;
    if (d.v !== 1 || typeof d.state !== "object" || d.state === null) return null;
    const base = defaultState();
    const state = { ...base } as Record<keyof FormState, unknown>;
    for (const k of Object.keys(base) as Array<keyof FormState>) {
      const value = (d.state as unknown as Record<string, unknown>)[k];
      if (typeof value === typeof base[k]) state[k] = value;
    }
    if (!["", ...Object.keys(MODE_RULES)].includes(state.mode as string)) state.mode = "";
    if (!QUALITIES.includes(state.quality as Quality)) state.quality = "720p";
    const files: Draft["files"] = {};
    for (const field of MATERIALS) {
      const f = (d.files as Record<string, Partial<FileInfo>> | undefined)?.[field];
      if (f && typeof f.name === "string" && typeof f.uploaded === "boolean") files[field] = { name: f.name, uploaded: f.uploaded };
    }
    return { v: 1, savedAt: String(d.savedAt ?? ""), state: state as unknown as FormState, files };
  } catch {
    return null;
  }
}

export function budgetIsOver(estimate: number, remaining: number | null, limit: number | null): boolean {
  return limit !== null && remaining !== null && estimate > remaining + 1e-9;
}

/** The name shown for a file given as a link: the last part of its path. */
export function nameFromUrl(url: string): string {
  if (!URL.canParse(url)) return url;
  const last = new URL(url).pathname.split("/").filter(Boolean).pop() ?? "";
  try {
    return decodeURIComponent(last) || new URL(url).hostname;
  } catch {
    return last;
  }
}
