/**
 * Vitest globalSetup: ONE embedded PostgreSQL for the whole run, in a fresh
 * data folder (<tmp>/wan-test-pg-<pid>-<random>, removed at teardown) on a free
 * port. Migrations are applied once to the template database `wan_template`;
 * tests clone it per file with `CREATE DATABASE … TEMPLATE` (tests/helpers/db.ts).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { startThrowawayPostgres, type EmbeddedDatabase } from "../../server/db/embedded.ts";
import { applyMigrations } from "../../server/db/migrate.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of the `postgres` database of the test server (for CREATE/DROP DATABASE). */
    pgAdminUrl: string;
    /** Name of the migrated template database ("wan_template"). */
    pgTemplateDb: string;
  }
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TEMPLATE_DB = "wan_template";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync(path.join(ROOT, "server/db/generated/client.ts"))) {
    const res = spawnSync(process.execPath, [path.join(ROOT, "scripts/prisma-generate.mjs")], {
      cwd: ROOT,
      stdio: "inherit",
    });
    if (res.status !== 0) throw new Error(`node scripts/prisma-generate.mjs failed (exit ${res.status})`);
  }

  const logs: string[] = [];
  let server: EmbeddedDatabase | undefined;
  const teardown = async () => {
    await server?.stop();
    server = undefined;
  };

  try {
    server = await startThrowawayPostgres({ name: "test-pg", database: TEMPLATE_DB, log: (m) => logs.push(m) });
    await applyMigrations(server.url);
    project.provide("pgAdminUrl", server.urlFor("postgres"));
    project.provide("pgTemplateDb", TEMPLATE_DB);
  } catch (err) {
    await teardown().catch(() => {});
    const tail = logs.slice(-20).join("\n");
    throw new Error(`Test PostgreSQL setup failed: ${(err as Error).message}${tail ? `\n--- postgres log ---\n${tail}` : ""}`, {
      cause: err,
    });
  }
  return teardown;
}
