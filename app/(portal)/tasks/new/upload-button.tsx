"use client";
import { useRef, useState } from "react";
import { FIELD_LABELS } from "@/server/generation/labels.ts";
import type { MaterialName } from "@/server/generation/request-schema.ts";
import type { ErrorBody } from "@/server/http/errors.ts";
import { acceptFor, formatBytes, MEDIA_RULES, type MeasuredFacts } from "@/server/media/rules.ts";

/** What the file picker offers per field (the types the media rules accept), and the field's byte limit. */
const PICKS: Record<MaterialName, { accept: string; maxBytes: number }> = {
  image_start: { accept: acceptFor("image"), maxBytes: MEDIA_RULES.image.maxBytes },
  image_end: { accept: acceptFor("image"), maxBytes: MEDIA_RULES.image.maxBytes },
  video_urls: { accept: acceptFor("clip"), maxBytes: MEDIA_RULES.clip.maxBytes },
  audio_urls: { accept: acceptFor("audio"), maxBytes: MEDIA_RULES.audio.maxBytes },
};

export interface Uploaded {
  url: string;
  facts: MeasuredFacts;
  name: string;
}

interface Props {
  field: MaterialName;
  /** Why uploads are off (the portal's address is not one the provider can fetch from); undefined when they work. */
  unavailable?: string;
  /** id of the element explaining `unavailable`. */
  unavailableNoteId?: string;
  onStart: () => void;
  onUploaded: (file: Uploaded) => void;
  /** The file's name and why it was not taken. */
  onRefused: (name: string, messages: string[]) => void;
  onDone: () => void;
}

/**
 * "Upload first frame image…" beside a media field: sends the chosen file to
 * POST /api/uploads, which checks it with the media rules and stores it, and
 * hands the link and what was measured to the form. The server's refusal is
 * shown beside the field by the form.
 */
export function UploadButton({ field, unavailable, unavailableNoteId, onStart, onUploaded, onRefused, onDone }: Props) {
  const picker = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const { accept, maxBytes } = PICKS[field];

  async function upload(file: File) {
    // Saves sending a file the server would refuse on its size alone.
    if (file.size > maxBytes) return onRefused(file.name, [`${file.name} is ${formatBytes(file.size)}; the limit for the ${FIELD_LABELS[field]} is ${formatBytes(maxBytes)}.`]);
    setBusy(true);
    onStart();
    try {
      const body = new FormData();
      body.set("field", field);
      body.set("file", file);
      const res = await fetch("/api/uploads", { method: "POST", body });
      const answer = (await res.json().catch(() => null)) as ({ url?: string; facts?: MeasuredFacts } & Partial<ErrorBody>) | null;
      if (res.ok && answer?.url && answer.facts) onUploaded({ url: answer.url, facts: answer.facts, name: file.name });
      else onRefused(file.name, answer?.error?.fieldErrors?.[field] ?? [answer?.error?.message ?? `The upload failed (HTTP ${res.status}); try again.`]);
    } catch {
      onRefused(file.name, ["The upload did not reach the portal; check the connection and try again."]);
    } finally {
      setBusy(false);
      onDone();
      // Choosing the same file again must fire onChange again.
      if (picker.current) picker.current.value = "";
    }
  }

  return (
    <>
      <input
        ref={picker}
        type="file"
        accept={accept}
        hidden
        tabIndex={-1}
        data-testid={`upload-${field}`}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) void upload(file);
        }}
      />
      <button
        type="button"
        className="secondary"
        disabled={busy || unavailable !== undefined}
        title={unavailable}
        aria-describedby={unavailable ? unavailableNoteId : undefined}
        aria-busy={busy || undefined}
        onClick={() => picker.current?.click()}
      >
        {busy ? `Uploading ${FIELD_LABELS[field]}…` : `Upload ${FIELD_LABELS[field]}…`}
      </button>
    </>
  );
}
