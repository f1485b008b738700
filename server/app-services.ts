/**
 * The web app's services: one per process, built on first use (never at
 * build time) and kept on globalThis, because the production build bundles
 * each route apart and every bundle must share the one database pool and
 * provider client. What a route gets may therefore come from another bundle's
 * copy of a module: domain errors are recognised by brand (server/errors.ts).
 * Server-only: it holds the secrets.
 */
import "server-only";
import { loadRuntimeConfig } from "./config.ts";
import { buildServices, type Services } from "./services.ts";

const globalForServices = globalThis as unknown as { __wanServices?: Services };

export function getServices(): Services {
  globalForServices.__wanServices ??= buildServices(loadRuntimeConfig());
  return globalForServices.__wanServices;
}
