"use client";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { KeyStatus } from "@/app/_components/api-keys.tsx";
import { ConfirmButton } from "@/app/_components/confirm-button.tsx";
import { when } from "@/app/_components/format.ts";
import { ShowMore } from "@/app/_components/show-more.tsx";
import { useTRPC } from "@/app/_components/trpc.ts";

export function AllApiKeys() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [userId, setUserId] = useState("");
  const [workingOnly, setWorkingOnly] = useState(true);
  const people = useQuery(trpc.team.members.queryOptions());
  const input = { ...(userId && { userId }), workingOnly, limit: 50 };
  const keys = useInfiniteQuery(trpc.admin.apiKeys.infiniteQueryOptions(input, { getNextPageParam: (last) => last.nextCursor ?? undefined }));
  const rows = keys.data?.pages.flatMap((p) => p.keys) ?? [];
  const revoke = useMutation(trpc.admin.revokeApiKey.mutationOptions({ onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.admin.apiKeys.pathKey() }) }));

  return (
    <div className="stack">
      <form className="card filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="k-person">Person</label>
          <select id="k-person" value={userId} onChange={(e) => setUserId(e.target.value)}>
            <option value="">Everyone</option>
            {people.data?.members.map((m) => (
              <option key={m.id} value={m.id}>
                {m.email}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label>
            <input type="checkbox" checked={workingOnly} onChange={(e) => setWorkingOnly(e.target.checked)} /> Working keys only
          </label>
        </div>
      </form>
      {revoke.error && (
        <p role="alert" className="error">
          {revoke.error.message}
        </p>
      )}
      {keys.error && <p className="error">{keys.error.message}</p>}
      {keys.isLoading && <p className="muted">Loading…</p>}
      {keys.data && rows.length === 0 && <p className="muted">No keys for these filters.</p>}
      {rows.length > 0 && (
        <table className="history" data-testid="all-api-keys">
          <thead>
            <tr>
              <th>Person</th>
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
            {rows.map((k) => (
              <tr key={k.id} data-key={k.prefix}>
                <td data-label="Person">
                  {k.owner.email}
                  {!k.owner.active && <span className="muted small"> (deactivated)</span>}
                </td>
                <td data-label="Name">{k.name}</td>
                <td data-label="Key" className="mono">
                  {k.prefix}…
                </td>
                <td data-label="Created">{when(k.createdAt)}</td>
                <td data-label="Last used">{k.lastUsedAt ? when(k.lastUsedAt) : "Never"}</td>
                <td data-label="Expires">{k.expiresAt ? when(k.expiresAt) : "Never"}</td>
                <td data-label="Status" data-testid="key-status">
                  <KeyStatus keyState={k} viewer="admin" />
                </td>
                <td data-label="Actions" className="actions">
                  {k.status === "active" && (
                    <ConfirmButton
                      label="Revoke…"
                      confirmLabel={`Revoke ${k.owner.email}'s key "${k.name}"`}
                      disabled={revoke.isPending}
                      onConfirm={() => revoke.mutate({ id: k.id })}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ShowMore query={keys} />
    </div>
  );
}
