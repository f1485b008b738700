/**
 * Composition root of the web process: one configuration, one database
 * client and one provider client per process, built on first use (never at
 * build time). Domain functions receive these as parameters.
 */
import { createDb, type Db } from "./db/client.ts";
import { loadRuntimeConfig, type RuntimeConfig } from "./config.ts";
import { createEvolinkProvider } from "./provider/evolink.ts";
import type { VideoProvider } from "./provider/types.ts";
import type { TaskDeps } from "./tasks/tasks.ts";

export interface Services {
  config: RuntimeConfig;
  db: Db;
  provider: VideoProvider;
  taskDeps: TaskDeps;
}

const globalForServices = globalThis as unknown as { __wanServices?: Services };

export function getServices(): Services {
  if (!globalForServices.__wanServices) {
    const config = loadRuntimeConfig();
    const db = createDb(config.databaseUrl);
    const provider = createEvolinkProvider({ baseUrl: config.provider.baseUrl, apiKey: config.provider.apiKey });
    globalForServices.__wanServices = {
      config,
      db,
      provider,
      taskDeps: {
        db,
        provider,
        callbacks: { publicBaseUrl: config.publicBaseUrl, serverSecret: config.authSecret, simulator: config.provider.simulator },
      },
    };
  }
  return globalForServices.__wanServices;
}
