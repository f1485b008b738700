/**
 * The production servers the browser tests run against (playwright.config.ts
 * starts each with `npm start`'s launcher, in a fresh data folder):
 * - `main`: the product on its embedded defaults, the provider simulator;
 * - `unreachable`: the real-provider configuration with a provider that
 *   cannot be reached (a closed port), and no trusted proxy.
 * Tests read an instance's generated secrets (the simulator key) from its
 * data folder, and create accounts with `npm run user:add`'s script.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface Instance {
  name: string;
  port: number;
  baseURL: string;
  dataDir: string;
  pgPort: number;
  simulatorPort: number;
  env: Record<string, string>;
}

function instance(name: string, port: number, pgPort: number, simulatorPort: number, env: Record<string, string>): Instance {
  const baseURL = `http://localhost:${port}`;
  return { name, port, baseURL, dataDir: path.join(os.tmpdir(), `wan-e2e-${name}-${port}`), pgPort, simulatorPort, env };
}

export const E2E_ADMIN = { email: "admin@e2e.test", password: "e2e-admin-password" };

const base = Number(process.env.E2E_PORT ?? 3210);

/** The OpenID Connect provider the main server signs in with (tests/e2e/servers/oidc-provider.ts). */
export const OIDC = {
  port: Number(process.env.E2E_OIDC_PORT ?? 4395),
  get issuer() {
    return `http://127.0.0.1:${this.port}`;
  },
  clientId: "wan-portal-e2e",
  clientSecret: "e2e-oidc-client-secret-0123456789",
  name: "Acme ID",
  allowedDomain: "acme.test",
};

export const MAIN = instance("main", base, Number(process.env.E2E_PG_PORT ?? 54391), Number(process.env.E2E_SIMULATOR_PORT ?? 4391), {
  // Playwright's requests come from loopback: trusting it lets a test speak for
  // other client addresses with X-Forwarded-For (sign-in throttling per address).
  TRUSTED_PROXIES: "loopback",
  // The browser tests sign in many times from one address; the per-address
  // limit is covered by the integration tests.
  SIGNIN_ADDRESS_FREE_FAILURES: "1000",
  SIMULATOR_STEP_MS: "400",
  OIDC_ISSUER: OIDC.issuer,
  OIDC_CLIENT_ID: OIDC.clientId,
  OIDC_CLIENT_SECRET: OIDC.clientSecret,
  OIDC_NAME: OIDC.name,
  OIDC_ALLOWED_DOMAINS: OIDC.allowedDomain,
});
export const UNREACHABLE = instance("unreachable", base + 1, Number(process.env.E2E_PG_PORT ?? 54391) + 1, Number(process.env.E2E_SIMULATOR_PORT ?? 4391) + 1, {
  EVOLINK_API_KEY: "sk-e2e-unreachable-provider-key",
  // Nothing listens on port 2 (below 1024, not on fetch's blocked list): connections are refused, nothing is sent.
  EVOLINK_BASE_URL: "http://127.0.0.1:2",
});
export const INSTANCES = [MAIN, UNREACHABLE];

/** GET /metrics needs it as a bearer token on every instance. */
export const METRICS_TOKEN = "e2e-metrics-token-0123456789";

/** The environment `npm start`'s launcher gets for an instance. */
export function launcherEnv(i: Instance): Record<string, string> {
  return {
    METRICS_TOKEN,
    DATA_DIR: i.dataDir,
    HOST: "127.0.0.1",
    PORT: String(i.port),
    PUBLIC_BASE_URL: i.baseURL,
    EMBEDDED_PG_PORT: String(i.pgPort),
    SIMULATOR_PORT: String(i.simulatorPort),
    ADMIN_EMAIL: E2E_ADMIN.email,
    ADMIN_PASSWORD: E2E_ADMIN.password,
    EVOLINK_API_KEY: "",
    DATABASE_URL: "",
    // Warnings and errors only in the suite's output (E2E_LOG_LEVEL=info shows every request and task line).
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? "warn",
    ...i.env,
  };
}

/** The simulator's key, generated in the instance's data folder. */
export function simulatorKey(i: Instance = MAIN): string {
  return (JSON.parse(readFileSync(path.join(i.dataDir, "local-secrets.json"), "utf8")) as { simulatorKey: string }).simulatorKey;
}

/** Creates an account on an instance with `npm run user:add`'s script; returns its credentials. */
export function addUser(i: Instance, email: string, opts: { admin?: boolean; password?: string } = {}): { email: string; password: string } {
  const password = opts.password ?? `pw-${email.replace(/\W/g, "")}-2026`;
  execFileSync(process.execPath, ["--import", "tsx", "scripts/add-user.ts", email, ...(opts.admin ? ["--admin"] : [])], {
    cwd: path.resolve(import.meta.dirname, "../.."),
    env: { ...process.env, ...launcherEnv(i), PASSWORD: password },
    stdio: "pipe",
  });
  return { email, password };
}
