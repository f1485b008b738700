"use client";
/**
 * The new video form: the field components (fields.tsx) in the order the
 * mode takes them, over the form model (use-new-task-form.ts). Every rule and
 * word comes from the server's shared modules.
 */
import type { UploadAvailability } from "@/server/uploads/availability.ts";
import { CostSummary, MediaField, ModeField, SettingsFields, TextField } from "./fields.tsx";
import styles from "./new-task-form.module.css";
import { useLeaveGuard } from "./use-leave-guard.ts";
import { LEAVE_MESSAGE, useNewTaskForm, type NewTaskFormOptions } from "./use-new-task-form.ts";

interface Props extends NewTaskFormOptions {
  /** A clip the local simulator serves, offered for a continuation. */
  sampleClipUrl?: string;
  /** Whether the provider could fetch an uploaded file's link (server/uploads/availability.ts). */
  uploads: UploadAvailability;
}

export function NewTaskForm({ sampleClipUrl, uploads, ...options }: Props) {
  const form = useNewTaskForm(options);
  useLeaveGuard(form.dirty, LEAVE_MESSAGE);
  const { sampleImageUrl } = options;
  const optional = <span className="muted">(optional)</span>;

  return (
    // data-ready: what is typed from now on is the form's (browser tests wait for it, as a person waits for the page).
    <form onSubmit={form.submit} className="card form" noValidate aria-label="New video" data-ready={form.ready ? "true" : "false"}>
      {form.notice && (
        <div className={`${styles.notice} ${form.notice.kind === "error" ? "error" : "notice"}`} role={form.notice.kind === "error" ? "alert" : "status"} data-testid="form-notice">
          <span>{form.notice.text}</span>
          {form.notice.canStartOver && (
            <button type="button" className="link" onClick={form.startOver}>
              Start over
            </button>
          )}
        </div>
      )}
      <ModeField form={form} />
      <TextField form={form} name="prompt" label="Prompt" rows={4} />
      <TextField form={form} name="negative_prompt" label={<>Negative prompt {optional}</>} rows={2} />
      {!uploads.enabled && (
        <p id="uploads-unavailable" className="muted small" style={{ margin: 0 }}>
          {uploads.reason}
        </p>
      )}
      {form.visible.map((field) => (
        <MediaField
          key={field}
          form={form}
          field={field}
          uploads={uploads}
          extra={
            field === "image_end" && sampleImageUrl ? (
              <button type="button" className="link small" onClick={() => form.set("image_end", sampleImageUrl)}>
                Use the sample image
              </button>
            ) : field === "video_urls" && sampleClipUrl ? (
              <button type="button" className="link small" onClick={() => form.set("video_urls", sampleClipUrl)}>
                Use the sample clip
              </button>
            ) : undefined
          }
        />
      ))}
      <SettingsFields form={form} />
      <CostSummary form={form} />
      {form.formErrors.length > 0 && (
        <div id="form-errors" tabIndex={-1}>
          {form.formErrors.map((m) => (
            <p key={m} className="error" role="alert" data-field="_form">
              {m}
            </p>
          ))}
        </div>
      )}
      <div className={styles.actions}>
        <button type="submit" disabled={form.submitting || form.busy}>
          {form.submitting ? "Submitting…" : "Generate video"}
        </button>
        {form.busy && (
          <span className="muted small" role="status">
            {form.uploading ? "Waiting for the upload…" : "Checking the files…"}
          </span>
        )}
      </div>
    </form>
  );
}
