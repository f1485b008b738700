import path from "node:path";
import { defineConfig } from "vitest/config";

// `npm run test:topology`: the deployment topology test (tests/topology), apart from
// `npm test`. It starts real processes on fixed ports (tests/topology/cluster.ts),
// one after another in one fork; the build check is the fault suite's.
export default defineConfig({
  resolve: {
    alias: {
      "@": path.resolve(import.meta.dirname),
      "server-only": path.resolve(import.meta.dirname, "node_modules/server-only/empty.js"),
    },
  },
  test: {
    include: ["tests/topology/**/*.test.ts"],
    globalSetup: ["tests/faults/global-setup.ts"],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
