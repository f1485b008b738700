/**
 * Configuration, validated once with zod. Every variable is documented in
 * .env.example. Two views of the same variables:
 * - `loadConfig`: what the launcher (npm start, npm run worker) accepts, where
 *   DATABASE_URL, EVOLINK_API_KEY and AUTH_SECRET may be absent (embedded
 *   Postgres, the local simulator, a generated secret);
 * - `loadRuntimeConfig`: what the web process needs, with those resolved.
 */
import path from "node:path";
import { z } from "zod";
import type { ThrottlePolicy } from "./auth/throttle.ts";
import type { RateLimitPolicy } from "./security/rate-limit.ts";
import { DomainError } from "./errors.ts";
import { parseTrustedProxies } from "./http/client-address.ts";
import { isTimeZone } from "./usage/periods.ts";
import { isLoopbackHostname } from "./security/address.ts";
import type { RetentionPolicy } from "./retention/retention.ts";

const emptyAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());
const port = (fallback: number) => z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(fallback));
/** Whole days, 0 (keep forever) to 100 years. */
const retentionDays = (fallback: number) => z.preprocess(emptyAsUndefined, z.coerce.number().int("a whole number of days (0 keeps forever)").min(0, "0 (keep forever) or more days").max(36_500).default(fallback));
const money = (fallback: number) => z.preprocess(emptyAsUndefined, z.coerce.number().min(0).default(fallback));

export const configSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  DATABASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  EVOLINK_API_KEY: optionalString,
  EVOLINK_BASE_URL: z.preprocess(emptyAsUndefined, z.url().default("https://api.evolink.ai")),
  /** Set by the launcher when EVOLINK_API_KEY is absent and the simulator serves the API. */
  EVOLINK_SIMULATOR: z.preprocess(emptyAsUndefined, z.enum(["0", "1"]).default("0")),
  /** Where browsers and the provider reach the portal; default http://localhost:<PORT>. */
  PUBLIC_BASE_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
  AUTH_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, "AUTH_SECRET must be at least 32 characters").optional()),
  /** Loopback by default: set 0.0.0.0 (or an address) to serve other machines. */
  HOST: z.preprocess(emptyAsUndefined, z.string().default("127.0.0.1")),
  /**
   * Proxies whose X-Forwarded-For is believed (comma-separated addresses or
   * CIDR ranges, or "loopback"); the client address of anything else is the
   * connection's own peer.
   */
  TRUSTED_PROXIES: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default("")
      .superRefine((spec, ctx) => {
        try {
          parseTrustedProxies(spec);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: (err as Error).message });
        }
      }),
  ),
  SIGNIN_ACCOUNT_FREE_FAILURES: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(1000).default(5)),
  SIGNIN_ACCOUNT_MAX_DELAY_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(86_400).default(300)),
  SIGNIN_ACCOUNT_WIDE_FREE_FAILURES: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(100_000).default(50)),
  SIGNIN_ADDRESS_FREE_FAILURES: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(10_000).default(20)),
  SIGNIN_ADDRESS_MAX_DELAY_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(86_400).default(900)),
  /** Files the form may have checked per person and minute (each one is downloaded); shared by every web instance. */
  MEDIA_CHECKS_PER_MINUTE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(10_000).default(30)),
  /** Personal API keys a person may have working at once (not revoked, not expired). */
  API_KEYS_PER_PERSON: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(1000).default(10)),
  /** Requests one personal API key may make to /v1 per minute, across every web instance. */
  API_REQUESTS_PER_MINUTE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(100_000).default(120)),
  PORT: port(3000),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default(".data")),
  EMBEDDED_PG_PORT: port(54329),
  SIMULATOR_PORT: port(4010),
  SIMULATOR_STEP_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(10).max(60_000).default(1500)),
  ADMIN_EMAIL: z.preprocess(emptyAsUndefined, z.email().default("admin@localhost.localdomain")),
  ADMIN_PASSWORD: z.preprocess(emptyAsUndefined, z.string().min(8, "ADMIN_PASSWORD must be at least 8 characters").optional()),
  /** How long invitation and password-reset links work. */
  INVITATION_TTL_HOURS: z.preprocess(emptyAsUndefined, z.coerce.number().min(0.01).max(24 * 90).default(72)),
  PASSWORD_RESET_TTL_HOURS: z.preprocess(emptyAsUndefined, z.coerce.number().min(0.01).max(24 * 30).default(24)),
  /** e.g. smtp://user:pass@smtp.example.com:587 or smtps://…:465; absent: links are only shown to the admin. */
  SMTP_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^smtps?$/ }).optional()),
  MAIL_FROM: z.preprocess(emptyAsUndefined, z.string().default("Wan video portal <no-reply@localhost>")),
  /** OpenID Connect single sign-on: all three, or none. */
  OIDC_ISSUER: z.preprocess(emptyAsUndefined, z.url().optional()),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  /** The sign-in button says "Sign in with <OIDC_NAME>". */
  OIDC_NAME: z.preprocess(emptyAsUndefined, z.string().max(60).default("single sign-on")),
  /** Comma-separated domains whose verified emails may join as members without an invitation. */
  OIDC_ALLOWED_DOMAINS: z.preprocess(emptyAsUndefined, z.string().default("")),
  /**
   * "required" (default): only emails the provider marks email_verified count.
   * "trusted": every email the provider sends is taken as verified (providers
   * such as Entra ID send no email_verified claim for tenant-managed addresses).
   */
  OIDC_EMAIL_VERIFIED: z.preprocess(emptyAsUndefined, z.enum(["required", "trusted"]).default("required")),
  /** Google Workspace: the `hd` claim must equal this (a personal Google account with a company address has none). */
  OIDC_HOSTED_DOMAIN: z.preprocess(emptyAsUndefined, z.string().max(253).optional()),
  /** "everyone" (default) or "admins": with single sign-on, members sign in only through it. */
  PASSWORD_SIGNIN: z.preprocess(emptyAsUndefined, z.enum(["everyone", "admins"]).default("everyone")),
  /** Days and months of usage and budgets; admins can change it on the usage page. */
  REPORTING_TIME_ZONE: z.preprocess(emptyAsUndefined, z.string().default("UTC").refine((z) => isTimeZone(z), "not a time zone this runtime knows (e.g. Europe/Paris)")),
  PRICE_720P_PER_SECOND: money(0.086),
  PRICE_1080P_PER_SECOND: money(0.144),
  PRICE_CURRENCY: z.preprocess(emptyAsUndefined, z.string().length(3).default("USD")),
  /** Run the background worker (reconciler, archiver) inside `npm start`. */
  RUN_WORKER: z.preprocess(emptyAsUndefined, z.enum(["0", "1"]).default("1")),
  /** Bearer token for GET /metrics (Prometheus); unset: the endpoint is off. */
  METRICS_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16, "use at least 16 characters").optional()),
  /** `npm run worker` serves its own /metrics on this port when set (with METRICS_TOKEN). */
  METRICS_PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(65535).optional()),
  /** Logs (server/logging/logger.ts): `json`, one JSON object per line (for log collectors), or readable `text` lines. */
  LOG_FORMAT: z.preprocess((v) => (typeof v === "string" ? emptyAsUndefined(v.trim().toLowerCase()) : v), z.enum(["text", "json"]).default("text")),
  /** The least level written: fatal, error, warn, info, debug, trace or silent. */
  LOG_LEVEL: z.preprocess(
    (v) => (typeof v === "string" ? emptyAsUndefined(v.trim().toLowerCase()) : v),
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ),
  /**
   * On SIGTERM/SIGINT, how long in-flight requests and running jobs get to
   * finish before they are cut (requests) or handed back to the queue (jobs).
   * Keep it below the orchestrator's stop timeout (compose: stop_grace_period).
   */
  SHUTDOWN_GRACE_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(600).default(20)),
  RECONCILE_TICK_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(100).max(600_000).default(5000)),
  POLL_INTERVAL_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().min(0.1).max(3600).default(15)),
  POLL_MAX_INTERVAL_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().min(0.1).max(3600).default(120)),
  TASK_DEADLINE_MINUTES: z.preprocess(emptyAsUndefined, z.coerce.number().min(0.01).max(7 * 24 * 60).default(120)),
  SUBMIT_UNKNOWN_GRACE_MINUTES: z.preprocess(emptyAsUndefined, z.coerce.number().min(0).max(24 * 60).default(10)),
  /** Checks in a row in which the provider says it does not know an accepted task before the task is ended. */
  UNKNOWN_TASK_CONFIRMATIONS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(2).max(100).default(3)),
  ARCHIVE_MAX_ATTEMPTS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(100).default(8)),
  /**
   * Retention (server/retention/retention.ts), in days; 0 keeps forever. Uploads
   * expire this long after their last use (upload, or the end of the last task
   * that used them) once no running task uses them.
   */
  UPLOAD_RETENTION_DAYS: retentionDays(30),
  /** Sign-in log rows (SignInEvent) and the hourly refusal counts. */
  SIGNIN_LOG_RETENTION_DAYS: retentionDays(90),
  /** Callbacks refused for a wrong token (CallbackEvent rows without a task) and their hourly counts. */
  REJECTED_CALLBACK_RETENTION_DAYS: retentionDays(30),
  /** Result videos (and the task's uploads) of tasks that ended this long ago; unset or 0 keeps them until their owner deletes them. */
  RESULT_RETENTION_DAYS: retentionDays(0),
  /** How often the worker runs the retention job, as a cron expression (UTC). */
  RETENTION_SCHEDULE: z.preprocess(emptyAsUndefined, z.string().default("17 * * * *").refine((v) => /^\s*[0-9*,/-]+(\s+[0-9*,/-]+){4}\s*$/.test(v), "a cron expression of five fields, e.g. 17 * * * * (hourly)")),
  /** The longest one copy of a result may take; a copy whose worker died is started again after this (plus 30 s). */
  ARCHIVE_TIMEOUT_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(5).max(3600).default(300)),
  /** Local folder for archived results; default <DATA_DIR>/media. Ignored when S3_BUCKET is set. */
  STORAGE_DIR: optionalString,
  S3_BUCKET: optionalString,
  S3_REGION: z.preprocess(emptyAsUndefined, z.string().default("us-east-1")),
  S3_ENDPOINT: z.preprocess(emptyAsUndefined, z.url().optional()),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  S3_FORCE_PATH_STYLE: z.preprocess(emptyAsUndefined, z.enum(["0", "1"]).default("0")),
});

export type RawConfig = z.infer<typeof configSchema>;

/** Settings that only work together. */
const configRules = configSchema.superRefine((c, ctx) => {
  const oidc = [c.OIDC_ISSUER, c.OIDC_CLIENT_ID, c.OIDC_CLIENT_SECRET];
  if (oidc.some(Boolean) && !oidc.every(Boolean)) {
    ctx.addIssue({ code: "custom", path: ["OIDC_ISSUER"], message: "single sign-on needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together" });
  }
});

export interface Config {
  env: RawConfig["NODE_ENV"];
  databaseUrl: string | undefined;
  provider: { baseUrl: string; apiKey: string | undefined; simulator: boolean };
  publicBaseUrl: string;
  authSecret: string | undefined;
  host: string;
  port: number;
  /** Raw TRUSTED_PROXIES (see server/http/client-address.ts). */
  trustedProxies: string;
  /** SHUTDOWN_GRACE_SECONDS, in ms: what a stopping web process or worker gives in-flight work. */
  shutdownGraceMs: number;
  /** Prometheus scraping: the token, and the worker's own port (`npm run worker`). */
  metrics: { token?: string; workerPort?: number };
  signInThrottle: ThrottlePolicy;
  /** How many files the form may have checked per person (media.check), per window. */
  mediaCheckLimit: RateLimitPolicy;
  /** Personal API keys (server/apikeys/): how many may work at once per person. */
  apiKeys: { maxActivePerPerson: number; /** Per key, across every web instance. */ requestLimit: { limit: number; windowSeconds: number } };
  dataDir: string;
  embeddedPgPort: number;
  simulator: { port: number; stepMs: number };
  admin: { email: string; password: string | undefined };
  team: {
    invitationTtlHours: number;
    passwordResetTtlHours: number;
    /** Absent: invitation and reset links are shown to the admin only. */
    mail?: { smtpUrl: string; from: string };
  };
  /** OpenID Connect single sign-on, when configured. */
  sso?: {
    issuer: string;
    clientId: string;
    clientSecret: string;
    name: string;
    allowedDomains: string[];
    /** Take the provider's emails as verified even without email_verified. */
    trustEmails: boolean;
    /** Google Workspace's `hd` claim required, when set. */
    hostedDomain?: string;
  };
  /** Who may sign in with a password: with SSO on, "admins" sends members through SSO. */
  passwordSignIn: "everyone" | "admins";
  prices: { currency: string; perSecond: { "720p": number; "1080p": number } };
  /** The reporting time zone's default (REPORTING_TIME_ZONE); admins may set another. */
  defaultTimeZone: string;
  worker: {
    runInStart: boolean;
    tickMs: number;
    pollIntervalSeconds: number;
    pollMaxIntervalSeconds: number;
    taskDeadlineMinutes: number;
    submitUnknownGraceMinutes: number;
    unknownTaskConfirmations: number;
    archiveMaxAttempts: number;
    archiveTimeoutSeconds: number;
  };
  /** Days each kind of data is kept; 0 keeps it forever (server/retention/retention.ts). */
  retention: RetentionPolicy & { schedule: string };
  storage:
    | { kind: "local"; dir: string }
    | { kind: "s3"; bucket: string; region: string; endpoint?: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean };
}

export class ConfigError extends DomainError {
  static override readonly kind: string = "ConfigError";

  constructor(message: string) {
    super(message);
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configRules.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration (see .env.example):\n${lines.join("\n")}`);
  }
  const c = parsed.data;
  return {
    env: c.NODE_ENV,
    databaseUrl: c.DATABASE_URL,
    provider: { baseUrl: c.EVOLINK_BASE_URL.replace(/\/+$/, ""), apiKey: c.EVOLINK_API_KEY, simulator: c.EVOLINK_SIMULATOR === "1" },
    publicBaseUrl: (c.PUBLIC_BASE_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ""),
    authSecret: c.AUTH_SECRET,
    host: c.HOST,
    port: c.PORT,
    trustedProxies: c.TRUSTED_PROXIES,
    shutdownGraceMs: c.SHUTDOWN_GRACE_SECONDS * 1000,
    metrics: { token: c.METRICS_TOKEN, workerPort: c.METRICS_PORT },
    signInThrottle: {
      account: { freeFailures: c.SIGNIN_ACCOUNT_FREE_FAILURES, maxDelaySeconds: c.SIGNIN_ACCOUNT_MAX_DELAY_SECONDS },
      accountWide: { freeFailures: c.SIGNIN_ACCOUNT_WIDE_FREE_FAILURES, maxDelaySeconds: c.SIGNIN_ACCOUNT_MAX_DELAY_SECONDS },
      address: { freeFailures: c.SIGNIN_ADDRESS_FREE_FAILURES, maxDelaySeconds: c.SIGNIN_ADDRESS_MAX_DELAY_SECONDS },
      forgetAfterSeconds: 24 * 3600,
    },
    mediaCheckLimit: { limit: c.MEDIA_CHECKS_PER_MINUTE, windowSeconds: 60 },
    apiKeys: { maxActivePerPerson: c.API_KEYS_PER_PERSON, requestLimit: { limit: c.API_REQUESTS_PER_MINUTE, windowSeconds: 60 } },
    dataDir: c.DATA_DIR,
    embeddedPgPort: c.EMBEDDED_PG_PORT,
    simulator: { port: c.SIMULATOR_PORT, stepMs: c.SIMULATOR_STEP_MS },
    admin: { email: c.ADMIN_EMAIL, password: c.ADMIN_PASSWORD },
    team: {
      invitationTtlHours: c.INVITATION_TTL_HOURS,
      passwordResetTtlHours: c.PASSWORD_RESET_TTL_HOURS,
      ...(c.SMTP_URL && { mail: { smtpUrl: c.SMTP_URL, from: c.MAIL_FROM } }),
    },
    ...(c.OIDC_ISSUER &&
      c.OIDC_CLIENT_ID &&
      c.OIDC_CLIENT_SECRET && {
        sso: {
          issuer: c.OIDC_ISSUER,
          clientId: c.OIDC_CLIENT_ID,
          clientSecret: c.OIDC_CLIENT_SECRET,
          name: c.OIDC_NAME,
          allowedDomains: c.OIDC_ALLOWED_DOMAINS.split(",").map((d) => d.trim().toLowerCase().replace(/^@/, "")).filter(Boolean),
          trustEmails: c.OIDC_EMAIL_VERIFIED === "trusted",
          ...(c.OIDC_HOSTED_DOMAIN && { hostedDomain: c.OIDC_HOSTED_DOMAIN.trim().toLowerCase() }),
        },
      }),
    passwordSignIn: c.OIDC_ISSUER ? c.PASSWORD_SIGNIN : "everyone",
    prices: { currency: c.PRICE_CURRENCY, perSecond: { "720p": c.PRICE_720P_PER_SECOND, "1080p": c.PRICE_1080P_PER_SECOND } },
    defaultTimeZone: c.REPORTING_TIME_ZONE,
    worker: {
      runInStart: c.RUN_WORKER === "1",
      tickMs: c.RECONCILE_TICK_MS,
      pollIntervalSeconds: c.POLL_INTERVAL_SECONDS,
      pollMaxIntervalSeconds: c.POLL_MAX_INTERVAL_SECONDS,
      taskDeadlineMinutes: c.TASK_DEADLINE_MINUTES,
      submitUnknownGraceMinutes: c.SUBMIT_UNKNOWN_GRACE_MINUTES,
      unknownTaskConfirmations: c.UNKNOWN_TASK_CONFIRMATIONS,
      archiveMaxAttempts: c.ARCHIVE_MAX_ATTEMPTS,
      archiveTimeoutSeconds: c.ARCHIVE_TIMEOUT_SECONDS,
    },
    retention: {
      uploadDays: c.UPLOAD_RETENTION_DAYS,
      signInLogDays: c.SIGNIN_LOG_RETENTION_DAYS,
      rejectedCallbackDays: c.REJECTED_CALLBACK_RETENTION_DAYS,
      resultDays: c.RESULT_RETENTION_DAYS,
      schedule: c.RETENTION_SCHEDULE.trim(),
    },
    storage: c.S3_BUCKET
      ? {
          kind: "s3",
          bucket: c.S3_BUCKET,
          region: c.S3_REGION,
          endpoint: c.S3_ENDPOINT,
          accessKeyId: c.S3_ACCESS_KEY_ID,
          secretAccessKey: c.S3_SECRET_ACCESS_KEY,
          forcePathStyle: c.S3_FORCE_PATH_STYLE === "1",
        }
      : { kind: "local", dir: c.STORAGE_DIR ?? path.join(c.DATA_DIR, "media") },
  };
}

/** The http:// origins media may come from under one configuration (see httpMediaOrigins). */
export interface HttpMediaOrigins {
  /**
   * What a request may name over http (the request schema, the form, upload
   * availability): the simulator's origin, and the portal's own when it is on
   * this computer, since its upload links are then http://localhost:PORT/...
   * (the simulator takes plain http on loopback only).
   */
  request: string[];
  /**
   * What the portal's network fetcher may reach over http and on this
   * computer: the simulator's origin only. The portal's own upload links are
   * read from storage, never fetched (server/uploads/media-source.ts).
   */
  fetch: string[];
}

/**
 * The one place that decides which http origins media URLs may use: none
 * with the real provider, which fetches media from the internet over https;
 * with the local simulator (EVOLINK_SIMULATOR=1), its exact origin and, for
 * requests, the portal's own. Exact origins, not "loopback": anything else on
 * this computer stays out of reach.
 */
export function httpMediaOrigins(config: Pick<Config, "provider" | "publicBaseUrl">): HttpMediaOrigins {
  if (!config.provider.simulator) return { request: [], fetch: [] };
  const simulator = new URL(config.provider.baseUrl).origin;
  const portal = URL.canParse(config.publicBaseUrl) ? new URL(config.publicBaseUrl) : null;
  // Elsewhere the simulator would refuse plain http, and a public https address needs no exemption.
  const portalOnLoopback = portal !== null && isLoopbackHostname(portal.hostname);
  return { request: portalOnLoopback ? [simulator, portal.origin] : [simulator], fetch: [simulator] };
}

export type RuntimeConfig = Config & {
  databaseUrl: string;
  authSecret: string;
  provider: Config["provider"] & { apiKey: string };
};

/** The web process's configuration: everything the launcher resolves must be present. */
export function loadRuntimeConfig(env: Record<string, string | undefined> = process.env): RuntimeConfig {
  const config = loadConfig(env);
  const missing = [
    !config.databaseUrl && "DATABASE_URL",
    !config.authSecret && "AUTH_SECRET",
    !config.provider.apiKey && "EVOLINK_API_KEY",
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new ConfigError(
      `Missing ${missing.join(", ")}. Start the portal with \`npm start\`, which provides ` +
        `an embedded database, the provider simulator and a local secret when these are not set.`,
    );
  }
  return config as RuntimeConfig;
}
