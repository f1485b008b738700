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
import { createV1Schema } from "./v1/request.ts";
import { resultLinkFor } from "./v1/results.ts";
import { v1OpenApiDocument } from "./v1/openapi.ts";
import type { V1RouteDeps } from "./v1/routes.ts";
import { CLIENT_CALLBACK_TIMEOUT_MS, type ClientCallbackDeps } from "./v1/client-callbacks.ts";
import { createGuardedPoster, type GuardedPost } from "./media/fetch.ts";

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
  /** The /v1 API (server/v1/). */
  v1: V1RouteDeps;
  /** Sending /v1 tasks' ends to their callback_url (the worker's job). */
  clientCallbacks: ClientCallbackDeps;
}

export function buildServices(config: RuntimeConfig, overrides: Partial<Pick<Services, "db" | "provider" | "storage"> & { mailer: Mailer | null; clientCallbackPost: GuardedPost }> = {}): Services {
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
  const taskDeps: TaskDeps = {
    db,
    provider,
    prices: config.prices,
    defaultTimeZone: config.defaultTimeZone,
    notifyBudget: budgetNotifier({ db, mailer, currency: config.prices.currency }),
    fetchMedia,
    // A submit from a file checked in the last 30 s reuses that check (own uploads are always read again).
    mediaChecks: createMediaCheckCache({ ttlMs: 30_000, maxEntries: 500, cacheable: (url) => !isOwnUploadLink(url, config.publicBaseUrl) }),
    callbackUrlFor: (taskId) => callbackUrlFor({ publicBaseUrl: config.publicBaseUrl, serverSecret: config.authSecret, simulator: config.provider.simulator }, taskId),
  };
  const apiKeyDeps: ApiKeyDeps = { db, serverSecret: config.authSecret, maxActivePerPerson: config.apiKeys.maxActivePerPerson };
  const v1Schema = createV1Schema({ httpOrigins: httpMediaOrigins(config).request });
  let openApi: unknown;
  const resultLink = resultLinkFor(config.publicBaseUrl, config.authSecret);
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
    apiKeyDeps,
    taskDeps,
    v1: {
      v1: {
        db,
        taskDeps,
        schema: v1Schema,
        resultLink,
        history: { db, defaultTimeZone: config.defaultTimeZone, currency: config.prices.currency },
        usage: { db, defaultTimeZone: config.defaultTimeZone, currency: config.prices.currency },
      },
      apiKeys: apiKeyDeps,
      db,
      storage,
      serverSecret: config.authSecret,
      rateLimit: config.apiKeys.requestLimit,
      openApi: () => (openApi ??= v1OpenApiDocument(v1Schema, config.publicBaseUrl)),
    },
    clientCallbacks: {
      db,
      serverSecret: config.authSecret,
      resultLink,
      post: overrides.clientCallbackPost ?? createGuardedPoster({ timeoutMs: CLIENT_CALLBACK_TIMEOUT_MS }),
    },
  };
}
