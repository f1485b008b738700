"use client";
/** Pieces both API key pages use: a key's status in words, a copyable secret. */
import { useState } from "react";

type KeyState = { status: "active" | "expired" | "revoked"; revokedByOwner: boolean | null };

/** "Working", "Expired", "Revoked" (and by whom, when it was not the owner). */
export function KeyStatus({ keyState, viewer }: { keyState: KeyState; viewer: "owner" | "admin" }) {
  if (keyState.status === "active") return <span className="badge badge-completed">Working</span>;
  if (keyState.status === "expired") return <span className="badge badge-cancelled">Expired</span>;
  const byWhom = keyState.revokedByOwner ? (viewer === "owner" ? "" : " by its owner") : " by an admin";
  return <span className="badge badge-failed">Revoked{byWhom}</span>;
}

/** A secret in a read-only box with a Copy button. */
export function CopyField({ id, label, value }: { id: string; label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="row">
        <input id={id} readOnly value={value} className="mono grow secret" onFocus={(e) => e.target.select()} />
        <button
          type="button"
          onClick={async () => {
            await navigator.clipboard?.writeText(value).catch(() => {});
            setCopied(true);
          }}
          aria-label={`Copy the ${label.toLowerCase()}`}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
    </div>
  );
}
