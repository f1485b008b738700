import { requireAdmin } from "../../guards.ts";
import { AuditLog } from "./audit-log.tsx";
import { SignInLog } from "./sign-in-log.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "Audit log" };

export const dynamic = "force-dynamic";

export default async function AuditPage() {
  await requireAdmin();
  return (
    <>
      <h1>Audit</h1>
      <p className="muted">Every admin action, newest first, with what it changed; below, the sign-ins.</p>
      <div className="stack">
        <AuditLog />
        <SignInLog />
      </div>
    </>
  );
}
