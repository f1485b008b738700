"use client";
import { useRef, useState } from "react";
import type { ErrorBody } from "@/server/http/errors.ts";
import { formatBytes, MEDIA_RULES } from "@/server/media/rules.ts";
import type { MaterialName } from "@/server/generation/request-schema.ts";

/** What the file picker offers per field (the types the media rules accept), and the field's byte limit. */
const PICKS: Record<MaterialName, { accept: string; maxBytes: number }> = {
  image_start: { accept: "image/png,image/jpeg,image/webp,image/bmp,.png,.jpg,.jpeg,.webp,.bmp", maxBytes: MEDIA_RULES.image.maxBytes },
  image_end: { accept: "image/png,image/jpeg,image/webp,image/bmp,.png,.jpg,.jpeg,.webp,.bmp", maxBytes: MEDIA_RULES.image.maxBytes },
  video_urls: { accept: "video/mp4,.mp4", maxBytes: MEDIA_RULES.clip.maxBytes },
  audio_urls: { accept: "audio/wav,audio/x-wav,audio/wave,audio/mpeg,.wav,.mp3", maxBytes: MEDIA_RULES.audio.maxBytes },
};

interface Props {
  field: MaterialName;
  /** Why uploads are off (the portal's address is not one the provider can fetch from); undefined when they work. */
  unavailable?: string;
  /** id of the element explaining `unavailable`. */
  unavailableNoteId?: string;
  onBusy: (busy: boolean) => void;
  onUploaded: (url: string) => void;
  onRefused: (messages: string[]) => void;
}

/**
 * "Upload…" beside a media URL field: sends the chosen file to
 * POST /api/uploads, which checks it with the media rules and stores it, and
 * hands the returned link to the field. The server's refusal is shown beside
 * the field by the form.
 */
export function UploadButton({ field, unavailable, unavailableNoteId, onBusy, onUploaded, onRefused }: Props) {
  const picker = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const { accept, maxBytes } = PICKS[field];

  async function upload(file: File) {
    // Saves sending a file the server would refuse on its size alone.
    if (file.size > maxBytes) return onRefused([`${file.name} is ${formatBytes(file.size)}; the limit for ${field} is ${formatBytes(maxBytes)}.`]);
    setBusy(true);
    onBusy(true);
    try {
      const body = new FormData();
      body.set("field", field);
      body.set("file", file);
      const res = await fetch("/api/uploads", { method: "POST", body });
      const answer = (await res.json().catch(() => null)) as ({ url?: string } & Partial<ErrorBody>) | null;
      if (res.ok && answer?.url) onUploaded(answer.url);
      else onRefused(answer?.error?.fieldErrors?.[field] ?? [answer?.error?.message ?? `The upload failed (HTTP ${res.status}); try again.`]);
    } catch {
      onRefused(["The upload did not reach the portal; check the connection and try again."]);
    } finally {
      setBusy(false);
      onBusy(false);
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
        disabled={busy || unavailable !== undefined}
        title={unavailable}
        aria-describedby={unavailable ? unavailableNoteId : undefined}
        aria-busy={busy || undefined}
        onClick={() => picker.current?.click()}
        style={{ background: "#e9ecef", color: "var(--fg)", whiteSpace: "nowrap" }}
      >
        {busy ? "Uploading…" : "Upload…"}
      </button>
    </>
  );
}
