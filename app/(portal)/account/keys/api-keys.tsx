"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { CopyField, KeyStatus } from "@/app/_components/api-keys.tsx";
import { ConfirmButton } from "@/app/_components/confirm-button.tsx";
import { when } from "@/app/_components/format.ts";
import { useTRPC } from "@/app/_components/trpc.ts";
import { API_KEY_EXPIRY_DAYS, API_KEY_NAME_MAX, apiKeyNameSchema } from "@/server/apikeys/schema.ts";

interface Shown {
  name: string;
  secret: string;
  signingSecret: string;
}

const expiryLabel = (days: number) => (days === 365 ? "1 year" : `${days} days`);

export function ApiKeys() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.apiKeys.mine.queryOptions());
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.apiKeys.mine.queryKey() });
  const [shown, setShown] = useState<Shown | null>(null);
  const revoke = useMutation(trpc.apiKeys.revoke.mutationOptions({ onSettled: refresh }));

  return (
    <div className="stack">
      <CreateKey
        onCreated={(made) => {
          setShown({ name: made.key.name, secret: made.secret, signingSecret: made.signingSecret });
          void refresh();
        }}
      />
      {shown && <NewKey shown={shown} onDone={() => setShown(null)} />}

      <section className="card">
        <h2>Your keys</h2>
        {keys.isLoading && <p className="muted">Loading…</p>}
        {keys.error && <p className="error">{keys.error.message}</p>}
        {keys.data && keys.data.length === 0 && <p className="muted">You have no keys yet.</p>}
        {revoke.error && (
          <p role="alert" className="error">
            {revoke.error.message}
          </p>
        )}
        {keys.data && keys.data.length > 0 && (
          <table className="history" data-testid="api-keys">
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Created</th>
                <th>Last used</th>
                <th>Expires</th>
                <th>Status</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id} data-key={k.prefix}>
                  <td data-label="Name">{k.name}</td>
                  <td data-label="Key" className="mono">
                    {k.prefix}…
                  </td>
                  <td data-label="Created">{when(k.createdAt)}</td>
                  <td data-label="Last used">{k.lastUsedAt ? when(k.lastUsedAt) : "Never"}</td>
                  <td data-label="Expires">{k.expiresAt ? when(k.expiresAt) : "Never"}</td>
                  <td data-label="Status" data-testid="key-status">
                    <KeyStatus keyState={k} viewer="owner" />
                  </td>
                  <td data-label="Actions" className="actions">
                    {k.status === "active" && (
                      <ConfirmButton label="Revoke…" confirmLabel={`Revoke "${k.name}" now`} disabled={revoke.isPending} onConfirm={() => revoke.mutate({ id: k.id })} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="muted small">Revoking a key stops it at once, everywhere; scripts using it are refused from their next request. It cannot be undone: make a new key instead.</p>
      </section>
    </div>
  );
}

/** The new key and its signing secret, shown this once. */
function NewKey({ shown, onDone }: { shown: Shown; onDone: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [shown]);
  return (
    <section className="notice stack" aria-labelledby="new-key-heading" data-testid="new-key">
      <h2 id="new-key-heading" ref={heading} tabIndex={-1}>
        Your new key “{shown.name}”
      </h2>
      <p>
        <strong>Copy it now: you will not see it again.</strong> The portal keeps only a fingerprint of it, so nobody can show it to you later. If you lose it, revoke it and make
        another.
      </p>
      <CopyField id="new-key-secret" label="Key" value={shown.secret} />
      <p className="muted small">Send it as the header Authorization: Bearer &lt;key&gt;.</p>
      <CopyField id="new-key-signing" label="Signing secret" value={shown.signingSecret} />
      <p className="muted small">The portal signs the notices it sends to your callback address with this secret, so that your receiver can check they come from the portal.</p>
      <div>
        <button type="button" className="secondary" onClick={onDone}>
          I have copied it
        </button>
      </div>
    </section>
  );
}

function CreateKey({ onCreated }: { onCreated: (made: { key: { name: string }; secret: string; signingSecret: string }) => void }) {
  const trpc = useTRPC();
  const [name, setName] = useState("");
  const [expiry, setExpiry] = useState("");
  const [nameError, setNameError] = useState<string | null>(null);
  const create = useMutation(
    trpc.apiKeys.create.mutationOptions({
      onSuccess: (made) => {
        setName("");
        setExpiry("");
        onCreated(made);
      },
    }),
  );
  const serverNameError = (create.error?.data as { fieldErrors?: Record<string, string[]> } | undefined)?.fieldErrors?.name?.join(" ");
  const shownNameError = nameError ?? serverNameError ?? null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const checked = apiKeyNameSchema.safeParse(name);
    if (!checked.success) {
      setNameError(checked.error.issues[0]?.message ?? "Check the name.");
      return;
    }
    setNameError(null);
    create.mutate({ name: checked.data, ...(expiry && { expiresInDays: Number(expiry) }) });
  };
  return (
    <section className="card">
      <h2>Make a key</h2>
      <form className="form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="key-name">Name</label>
          <input
            id="key-name"
            value={name}
            maxLength={API_KEY_NAME_MAX + 20}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={Boolean(shownNameError)}
            aria-describedby={shownNameError ? "key-name-hint key-name-error" : "key-name-hint"}
            required
          />
          <span className="muted small" id="key-name-hint">
            What it is for, e.g. “Notebook on my laptop”.
          </span>
          {shownNameError && (
            <span className="field-error" id="key-name-error">
              {shownNameError}
            </span>
          )}
        </div>
        <div className="field">
          <label htmlFor="key-expiry">Expires</label>
          <select id="key-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
            <option value="">Never (until revoked)</option>
            {API_KEY_EXPIRY_DAYS.map((d) => (
              <option key={d} value={String(d)}>
                In {expiryLabel(d)}
              </option>
            ))}
          </select>
        </div>
        {create.error && !serverNameError && (
          <p role="alert" className="error">
            {create.error.message}
          </p>
        )}
        <div>
          <button type="submit" disabled={create.isPending}>
            {create.isPending ? "Making…" : "Make key"}
          </button>
        </div>
      </form>
    </section>
  );
}
