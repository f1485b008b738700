"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { useTRPC } from "@/app/_components/trpc.ts";
import { costFor, type PriceTable } from "@/server/billing/billing.ts";
import type { FieldErrors } from "@/server/errors.ts";
import { formatBytes, MEDIA_RULES } from "@/server/media/rules.ts";
import {
  charCount,
  createGenerationInputSchema,
  deriveMode,
  GENERATION_MODES,
  LIMITS,
  MODE_RULES,
  QUALITIES,
  truncateToLimit,
  type GenerationFormValues,
  type GenerationModeName,
  type MaterialName,
  type Quality,
} from "@/server/generation/request-schema.ts";
import type { UploadAvailability } from "@/server/uploads/availability.ts";
import { UploadButton } from "./upload-button.tsx";

interface Props {
  /** Origins whose media URLs are accepted over http: the simulator's and the portal's, in simulator mode only (httpMediaOrigins). */
  httpOrigins: string[];
  sampleImageUrl?: string;
  /** A clip the local simulator serves, offered for video_continuation. */
  sampleClipUrl?: string;
  prices: PriceTable;
  /** Whether the provider could fetch an uploaded file's link (server/uploads/availability.ts). */
  uploads: UploadAvailability;
}

const MODE_LABELS: Record<GenerationModeName, string> = {
  first_frame: "First frame",
  first_last_frame: "First and last frame",
  video_continuation: "Continue a video clip",
};

const ALL_MATERIALS: readonly MaterialName[] = ["image_start", "image_end", "video_urls", "audio_urls"];

/** The material fields shown for a mode: its required and optional ones; all of them in automatic mode. */
function visibleMaterials(mode: GenerationModeName | ""): ReadonlySet<MaterialName> {
  if (mode === "") return new Set(ALL_MATERIALS);
  return new Set([...MODE_RULES[mode].required, ...MODE_RULES[mode].optional]);
}

/** "video_urls.0" -> "video_urls": messages shown beside the field they belong to. */
function byField(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of issues) {
    const key = issue.path.length > 0 ? String(issue.path[0]) : "_form";
    const list = (out[key] ??= []);
    if (!list.includes(issue.message)) list.push(issue.message);
  }
  return out;
}

function normalizeServerErrors(errors: FieldErrors): FieldErrors {
  return byField(Object.entries(errors).flatMap(([key, messages]) => messages.map((message) => ({ path: key === "_form" ? [] : key.split("."), message }))));
}

const imageHint = `PNG, JPEG, WebP or BMP; ${MEDIA_RULES.image.minSide} to ${MEDIA_RULES.image.maxSide} px a side; up to ${formatBytes(MEDIA_RULES.image.maxBytes)}.`;
const clipHint = `MP4, ${MEDIA_RULES.clip.minSeconds} to ${MEDIA_RULES.clip.maxSeconds} s, ${MEDIA_RULES.clip.minSide} to ${MEDIA_RULES.clip.maxSide} px a side, up to ${formatBytes(MEDIA_RULES.clip.maxBytes)}.`;
const audioHint = `WAV or MP3, ${MEDIA_RULES.audio.minSeconds} to ${MEDIA_RULES.audio.maxSeconds} s, up to ${formatBytes(MEDIA_RULES.audio.maxBytes)}; audio longer than the video is cut.`;

/** A random v4 UUID; crypto.randomUUID exists only on https and localhost, getRandomValues everywhere. */
function newRequestId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function NewTaskForm({ httpOrigins, sampleImageUrl, sampleClipUrl, prices, uploads }: Props) {
  const trpc = useTRPC();
  const router = useRouter();
  const schema = useMemo(() => createGenerationInputSchema({ httpOrigins }), [httpOrigins]);
  const [mode, setMode] = useState<GenerationModeName | "">("");
  const [prompt, setPrompt] = useState("");
  const [negativePrompt, setNegativePrompt] = useState("");
  const [imageStart, setImageStart] = useState(sampleImageUrl ?? "");
  const [imageEnd, setImageEnd] = useState("");
  const [videoUrl, setVideoUrl] = useState("");
  const [audioUrl, setAudioUrl] = useState("");
  const [quality, setQuality] = useState<Quality>("720p");
  const [duration, setDuration] = useState(String(LIMITS.durationDefault));
  const [seed, setSeed] = useState("");
  const [promptExtend, setPromptExtend] = useState(false);
  /** Fields the user changed: their live errors show before any submission. */
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  /** Uploads in flight: the form is not sent while a field is still waiting for its link. */
  const [uploading, setUploading] = useState(0);
  const queryClient = useQueryClient();
  // Success or refusal, a task may have been stored: the history must not show a list from before it.
  const create = useMutation(
    trpc.tasks.create.mutationOptions({
      onSettled: () =>
        Promise.all([queryClient.invalidateQueries({ queryKey: trpc.tasks.pathKey() }), queryClient.invalidateQueries({ queryKey: trpc.usage.pathKey() })]),
    }),
  );
  // What is left of the person's and the team's monthly budgets, shown beside the estimate.
  const budget = useQuery(trpc.usage.myBudget.queryOptions());
  // Idempotency key: a double click or a retried request makes one task, not two.
  const [clientRequestId, setClientRequestId] = useState(newRequestId);

  const visible = visibleMaterials(mode);
  const values: GenerationFormValues = {
    ...(mode !== "" && { generation_mode: mode }),
    prompt,
    ...(negativePrompt !== "" && { negative_prompt: negativePrompt }),
    ...(visible.has("image_start") && imageStart.trim() !== "" && { image_start: imageStart }),
    ...(visible.has("image_end") && imageEnd.trim() !== "" && { image_end: imageEnd }),
    ...(visible.has("video_urls") && videoUrl.trim() !== "" && { video_urls: [videoUrl] }),
    ...(visible.has("audio_urls") && audioUrl.trim() !== "" && { audio_urls: [audioUrl] }),
    quality,
    ...(duration.trim() !== "" && { duration: Number(duration) }),
    ...(seed.trim() !== "" && { seed: Number(seed) }),
    prompt_extend: promptExtend,
  };
  const parsed = schema.safeParse(values);

  // Live errors: all of them after a submit attempt; before it, those of the
  // fields the user touched, and refused combinations at once.
  const liveErrors = parsed.success
    ? {}
    : byField(
        parsed.error.issues.filter(
          (issue) => submitted || touched.has(String(issue.path[0] ?? "_form")) || (issue.code === "custom" && issue.params?.rule === "refused"),
        ),
      );
  const errorsFor = (name: string): string[] => [...new Set([...(liveErrors[name] ?? []), ...(serverErrors[name] ?? [])])];

  const detected = mode === "" ? deriveMode(values) : mode;
  const durationValue = duration.trim() === "" ? LIMITS.durationDefault : Number(duration);
  // Every mode bills `duration`; for a continuation it is the whole output, clip included.
  const seconds = Number.isInteger(durationValue) && durationValue > 0 ? durationValue : 0;
  const estimate = costFor(prices, quality, seconds);
  const budgetRefusal = budgetRefusalFor(budget.data, estimate);

  /** A change handler that marks the field touched and drops its stale server error. */
  function edit<T>(name: string, set: (v: T) => void) {
    return (value: T) => {
      set(value);
      setTouched((t) => (t.has(name) ? t : new Set([...t, name])));
      setServerErrors((e) => {
        if (!e[name] && !e._form) return e;
        const { [name]: _dropped, _form: _formDropped, ...rest } = e;
        return rest;
      });
    };
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    if (!parsed.success) return;
    if (budgetRefusal) {
      // Refused here, before anything is sent: the server would refuse it too.
      setServerErrors({ _form: [budgetRefusal] });
      return;
    }
    setServerErrors({});
    try {
      const task = await create.mutateAsync({ ...parsed.data, clientRequestId });
      router.push(`/tasks/${task.id}`);
    } catch (err) {
      const data = (err as { data?: { fieldErrors?: FieldErrors | null } }).data;
      // The server answered: the next submission is a new request. Without an
      // answer (network failure) the same key is kept, so a retry cannot pay twice.
      if (data) setClientRequestId(newRequestId());
      const fieldErrors = data?.fieldErrors;
      setServerErrors(fieldErrors && Object.keys(fieldErrors).length > 0 ? normalizeServerErrors(fieldErrors) : { _form: [(err as Error).message] });
    }
  }

  const shownFields = new Set<string>(["generation_mode", "prompt", "negative_prompt", "quality", "duration", "seed", "prompt_extend", ...visible]);
  // Messages for anything not shown beside a field (and for the request as a whole) go above the button.
  const formErrors = [...new Set([...Object.keys(liveErrors), ...Object.keys(serverErrors)])].filter((k) => !shownFields.has(k) && k !== "_form").flatMap(errorsFor);
  formErrors.push(...errorsFor("_form"));

  const describedBy = (name: string, hint = false) => [hint ? `f-${name}-hint` : "", errorsFor(name).length > 0 ? `f-${name}-error` : ""].filter(Boolean).join(" ") || undefined;
  const field = (name: string, label: ReactNode, control: ReactNode, hint?: ReactNode) => (
    <div className="field" data-testid={`field-${name}`}>
      <label htmlFor={`f-${name}`}>{label}</label>
      {control}
      {hint !== undefined && (
        <span id={`f-${name}-hint`} className="muted small">
          {hint}
        </span>
      )}
      {errorsFor(name).length > 0 && (
        <span id={`f-${name}-error`} role="alert">
          {errorsFor(name).map((m) => (
            <span key={m} className="field-error" data-field={name} style={{ display: "block" }}>
              {m}
            </span>
          ))}
        </span>
      )}
    </div>
  );
  /** A media URL field, with "Upload…" beside it: an uploaded file's link fills the field. */
  const urlInput = (name: MaterialName, value: string, onChange: (v: string) => void, placeholder: string) => (
    <div style={{ display: "flex", gap: 8 }}>
      <input
        id={`f-${name}`}
        name={name}
        type="url"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={placeholder}
        aria-invalid={errorsFor(name).length > 0 || undefined}
        aria-describedby={describedBy(name, true)}
        style={{ flex: 1, minWidth: 0 }}
      />
      <UploadButton
        field={name}
        unavailable={uploads.enabled ? undefined : uploads.reason}
        unavailableNoteId="uploads-unavailable"
        onBusy={(busy) => {
          setUploading((n) => n + (busy ? 1 : -1));
          if (busy) setServerErrors(({ [name]: _stale, ...rest }) => rest);
        }}
        onUploaded={onChange}
        onRefused={(messages) => setServerErrors((e) => ({ ...e, [name]: messages }))}
      />
    </div>
  );
  const counter = (name: "prompt" | "negative_prompt", text: string, max: number, set: (v: string) => void) => {
    const count = charCount(text);
    return (
      <span className="small" style={{ display: "flex", gap: 12, alignItems: "baseline" }}>
        <span data-testid={`${name}-counter`} data-over={count > max ? "true" : undefined} className={count > max ? "error" : "muted"} style={count > max ? { fontWeight: 600 } : undefined}>
          {count} / {max} characters{count > max && ` (${count - max} over)`}
        </span>
        {count > max && (
          <button type="button" className="link" onClick={() => set(truncateToLimit(text, max))}>
            Truncate to {max} characters
          </button>
        )}
      </span>
    );
  };
  const optional = <span className="muted">(optional)</span>;

  return (
    <form onSubmit={onSubmit} className="card form" noValidate>
      {field(
        "generation_mode",
        "Mode",
        <select id="f-generation_mode" name="generation_mode" value={mode} onChange={(e) => edit("generation_mode", setMode)(e.target.value as GenerationModeName | "")} aria-describedby={describedBy("generation_mode", true)}>
          <option value="">Automatic (from the materials)</option>
          {GENERATION_MODES.map((m) => (
            <option key={m} value={m}>
              {MODE_LABELS[m]} ({m})
            </option>
          ))}
        </select>,
        <span data-testid="detected-mode">
          {mode !== ""
            ? "Sent as chosen."
            : detected
              ? `Detected from the materials: ${MODE_LABELS[detected]} (${detected}).`
              : "No mode fits these materials yet: give a first frame image, or a clip to continue."}
        </span>,
      )}
      {field(
        "prompt",
        "Prompt",
        <textarea id="f-prompt" name="prompt" rows={4} value={prompt} onChange={(e) => edit("prompt", setPrompt)(e.target.value)} aria-invalid={errorsFor("prompt").length > 0 || undefined} aria-describedby={describedBy("prompt")} />,
        counter("prompt", prompt, LIMITS.promptMaxChars, edit("prompt", setPrompt)),
      )}
      {field(
        "negative_prompt",
        <>Negative prompt {optional}</>,
        <textarea
          id="f-negative_prompt"
          name="negative_prompt"
          rows={2}
          value={negativePrompt}
          onChange={(e) => edit("negative_prompt", setNegativePrompt)(e.target.value)}
          aria-invalid={errorsFor("negative_prompt").length > 0 || undefined}
          aria-describedby={describedBy("negative_prompt")}
        />,
        counter("negative_prompt", negativePrompt, LIMITS.negativePromptMaxChars, edit("negative_prompt", setNegativePrompt)),
      )}
      {!uploads.enabled && (
        <p id="uploads-unavailable" className="muted small" style={{ margin: 0 }}>
          {uploads.reason}
        </p>
      )}
      {visible.has("image_start") &&
        field("image_start", "First frame image URL", urlInput("image_start", imageStart, edit("image_start", setImageStart), "https://example.com/first-frame.png"), imageHint)}
      {visible.has("image_end") &&
        field(
          "image_end",
          <>
            Last frame image URL{" "}
            {mode === "first_last_frame" ? null : mode === "video_continuation" ? <span className="muted">(optional: the continued clip ends on it)</span> : optional}
          </>,
          urlInput("image_end", imageEnd, edit("image_end", setImageEnd), "https://example.com/last-frame.png"),
          <>
            {imageHint}{" "}
            {sampleImageUrl && (
              <button type="button" className="link small" onClick={() => edit("image_end", setImageEnd)(sampleImageUrl)}>
                Use the sample image
              </button>
            )}
          </>,
        )}
      {visible.has("video_urls") &&
        field(
          "video_urls",
          <>Video clip URL {mode === "" && optional}</>,
          urlInput("video_urls", videoUrl, edit("video_urls", setVideoUrl), "https://example.com/clip.mp4"),
          <>
            {clipHint} The output continues it; <code>duration</code> is the whole output, clip included.{" "}
            {sampleClipUrl && (
              <button type="button" className="link small" onClick={() => edit("video_urls", setVideoUrl)(sampleClipUrl)}>
                Use the sample clip
              </button>
            )}
          </>,
        )}
      {visible.has("audio_urls") &&
        field("audio_urls", <>Driving audio URL {optional}</>, urlInput("audio_urls", audioUrl, edit("audio_urls", setAudioUrl), "https://example.com/voice.mp3"), audioHint)}
      <div className="row">
        {field(
          "quality",
          "Quality",
          <select id="f-quality" name="quality" value={quality} onChange={(e) => edit("quality", setQuality)(e.target.value as Quality)}>
            {QUALITIES.map((q) => (
              <option key={q} value={q}>
                {q}
              </option>
            ))}
          </select>,
        )}
        {field(
          "duration",
          "Duration (seconds)",
          <input
            id="f-duration"
            name="duration"
            type="number"
            min={LIMITS.durationMin}
            max={LIMITS.durationMax}
            step={1}
            value={duration}
            onChange={(e) => edit("duration", setDuration)(e.target.value)}
            aria-invalid={errorsFor("duration").length > 0 || undefined}
            aria-describedby={describedBy("duration")}
          />,
          detected === "video_continuation" ? "Total output, clip included: at least the clip's length." : undefined,
        )}
        {field(
          "seed",
          <>Seed {optional}</>,
          <input
            id="f-seed"
            name="seed"
            type="number"
            min={LIMITS.seedMin}
            max={LIMITS.seedMax}
            step={1}
            value={seed}
            onChange={(e) => edit("seed", setSeed)(e.target.value)}
            placeholder="random"
            aria-invalid={errorsFor("seed").length > 0 || undefined}
            aria-describedby={describedBy("seed")}
          />,
        )}
      </div>
      <label className="checkbox">
        <input name="prompt_extend" type="checkbox" checked={promptExtend} onChange={(e) => edit("prompt_extend", setPromptExtend)(e.target.checked)} />
        Let the provider rewrite the prompt (prompt_extend)
      </label>
      <p className="estimate" data-testid="estimate">
        Estimated cost: {seconds} s × {prices.perSecond[quality]} {prices.currency}/s = {estimate.toFixed(3)} {prices.currency}
      </p>
      {detected === "video_continuation" && <p className="muted small">A continuation is billed for the whole duration, the input clip included.</p>}
      <BudgetLine status={budget.data} estimate={estimate} />
      {[...new Set(formErrors)].map((m) => (
        <p key={m} className="error" role="alert" data-field="_form">
          {m}
        </p>
      ))}
      <button type="submit" disabled={create.isPending || uploading > 0}>
        {create.isPending ? "Submitting…" : "Generate video"}
      </button>
    </form>
  );
}

interface BudgetUseView {
  limit: number | null;
  remaining: number | null;
  used: number | null;
}

interface BudgetView {
  renewsOn: string;
  currency: string;
  personal: BudgetUseView;
  team: BudgetUseView;
}

const renewsLabel = (day: string) => new Date(`${day}T00:00:00Z`).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

/** The sentence that refuses a video the budgets cannot take, or null when it fits (same words as the server's). */
function budgetRefusalFor(b: BudgetView | undefined, estimate: number): string | null {
  if (!b) return null;
  for (const [use, whose] of [
    [b.personal, "your monthly budget"],
    [b.team, "the team's monthly budget"],
  ] as const) {
    if (use.limit !== null && use.remaining !== null && estimate > use.remaining + 1e-9) {
      return `This video is estimated at ${estimate.toFixed(2)} ${b.currency}, but ${whose} has ${use.remaining.toFixed(2)} ${b.currency} left (of ${use.limit.toFixed(2)} ${b.currency}). It renews on ${renewsLabel(b.renewsOn)}. Choose a shorter or 720p video, or ask an admin.`;
    }
  }
  return null;
}

/** What is left of the budgets beside the estimate, flagged at 80 % and 100 %. */
function BudgetLine({ status, estimate }: { status: BudgetView | undefined; estimate: number }) {
  if (!status) return null;
  const parts: Array<{ text: string; level: string }> = [];
  for (const [use, whose] of [
    [status.personal, "Your budget"],
    [status.team, "The team's budget"],
  ] as const) {
    if (use.limit === null || use.remaining === null) continue;
    const after = use.remaining - estimate;
    const level = after < -1e-9 || (use.used !== null && use.used >= 1) ? "danger" : use.used !== null && use.used >= 0.8 ? "warn" : "";
    parts.push({
      text: `${whose}: ${use.remaining.toFixed(2)} ${status.currency} left this month${use.used !== null && use.used >= 0.8 ? ` (${Math.round(use.used * 100)} % used)` : ""}, renews on ${renewsLabel(status.renewsOn)}.`,
      level,
    });
  }
  if (parts.length === 0) return null;
  return (
    <p className="small" data-testid="budget-left">
      {parts.map((p) => (
        <span key={p.text} className={p.level} style={{ display: "block" }}>
          {p.text}
        </span>
      ))}
    </p>
  );
}
