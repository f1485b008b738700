"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTRPC } from "@/app/_components/trpc.ts";

/** After every session ended, the browser goes to the sign-in page with a notice. */
function toSignIn(notice: "password-changed" | "signed-out-everywhere") {
  window.location.assign(`/signin?notice=${notice}`);
}

function describeDevice(userAgent: string | null): string {
  if (!userAgent) return "Unknown browser";
  const browser = /Firefox\//.test(userAgent) ? "Firefox" : /Edg\//.test(userAgent) ? "Edge" : /Chrom(e|ium)\//.test(userAgent) ? "Chrome" : /Safari\//.test(userAgent) ? "Safari" : "Browser";
  const system = /Windows/.test(userAgent) ? "Windows" : /Mac OS X/.test(userAgent) ? "macOS" : /Android/.test(userAgent) ? "Android" : /iPhone|iPad/.test(userAgent) ? "iOS" : /Linux/.test(userAgent) ? "Linux" : "";
  return system ? `${browser} on ${system}` : browser;
}

export function AccountSettings() {
  return (
    <div className="stack">
      <ChangePassword />
      <Sessions />
    </div>
  );
}

/** A password input with its label, hint and error, described for screen readers. */
function PasswordField(props: {
  id: string;
  label: string;
  autoComplete: "current-password" | "new-password";
  value: string;
  onChange: (value: string) => void;
  hint?: string;
  error?: string | null;
}) {
  const describedBy = [props.error ? `${props.id}-error` : "", props.hint ? `${props.id}-hint` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="password"
        autoComplete={props.autoComplete}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={Boolean(props.error)}
        aria-describedby={describedBy}
        required
      />
      {props.hint && (
        <span className="muted small" id={`${props.id}-hint`}>
          {props.hint}
        </span>
      )}
      {props.error && (
        <span className="field-error" id={`${props.id}-error`}>
          {props.error}
        </span>
      )}
    </div>
  );
}

function ChangePassword() {
  const trpc = useTRPC();
  const [currentPassword, setCurrent] = useState("");
  const [newPassword, setNew] = useState("");
  const [confirm, setConfirm] = useState("");
  const [confirmError, setConfirmError] = useState<string | null>(null);
  const change = useMutation(trpc.account.changePassword.mutationOptions({ onSuccess: () => toSignIn("password-changed") }));
  const fieldErrors = (change.error?.data as { fieldErrors?: Record<string, string[]> } | undefined)?.fieldErrors ?? {};
  const formError = change.error && Object.keys(fieldErrors).length === 0 ? change.error.message : null;
  const errorOf = (field: string) => fieldErrors[field]?.join(" ") || null;

  function submit(e: FormEvent) {
    e.preventDefault();
    if (newPassword !== confirm) {
      setConfirmError("The two new passwords differ; type the same one twice.");
      return;
    }
    setConfirmError(null);
    change.mutate({ currentPassword, newPassword });
  }

  return (
    <section className="card">
      <h2>Change your password</h2>
      <p className="muted small">Every session, this one included, is signed out afterwards; sign in again with the new password.</p>
      <form className="form" onSubmit={submit} noValidate>
        <PasswordField id="current-password" label="Current password" autoComplete="current-password" value={currentPassword} onChange={setCurrent} error={errorOf("currentPassword")} />
        <PasswordField id="new-password" label="New password" autoComplete="new-password" value={newPassword} onChange={setNew} hint="At least 8 characters." error={errorOf("newPassword")} />
        <PasswordField id="confirm-password" label="New password, again" autoComplete="new-password" value={confirm} onChange={setConfirm} error={confirmError} />
        {formError && (
          <p role="alert" className="error">
            {formError}
          </p>
        )}
        <div>
          <button type="submit" disabled={change.isPending}>
            {change.isPending ? "Changing…" : "Change password"}
          </button>
        </div>
      </form>
    </section>
  );
}

function Sessions() {
  const trpc = useTRPC();
  const sessions = useQuery(trpc.account.sessions.queryOptions());
  const everywhere = useMutation(trpc.account.signOutEverywhere.mutationOptions({ onSuccess: () => toSignIn("signed-out-everywhere") }));
  return (
    <section className="card">
      <h2>Where you are signed in</h2>
      {sessions.isLoading && <p className="muted">Loading…</p>}
      {sessions.error && <p className="error">{sessions.error.message}</p>}
      {sessions.data && (
        <div className="table-scroll">
          <table className="history" data-testid="sessions">
            <thead>
              <tr>
                <th>Device</th>
                <th>Address</th>
                <th>Signed in</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {sessions.data.map((s, i) => (
                <tr key={i}>
                  <td data-label="Device">
                    {describeDevice(s.userAgent)} {s.current && <span className="badge">This browser</span>}
                  </td>
                  <td data-label="Address" className="mono">
                    {s.clientAddress ?? "—"}
                  </td>
                  <td data-label="Signed in">{s.createdAt.toLocaleString()}</td>
                  <td data-label="Last seen">{s.lastSeenAt.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted small">Lost a device, or signed in somewhere you should not have? End every session at once.</p>
      {everywhere.error && (
        <p role="alert" className="error">
          {everywhere.error.message}
        </p>
      )}
      <button type="button" onClick={() => everywhere.mutate()} disabled={everywhere.isPending}>
        Sign out everywhere
      </button>
    </section>
  );
}
