/**
 * Composition root: one configuration, database client, provider client and
 * storage per process. Domain functions receive these as parameters. The web
 * app (server/app-services.ts, on first use, never at build time), the worker
 * and the tests build their services the same way.
 */
import { budgetNotifier } from "./budgets/notify.ts";
import { callbackUrlFor } from "./callbacks/token.ts";
import { createDb, type Db } from "./db/client.ts";
import { httpMediaOrigins, type RuntimeConfig } from "./config.ts";
import { createMediaCheckCache, createMediaFetcher, largestMediaBytes } from "./media/index.ts";
import { createEvolinkProvider } from "./provider/evolink.ts";
import type { VideoProvider } from "./provider/types.ts";
import { createStorage, type ObjectStorage } from "./storage/storage.ts";
import { createMailer, type Mailer } from "./mail/mailer.ts";
import type { TaskDeps } from "./tasks/tasks.ts";
import type { TeamDeps } from "./team/deps.ts";
import { createMediaSource, isOwnUploadLink } from "./uploads/media-source.ts";
import type { FileCheckDeps } from "./media/file-check.ts";
import { uploadAvailability, type UploadAvailability } from "./uploads/availability.ts";
import type { UploadDeps } from "./uploads/uploads.ts";
import type { ApiKeyDeps } from "./apikeys/apikeys.ts";

export interface Services {
  config: RuntimeConfig;
  db: Db;
  provider: VideoProvider;
  storage: ObjectStorage;
  taskDeps: TaskDeps;
  /** What the form's one-file media check needs (server/media/file-check.ts). */
  fileCheckDeps: FileCheckDeps;
  /** Where uploads are kept and how their links are made (server/uploads/). */
  uploadDeps: UploadDeps;
  /** Whether the provider could fetch an upload link under this configuration (server/uploads/availability.ts). */
  uploadAvailability: UploadAvailability;
  /** What the team functions need (invitations, resets), the mailer among them. */
  teamDeps: TeamDeps;
  /** Personal API keys (server/apikeys/): the database, the server secret, the per-person limit. */
  apiKeyDeps: ApiKeyDeps;
}

export function buildServices(config: RuntimeConfig, overrides: Partial<Pick<Services, "db" | "provider" | "storage"> & { mailer: Mailer | null }> = {}): Services {
  const db = overrides.db ?? createDb(config.databaseUrl);
  const provider = overrides.provider ?? createEvolinkProvider({ baseUrl: config.provider.baseUrl, apiKey: config.provider.apiKey });
  const storage = overrides.storage ?? createStorage(config);
  const maxBytes = largestMediaBytes();
  // Own upload links from storage; anything else through the guarded fetcher (the simulator's origin exempt in simulator mode).
  const uploadDeps: UploadDeps = { storage, serverSecret: config.authSecret, publicBaseUrl: config.publicBaseUrl };
  const fetchMedia = createMediaSource({
    fetcher: createMediaFetcher({ maxBytes, timeoutMs: 10_000, allowedOrigins: httpMediaOrigins(config).fetch }),
    uploads: uploadDeps,
    maxBytes,
  });
  const fileCheckDeps: FileCheckDeps = {
    db,
    fetchMedia,
    httpOrigins: httpMediaOrigins(config).request,
    limit: config.mediaCheckLimit,
  };
  const mailer = overrides.mailer !== undefined ? overrides.mailer : config.team.mail ? createMailer(config.team.mail) : null;
  return {
    config,
    db,
    provider,
    storage,
    fileCheckDeps,
    uploadDeps,
    uploadAvailability: uploadAvailability({ publicBaseUrl: config.publicBaseUrl, httpOrigins: httpMediaOrigins(config).request }),
    teamDeps: {
      db,
      publicBaseUrl: config.publicBaseUrl,
      mailer,
      invitationTtlHours: config.team.invitationTtlHours,
      passwordResetTtlHours: config.team.passwordResetTtlHours,
      passwordSignIn: config.passwordSignIn,
      defaultTimeZone: config.defaultTimeZone,
    },
    apiKeyDeps: { db, serverSecret: config.authSecret, maxActivePerPerson: config.apiKeys.maxActivePerPerson },
    taskDeps: {
      db,
      provider,
      prices: config.prices,
      defaultTimeZone: config.defaultTimeZone,
      notifyBudget: budgetNotifier({ db, mailer, currency: config.prices.currency }),
      fetchMedia,
      // A submit from a file checked in the last 30 s reuses that check (own uploads are always read again).
      mediaChecks: createMediaCheckCache({ ttlMs: 30_000, maxEntries: 500, cacheable: (url) => !isOwnUploadLink(url, config.publicBaseUrl) }),
      callbackUrlFor: (taskId) => callbackUrlFor({ publicBaseUrl: config.publicBaseUrl, serverSecret: config.authSecret, simulator: config.provider.simulator }, taskId),
    },
  };
}
