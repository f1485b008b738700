/** What the team functions need: the database, where links point, the mailer if any, link lifetimes. */
import type { Db } from "../db/client.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { SessionUser } from "../users/users.ts";
import type { Actor } from "../audit/audit.ts";

export interface TeamDeps {
  db: Db;
  publicBaseUrl: string;
  /** Null when SMTP is not configured: links are shown to the admin only. */
  mailer: Mailer | null;
  invitationTtlHours: number;
  passwordResetTtlHours: number;
  /** "admins": members join and sign in through single sign-on only. */
  passwordSignIn?: "everyone" | "admins";
  /** The reporting time zone when no admin has set one (REPORTING_TIME_ZONE); UTC if absent. */
  defaultTimeZone?: string;
  now?: () => Date;
}

export const actorOf = (user: Pick<SessionUser, "id" | "email">): Actor => ({ id: user.id, email: user.email });

export const nowOf = (deps: Pick<TeamDeps, "now">): Date => deps.now?.() ?? new Date();
