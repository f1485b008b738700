"use client";
/** The new video form's fields: each one reads and changes the form model (use-new-task-form.ts). */
import type { ReactNode } from "react";
import type { Estimate } from "@/server/billing/billing.ts";
import { renewsLabel } from "@/server/budgets/messages.ts";
import { FIELD_LABELS, MODE_DESCRIPTIONS, MODE_LABELS } from "@/server/generation/labels.ts";
import { charCount, GENERATION_MODES, LIMITS, QUALITIES, truncateToLimit, type GenerationModeName, type MaterialName, type Quality } from "@/server/generation/request-schema.ts";
import { describeFacts, formatBytes, formatNames, MEDIA_RULES } from "@/server/media/rules.ts";
import { nameFromUrl, titleOf, type EstimateView } from "./form-model.ts";
import styles from "./new-task-form.module.css";
import { UploadButton } from "./upload-button.tsx";
import type { NewTaskFormModel } from "./use-new-task-form.ts";

/** The API name, for those who know it: small, secondary, after the words. */
export function ApiName({ children }: { children: ReactNode }) {
  return <code className={styles.apiName}>{children}</code>;
}

function describedBy(...ids: Array<string | false | undefined>): string | undefined {
  return ids.filter(Boolean).join(" ") || undefined;
}

/** A field's messages, tied to its control by id. */
function FieldErrors({ name, messages }: { name: string; messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <span id={`f-${name}-error`} role="alert" className={styles.errors}>
      {messages.map((m) => (
        <span key={m} className="field-error" data-field={name}>
          {m}
        </span>
      ))}
    </span>
  );
}

export function ModeField({ form }: { form: NewTaskFormModel }) {
  const { mode } = form.state;
  const detected = form.detectedMode;
  return (
    <div className="field" data-testid="field-generation_mode">
      <label htmlFor="f-generation_mode">Mode</label>
      <select
        id="f-generation_mode"
        name="generation_mode"
        value={mode}
        onChange={(e) => form.set("mode", e.target.value as GenerationModeName | "")}
        aria-describedby={describedBy("f-generation_mode-hint", form.errorsFor("generation_mode").length > 0 && "f-generation_mode-error")}
      >
        <option value="">Automatic (from the materials)</option>
        {GENERATION_MODES.map((m) => (
          <option key={m} value={m}>
            {MODE_LABELS[m]}
          </option>
        ))}
      </select>
      <span id="f-generation_mode-hint" className="muted small" data-testid="detected-mode">
        {mode !== "" ? (
          <>
            {MODE_DESCRIPTIONS[mode]} <ApiName>{mode}</ApiName>
          </>
        ) : detected ? (
          <>
            Detected from the materials: {MODE_LABELS[detected]}. <ApiName>{detected}</ApiName>
          </>
        ) : (
          "No mode fits these materials yet: give a first frame image, or a clip to continue."
        )}
      </span>
      <FieldErrors name="generation_mode" messages={form.errorsFor("generation_mode")} />
    </div>
  );
}

/** A prompt with its character counter, tied to it, and truncation when it is over. */
export function TextField({ form, name, label, rows }: { form: NewTaskFormModel; name: "prompt" | "negative_prompt"; label: ReactNode; rows: number }) {
  const text = form.state[name];
  const max = name === "prompt" ? LIMITS.promptMaxChars : LIMITS.negativePromptMaxChars;
  const count = charCount(text);
  const over = count > max;
  const errors = form.errorsFor(name);
  return (
    <div className="field" data-testid={`field-${name}`}>
      <label htmlFor={`f-${name}`}>{label}</label>
      <textarea
        id={`f-${name}`}
        name={name}
        rows={rows}
        value={text}
        onChange={(e) => form.set(name, e.target.value)}
        aria-invalid={errors.length > 0 || undefined}
        aria-describedby={describedBy(`f-${name}-counter`, errors.length > 0 && `f-${name}-error`)}
      />
      <span className={`small ${styles.counterRow}`}>
        <span id={`f-${name}-counter`} data-testid={`${name}-counter`} data-over={over ? "true" : undefined} className={over ? `error ${styles.over}` : "muted"}>
          {count} / {max} characters{over && ` (${count - max} over)`}
        </span>
        {over && (
          <button type="button" className="link" onClick={() => form.set(name, truncateToLimit(text, max))}>
            Truncate to {max} characters
          </button>
        )}
      </span>
      <FieldErrors name={name} messages={errors} />
    </div>
  );
}

const HINTS: Record<MaterialName, string> = {
  image_start: `${formatNames("image")}; ${MEDIA_RULES.image.minSide} to ${MEDIA_RULES.image.maxSide} px a side; up to ${formatBytes(MEDIA_RULES.image.maxBytes)}.`,
  image_end: `${formatNames("image")}; ${MEDIA_RULES.image.minSide} to ${MEDIA_RULES.image.maxSide} px a side; up to ${formatBytes(MEDIA_RULES.image.maxBytes)}.`,
  video_urls: `MP4, ${MEDIA_RULES.clip.minSeconds} to ${MEDIA_RULES.clip.maxSeconds} s, ${MEDIA_RULES.clip.minSide} to ${MEDIA_RULES.clip.maxSide} px a side, up to ${formatBytes(MEDIA_RULES.clip.maxBytes)}. The new video continues it; the duration is the whole output, clip included.`,
  audio_urls: `${formatNames("audio")}, ${MEDIA_RULES.audio.minSeconds} to ${MEDIA_RULES.audio.maxSeconds} s, up to ${formatBytes(MEDIA_RULES.audio.maxBytes)}; audio longer than the video is cut.`,
};

const PLACEHOLDERS: Record<MaterialName, string> = {
  image_start: "https://example.com/first-frame.png",
  image_end: "https://example.com/last-frame.png",
  video_urls: "https://example.com/clip.mp4",
  audio_urls: "https://example.com/voice.mp3",
};

/** Whether the mode needs the field, may take it, or (automatic mode) it depends. */
function needLabel(field: MaterialName, mode: GenerationModeName | ""): string | null {
  // Automatic: a first frame or a clip decides the mode; the rest may be added.
  if (mode === "") return field === "image_start" ? null : "(optional)";
  if (field === "image_end" && mode === "video_continuation") return "(optional: the continued clip ends on it)";
  if (field === "audio_urls" || (field === "image_end" && mode !== "first_last_frame")) return "(optional)";
  return null;
}

/**
 * A media field: a link or an upload, checked as soon as it is given, with a
 * preview, the file's name, what was measured, and Remove. An uploaded file
 * shows as a file, never as its raw tokened link.
 */
export function MediaField({
  form,
  field,
  uploads,
  extra,
}: {
  form: NewTaskFormModel;
  field: MaterialName;
  uploads: { enabled: true } | { enabled: false; reason: string };
  extra?: ReactNode;
}) {
  const url = form.state[field];
  const file = form.files[field];
  const check = form.checkFor(field);
  const refused = form.refusedUploadFor(field);
  const errors = form.errorsFor(field);
  const uploaded = url.trim() !== "" && file?.uploaded === true;
  const title = titleOf(field);
  const name = file?.name || nameFromUrl(url);
  const need = needLabel(field, form.state.mode);
  const facts = check?.status === "ok" ? check.facts : check?.status === "refused" ? check.facts : undefined;
  const ids = describedBy(`f-${field}-hint`, check && `f-${field}-facts`, (errors.length > 0 || refused) && `f-${field}-error`);
  // One upload button: beside the URL, or beside the uploaded file to replace it.
  const uploadButton = (
    <UploadButton
      field={field}
      unavailable={uploads.enabled ? undefined : uploads.reason}
      unavailableNoteId="uploads-unavailable"
      onStart={() => form.media.start(field)}
      onDone={() => form.media.done(field)}
      onUploaded={(f) => form.media.uploaded(field, f)}
      onRefused={(name, messages) => form.media.refused(field, name, messages)}
    />
  );
  const heading = (
    <>
      {uploaded ? title : `${title} URL`} {need && <span className="muted">{need}</span>}
    </>
  );
  return (
    <div className="field" data-testid={`field-${field}`} role={uploaded ? "group" : undefined} aria-labelledby={uploaded ? `f-${field}-title` : undefined}>
      {uploaded ? (
        <span id={`f-${field}-title`} className={styles.title}>
          {heading}
        </span>
      ) : (
        <label htmlFor={`f-${field}`}>{heading}</label>
      )}
      <span id={`f-${field}-hint`} className="muted small">
        {HINTS[field]} <ApiName>{field}</ApiName> {extra}
      </span>
      {uploaded ? null : (
        <div className={styles.linkRow}>
          <input
            id={`f-${field}`}
            name={field}
            type="url"
            value={url}
            onChange={(e) => form.set(field, e.target.value)}
            placeholder={PLACEHOLDERS[field]}
            aria-invalid={errors.length > 0 || undefined}
            aria-describedby={ids}
          />
          {uploadButton}
        </div>
      )}
      {url.trim() !== "" && (facts || uploaded) && (
        <div className={styles.file} data-testid={`file-${field}`}>
          <Preview field={field} url={url} kind={facts?.kind} name={name} />
          <div className={styles.fileText}>
            <span className={styles.fileName} data-testid={`file-name-${field}`}>
              {name}
            </span>
            <button type="button" id={`f-${field}-remove`} className="secondary" onClick={() => form.media.remove(field)} aria-describedby={errors.length > 0 ? `f-${field}-error` : undefined}>
              Remove {FIELD_LABELS[field]}
            </button>
            {uploaded && uploadButton}
          </div>
        </div>
      )}
      {check && (
        <span id={`f-${field}-facts`} className="small" data-testid={`facts-${field}`} data-status={check.status} aria-live="polite">
          {check.status === "checking" && <span className="muted">Checking the file…</span>}
          {facts && (
            <span>
              Measured: {describeFacts(facts)}
              {check.status === "ok" && <span className="ok"> · meets the rules</span>}
            </span>
          )}
          {check.status === "unchecked" && <span className="muted">{check.notice}</span>}
        </span>
      )}
      {(errors.length > 0 || refused) && (
        <span id={`f-${field}-error`} role="alert" className={styles.errors}>
          {refused && (
            <span className="field-error" data-field={field} data-upload="refused">
              {refused.messages.join(" ")}
              {url.trim() !== "" && ` (${refused.name} was not used; the field keeps ${name}.)`}
            </span>
          )}
          {errors.map((m) => (
            <span key={m} className="field-error" data-field={field}>
              {m}
            </span>
          ))}
        </span>
      )}
    </div>
  );
}

/** An image, a playable clip or an audio player, as the file was measured to be. */
function Preview({ field, url, kind, name }: { field: MaterialName; url: string; kind?: "image" | "clip" | "audio"; name: string }) {
  const as = kind ?? (field === "video_urls" ? "clip" : field === "audio_urls" ? "audio" : "image");
  const label = `Preview of the ${FIELD_LABELS[field]}${name ? ` (${name})` : ""}`;
  if (as === "image") return <img src={url} alt={label} className={styles.previewImage} data-testid={`preview-${field}`} />;
  if (as === "clip") return <video src={url} controls preload="metadata" muted aria-label={label} className={styles.previewVideo} data-testid={`preview-${field}`} />;
  return <audio src={url} controls preload="metadata" aria-label={label} className={styles.previewAudio} data-testid={`preview-${field}`} />;
}

export function SettingsFields({ form }: { form: NewTaskFormModel }) {
  const { state } = form;
  const number = (name: "duration" | "seed", label: ReactNode, attrs: { min: number; max: number; placeholder?: string }, hint?: ReactNode) => {
    const errors = form.errorsFor(name);
    return (
      <div className="field" data-testid={`field-${name}`}>
        <label htmlFor={`f-${name}`}>{label}</label>
        <input
          id={`f-${name}`}
          name={name}
          type="number"
          step={1}
          {...attrs}
          value={state[name]}
          onChange={(e) => form.set(name, e.target.value)}
          aria-invalid={errors.length > 0 || undefined}
          aria-describedby={describedBy(hint !== undefined && `f-${name}-hint`, errors.length > 0 && `f-${name}-error`)}
        />
        {hint !== undefined && (
          <span id={`f-${name}-hint`} className="muted small">
            {hint}
          </span>
        )}
        <FieldErrors name={name} messages={errors} />
      </div>
    );
  };
  return (
    <>
      <div className={`row ${styles.settings}`}>
        <div className="field" data-testid="field-quality">
          <label htmlFor="f-quality">Quality</label>
          <select id="f-quality" name="quality" value={state.quality} onChange={(e) => form.set("quality", e.target.value as Quality)}>
            {QUALITIES.map((q) => (
              <option key={q} value={q}>
                {q}
              </option>
            ))}
          </select>
        </div>
        {number(
          "duration",
          "Duration (seconds)",
          { min: LIMITS.durationMin, max: LIMITS.durationMax },
          form.detectedMode === "video_continuation" ? "Total output, clip included: at least the clip's length." : `Whole seconds, ${LIMITS.durationMin} to ${LIMITS.durationMax}.`,
        )}
        {number("seed", <>Seed <span className="muted">(optional)</span></>, { min: LIMITS.seedMin, max: LIMITS.seedMax, placeholder: "random" })}
      </div>
      <label className="checkbox">
        <input name="prompt_extend" type="checkbox" checked={state.prompt_extend} onChange={(e) => form.set("prompt_extend", e.target.checked)} />
        Let the video service rewrite the prompt <ApiName>prompt_extend</ApiName>
      </label>
    </>
  );
}

function estimateLine(e: Estimate): string {
  return `Estimated cost: ${e.billedSeconds} s × ${e.pricePerSecond} ${e.currency}/s = ${e.cost.toFixed(3)} ${e.currency}`;
}

/** The estimate (only for a request whose price is known and valid), the billing rule of a continuation, and the budgets. */
export function CostSummary({ form }: { form: NewTaskFormModel }) {
  const view: EstimateView = form.estimate;
  const continuation = form.detectedMode === "video_continuation";
  return (
    <div className={styles.cost} aria-live="polite">
      <p className="estimate" data-testid="estimate" data-state={view.kind}>
        {view.kind === "ok" ? estimateLine(view.estimate) : view.text}
      </p>
      {continuation && (
        <p className="muted small" data-testid="billing-rule">
          A continuation is billed for the whole duration, the input clip included.
          {view.kind === "ok" && view.clipSeconds !== undefined && ` Here: the ${view.clipSeconds} s clip and ${Math.max(0, Math.round((view.durationSeconds - view.clipSeconds) * 1000) / 1000)} s more.`}
        </p>
      )}
      {form.notices.map((n) => (
        <p key={n} className="muted small" data-testid="notice">
          {n}
        </p>
      ))}
      <BudgetLine status={form.budget} estimate={view.kind === "ok" ? view.estimate.cost : 0} />
    </div>
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
        <span key={p.text} className={`${p.level} ${styles.block}`}>
          {p.text}
        </span>
      ))}
    </p>
  );
}
