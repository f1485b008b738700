import { AuditLog } from "./audit-log.tsx";

export const dynamic = "force-dynamic";

export default function AuditPage() {
  return (
    <>
      <h1>Audit</h1>
      <p className="muted">Every admin action, newest first, with what it changed.</p>
      <AuditLog />
    </>
  );
}
