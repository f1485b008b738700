"use client";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { when } from "@/app/_components/format.ts";
import { ShowMore } from "@/app/_components/show-more.tsx";
import { useTRPC } from "@/app/_components/trpc.ts";

const OUTCOMES: Record<string, string> = {
  succeeded: "Signed in (password)",
  succeeded_sso: "Signed in (single sign-on)",
  wrong_credentials: "Refused: wrong email or password",
  throttled: "Refused: too many attempts",
  deactivated: "Refused: deactivated",
  sso_only: "Refused: must use single sign-on",
};

/** Sign-ins: every success, the refusals kept in detail, and how many refusals were counted in all. */
export function SignInLog() {
  const trpc = useTRPC();
  const [refusedOnly, setRefusedOnly] = useState(false);
  const since = useState(() => new Date(Date.now() - 7 * 86_400_000))[0];
  const log = useInfiniteQuery(
    trpc.admin.signIns.infiniteQueryOptions({ refusedOnly, from: since, limit: 50 }, { getNextPageParam: (last) => last.nextCursor ?? undefined }),
  );
  const rows = log.data?.pages.flatMap((p) => p.signIns) ?? [];
  const counted = log.data?.pages[0]?.refusedCounted ?? 0;
  return (
    <section className="card stack">
      <h2>Sign-ins, last 7 days</h2>
      <p className="muted small" data-testid="refused-count">
        {counted} refused sign-in{counted === 1 ? "" : "s"} counted; the first few of each hour are listed, the rest only counted. Passwords are never recorded.
      </p>
      <label className="checkbox">
        <input type="checkbox" checked={refusedOnly} onChange={(e) => setRefusedOnly(e.target.checked)} /> Refused only
      </label>
      {log.error && <p className="error">{log.error.message}</p>}
      {rows.length > 0 && (
        <table className="history" data-testid="sign-ins">
          <thead>
            <tr>
              <th>When</th>
              <th>Email</th>
              <th>Address</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr key={s.id} data-outcome={s.outcome}>
                <td data-label="When">{when(s.at)}</td>
                <td data-label="Email">{s.email || "—"}</td>
                <td data-label="Address" className="mono">
                  {s.clientAddress ?? "—"}
                </td>
                <td data-label="Outcome">{OUTCOMES[s.outcome] ?? s.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ShowMore query={log} />
    </section>
  );
}
