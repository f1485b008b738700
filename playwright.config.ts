import os from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";
import { E2E_ADMIN } from "./tests/e2e/fixtures.ts";

// The browser tests run the real product (`npm start`'s launcher) on its
// embedded defaults, in a fresh data folder, against the provider simulator.
const PORT = Number(process.env.E2E_PORT ?? 3210);
const baseURL = `http://localhost:${PORT}`;
// A fresh data folder under the system temp folder (as root, the embedded
// PostgreSQL runs as `postgres`, which may not be able to enter the checkout).
const DATA_DIR = path.join(os.tmpdir(), `wan-e2e-${PORT}`);

export default defineConfig({
  testDir: "tests/e2e",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
    },
  },
  webServer: {
    command: `node -e "require('fs').rmSync(process.env.DATA_DIR,{recursive:true,force:true})" && npx tsx scripts/start.ts`,
    url: `http://127.0.0.1:${PORT}/api/health`,
    timeout: 240_000,
    reuseExistingServer: false,
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
    stdout: "pipe",
    env: {
      DATA_DIR,
      HOST: "127.0.0.1",
      PORT: String(PORT),
      PUBLIC_BASE_URL: baseURL,
      EMBEDDED_PG_PORT: String(Number(process.env.E2E_PG_PORT ?? 54391)),
      SIMULATOR_PORT: String(Number(process.env.E2E_SIMULATOR_PORT ?? 4391)),
      SIMULATOR_STEP_MS: "400",
      ADMIN_EMAIL: E2E_ADMIN.email,
      ADMIN_PASSWORD: E2E_ADMIN.password,
      // The real provider is never used by the browser tests.
      EVOLINK_API_KEY: "",
      DATABASE_URL: "",
    },
  },
});
