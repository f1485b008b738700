#!/usr/bin/env node
// Runs `prisma generate`. Generating the client does not run Prisma's native
// schema engine, but the CLI insists that one exists and downloads it when it
// is missing, which fails offline. Pointing PRISMA_SCHEMA_ENGINE_BINARY at any
// executable (here: node itself) satisfies that check. Where the variable is
// already set, or a downloaded engine exists, it is left alone.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
const require = createRequire(import.meta.url);
const cli = require.resolve("prisma/build/index.js");
const res = spawnSync(process.execPath, [cli, "generate", ...process.argv.slice(2)], {
  stdio: "inherit",
  env,
});
process.exit(res.status ?? 1);
