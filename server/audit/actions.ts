/** The audit log's actions (pure: the audit page's filter uses it in the browser). */
export const AUDIT_ACTIONS = [
  "invitation.created",
  "invitation.resent",
  "invitation.revoked",
  "invitation.accepted",
  "user.created",
  "user.role_changed",
  "user.deactivated",
  "user.reactivated",
  "user.password_reset_created",
  "user.password_reset_used",
  "budget.changed",
  "settings.changed",
  "api_key.created",
  "api_key.revoked",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
