import path from "node:path";
import { defineConfig } from "vitest/config";

// `npm run test:faults`: the fault-injection suite (tests/faults), apart from
// `npm test`. It starts real processes on fixed ports (tests/faults/harness.ts),
// so its files run one after another in one fork.
export default defineConfig({
  resolve: {
    alias: {
      "@": path.resolve(import.meta.dirname),
      "server-only": path.resolve(import.meta.dirname, "node_modules/server-only/empty.js"),
    },
  },
  test: {
    include: ["tests/faults/**/*.test.ts"],
    globalSetup: ["tests/faults/global-setup.ts"],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
