"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent, type ReactNode } from "react";
import { ConfirmButton } from "@/app/_components/confirm-button.tsx";
import { money, when } from "@/app/_components/format.ts";
import { useTRPC } from "@/app/_components/trpc.ts";

/** A one-time link to pass on, with a Copy button; says whether it was emailed too. */
function OneTimeLink({ label, link, emailed, to }: { label: string; link: string; emailed: boolean; to: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="notice" role="status" data-testid="one-time-link">
      <p>
        {label} {emailed ? `It was also emailed to ${to}.` : `Send it to ${to} yourself; it works once.`}
      </p>
      <div className="row">
        <input readOnly value={link} aria-label={`${label} (link)`} className="mono grow" onFocus={(e) => e.target.select()} />
        <button
          type="button"
          onClick={async () => {
            await navigator.clipboard?.writeText(link).catch(() => {});
            setCopied(true);
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
    </div>
  );
}

function methodLabel(methods: string[]): string {
  if (methods.length === 0) return "—";
  return methods.map((m) => (m === "sso" ? "Single sign-on" : "Password")).join(", ");
}

export function MembersAdmin({ currency, viewerId }: { currency: string; viewerId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const members = useQuery(trpc.team.members.queryOptions());
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.team.members.queryKey() });
  const [shown, setShown] = useState<{ label: string; link: string; emailed: boolean; to: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const onError = (err: { message: string }) => setError(err.message);
  const settle = { onSettled: refresh, onError };

  const setRole = useMutation(trpc.team.setRole.mutationOptions({ ...settle, onSuccess: () => setError(null) }));
  const deactivate = useMutation(trpc.team.deactivate.mutationOptions({ ...settle, onSuccess: () => setError(null) }));
  const reactivate = useMutation(trpc.team.reactivate.mutationOptions({ ...settle, onSuccess: () => setError(null) }));
  const reset = useMutation(trpc.team.resetPassword.mutationOptions(settle));
  const resend = useMutation(trpc.team.resendInvitation.mutationOptions(settle));
  const revoke = useMutation(trpc.team.revokeInvitation.mutationOptions({ ...settle, onSuccess: () => setError(null) }));

  return (
    <div className="stack">
      <InviteForm
        onInvited={(r) => {
          setShown({ label: "Invitation link:", link: r.link, emailed: r.emailed, to: r.invitation.email });
          void refresh();
        }}
      />
      {shown && <OneTimeLink {...shown} />}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}

      <section className="card">
        <h2>Members</h2>
        {members.isLoading && <p className="muted">Loading…</p>}
        {members.error && <p className="error">{members.error.message}</p>}
        {members.data && (
          <p className="muted" data-testid="members-month">
            This month: {members.data.month.label} ({members.data.month.timeZone}), as on the usage page.
          </p>
        )}
        {members.data && (
          <table className="history" data-testid="members">
            <thead>
              <tr>
                <th>Name</th>
                <th>Email</th>
                <th>Role</th>
                <th>Status</th>
                <th>Sign-in</th>
                <th>Last sign-in</th>
                <th>Tasks this month</th>
                <th>Spend this month</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {members.data.members.map((m) => (
                <tr key={m.id} data-member={m.email}>
                  <td data-label="Name">{m.name ?? "—"}</td>
                  <td data-label="Email">{m.email}</td>
                  <td data-label="Role">{m.role === "admin" ? "Admin" : "Member"}</td>
                  <td data-label="Status" data-testid="member-status">
                    {m.status === "active" ? "Active" : "Deactivated"}
                  </td>
                  <td data-label="Sign-in">{methodLabel(m.signInMethods)}</td>
                  <td data-label="Last sign-in">{when(m.lastSignInAt)}</td>
                  <td data-label="Tasks this month">
                    <Link
                      href={`/admin/tasks?user=${encodeURIComponent(m.id)}&since=${encodeURIComponent(members.data.month.since.toISOString())}&until=${encodeURIComponent(members.data.month.until.toISOString())}`}
                    >
                      {m.tasksThisMonth}
                    </Link>
                  </td>
                  <td data-label="Spend this month">{money(m.spendThisMonth, currency)}</td>
                  <td data-label="Actions" className="actions">
                    <Actions>
                      <button
                        type="button"
                        className="secondary"
                        disabled={setRole.isPending}
                        onClick={() => setRole.mutate({ userId: m.id, role: m.role === "admin" ? "member" : "admin" })}
                      >
                        {m.role === "admin" ? "Make member" : "Make admin"}
                      </button>
                      {m.status === "active" ? (
                        <ConfirmButton
                          label={m.id === viewerId ? "Deactivate yourself…" : "Deactivate…"}
                          confirmLabel={`Deactivate ${m.email}`}
                          onConfirm={() => deactivate.mutate({ userId: m.id })}
                        />
                      ) : (
                        <button type="button" className="secondary" onClick={() => reactivate.mutate({ userId: m.id })}>
                          Reactivate
                        </button>
                      )}
                      {m.status === "active" && (
                        <ConfirmButton
                          label="Reset password…"
                          confirmLabel={`End ${m.email}'s sessions and make a reset link`}
                          onConfirm={() =>
                            reset.mutate(
                              { userId: m.id },
                              { onSuccess: (r) => setShown({ label: "Password reset link:", link: r.link, emailed: r.emailed, to: m.email }) },
                            )
                          }
                        />
                      )}
                    </Actions>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card">
        <h2>Invitations</h2>
        {members.data && members.data.invitations.length === 0 && <p className="muted">No pending invitations.</p>}
        {members.data && members.data.invitations.length > 0 && (
          <table className="history" data-testid="invitations">
            <thead>
              <tr>
                <th>Email</th>
                <th>Role</th>
                <th>State</th>
                <th>Sent</th>
                <th>Expires</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {members.data.invitations.map((i) => (
                <tr key={i.id} data-invitation={i.email}>
                  <td data-label="Email">{i.email}</td>
                  <td data-label="Role">{i.role === "admin" ? "Admin" : "Member"}</td>
                  <td data-label="State">{i.state === "pending" ? "Invited" : "Expired"}</td>
                  <td data-label="Sent">{when(i.sentAt)}</td>
                  <td data-label="Expires">{when(i.expiresAt)}</td>
                  <td data-label="Actions" className="actions">
                    <Actions>
                      <button
                        type="button"
                        className="secondary"
                        onClick={() =>
                          resend.mutate(
                            { id: i.id },
                            { onSuccess: (r) => setShown({ label: "New invitation link (the old one no longer works):", link: r.link, emailed: r.emailed, to: i.email }) },
                          )
                        }
                      >
                        Re-send
                      </button>
                      <ConfirmButton label="Revoke…" confirmLabel={`Revoke the invitation of ${i.email}`} onConfirm={() => revoke.mutate({ id: i.id })} />
                    </Actions>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

function Actions({ children }: { children: ReactNode }) {
  return <div className="row">{children}</div>;
}

function InviteForm({ onInvited }: { onInvited: (result: { link: string; emailed: boolean; invitation: { email: string } }) => void }) {
  const trpc = useTRPC();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<"member" | "admin">("member");
  const invite = useMutation(
    trpc.team.invite.mutationOptions({
      onSuccess: (r) => {
        setEmail("");
        onInvited(r);
      },
    }),
  );
  const fieldError = (invite.error?.data as { fieldErrors?: Record<string, string[]> } | undefined)?.fieldErrors?.email?.join(" ");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate({ email, role });
  };
  return (
    <section className="card">
      <h2>Invite someone</h2>
      <form className="form" onSubmit={submit}>
        <div className="row">
          <div className="field grow">
            <label htmlFor="invite-email">Email</label>
            <input
              id="invite-email"
              type="email"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-invalid={Boolean(fieldError)}
              aria-describedby={fieldError ? "invite-email-error" : undefined}
              required
            />
            {fieldError && (
              <span className="field-error" id="invite-email-error">
                {fieldError}
              </span>
            )}
          </div>
          <div className="field">
            <label htmlFor="invite-role">Role</label>
            <select id="invite-role" value={role} onChange={(e) => setRole(e.target.value === "admin" ? "admin" : "member")}>
              <option value="member">Member</option>
              <option value="admin">Admin</option>
            </select>
          </div>
        </div>
        {invite.error && !fieldError && (
          <p role="alert" className="error">
            {invite.error.message}
          </p>
        )}
        <div>
          <button type="submit" disabled={invite.isPending}>
            {invite.isPending ? "Inviting…" : "Create invitation"}
          </button>
        </div>
      </form>
    </section>
  );
}
