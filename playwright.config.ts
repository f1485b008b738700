import { defineConfig } from "@playwright/test";
import { INSTANCES, launcherEnv, MAIN, OIDC } from "./tests/e2e/instances.ts";

// The browser tests run the real product (`npm start`'s launcher: the
// portal's own web server in front of the production build) in fresh data
// folders under the system temp folder (as root, the embedded PostgreSQL runs
// as `postgres`, which may not be able to enter the checkout).
export default defineConfig({
  testDir: "tests/e2e",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: MAIN.baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
    },
  },
  projects: [
    // First, on servers nothing has touched yet: the production-build checks
    // decide which route builds the services (the cause of the bugs they cover).
    { name: "fresh servers", testMatch: /production-build\.spec\.ts/ },
    { name: "portal", testIgnore: /production-build\.spec\.ts/, dependencies: ["fresh servers"] },
  ],
  webServer: [
    // The identity provider the main server's single sign-on uses, first: the server reads its discovery document.
    {
      command: "npx tsx tests/e2e/servers/oidc-provider.ts",
      url: `${OIDC.issuer}/.well-known/openid-configuration`,
      timeout: 60_000,
      reuseExistingServer: false,
      gracefulShutdown: { signal: "SIGTERM" as const, timeout: 5_000 },
    },
    ...INSTANCES.map((i) => ({
      command: `node -e "require('fs').rmSync(process.env.DATA_DIR,{recursive:true,force:true})" && npx tsx scripts/start.ts`,
      url: `http://127.0.0.1:${i.port}/api/health`,
      timeout: 240_000,
      reuseExistingServer: false,
      gracefulShutdown: { signal: "SIGTERM" as const, timeout: 15_000 },
      stdout: "pipe" as const,
      env: launcherEnv(i),
    })),
  ],
});
