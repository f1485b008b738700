"use client";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { utcDay, when } from "@/app/_components/format.ts";
import { ShowMore } from "@/app/_components/show-more.tsx";
import { useTRPC } from "@/app/_components/trpc.ts";
import { AUDIT_ACTIONS, type AuditAction } from "@/server/audit/actions.ts";

const ACTION_LABELS: Record<AuditAction, string> = {
  "invitation.created": "Invited",
  "invitation.resent": "Invitation re-sent",
  "invitation.revoked": "Invitation revoked",
  "invitation.accepted": "Invitation accepted",
  "user.created": "Account created",
  "user.role_changed": "Role changed",
  "user.deactivated": "Deactivated",
  "user.reactivated": "Reactivated",
  "user.password_reset_created": "Password reset link made",
  "user.password_reset_used": "Password reset by link",
  "budget.changed": "Budget changed",
  "settings.changed": "Setting changed",
  "api_key.created": "API key made",
  "api_key.revoked": "API key revoked",
};

/** before → after, as "role: member → admin" lines. */
function change(before: unknown, after: unknown): string {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  return keys.map((k) => (k in b && k in a ? `${k}: ${String(b[k])} → ${String(a[k])}` : k in a ? `${k}: ${String(a[k])}` : `${k} was ${String(b[k])}`)).join("; ");
}

export function AuditLog() {
  const trpc = useTRPC();
  const [actorId, setActor] = useState("");
  const [action, setAction] = useState<AuditAction | "">("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const people = useQuery(trpc.team.members.queryOptions());
  const input = {
    ...(actorId && { actorId }),
    ...(action && { action }),
    ...(utcDay(from) && { from: utcDay(from) }),
    ...(utcDay(to, true) && { to: utcDay(to, true) }),
    limit: 50,
  };
  const events = useInfiniteQuery(trpc.admin.audit.infiniteQueryOptions(input, { getNextPageParam: (last) => last.nextCursor ?? undefined }));
  const rows = events.data?.pages.flatMap((p) => p.events) ?? [];
  return (
    <div className="stack">
      <form className="card filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="a-actor">Who</label>
          <select id="a-actor" value={actorId} onChange={(e) => setActor(e.target.value)}>
            <option value="">Anyone</option>
            {people.data?.members.map((m) => (
              <option key={m.id} value={m.id}>
                {m.email}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="a-action">What</label>
          <select id="a-action" value={action} onChange={(e) => setAction(e.target.value as AuditAction | "")}>
            <option value="">Any action</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {ACTION_LABELS[a]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="a-from">From (UTC)</label>
          <input id="a-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="a-to">To (UTC)</label>
          <input id="a-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
      </form>
      {events.error && <p className="error">{events.error.message}</p>}
      {events.isLoading && <p className="muted">Loading…</p>}
      {events.data && rows.length === 0 && <p className="muted">Nothing recorded for these filters.</p>}
      {rows.length > 0 && (
        <table className="history" data-testid="audit">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>What</th>
              <th>About</th>
              <th>Change</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id} data-action={e.action}>
                <td data-label="When">{when(e.at)}</td>
                <td data-label="Who">{e.actorEmail ?? "Command line or system"}</td>
                <td data-label="What">{ACTION_LABELS[e.action as AuditAction] ?? e.action}</td>
                <td data-label="About">{e.targetLabel ?? "—"}</td>
                <td data-label="Change">{change(e.before, e.after) || "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ShowMore query={events} />
    </div>
  );
}
