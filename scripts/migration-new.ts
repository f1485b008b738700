/**
 * `npm run migration:new -- <name>` (tsx scripts/migration-new.ts <name>):
 * writes prisma/migrations/<UTC YYYYMMDDHHMMSS>_<name>/migration.sql with the
 * SQL that takes the database from the last committed prisma/schema.prisma
 * (git HEAD) to the working-tree one; from an empty database when no
 * migration exists yet. Offline: diffs through Prisma 6's WebAssembly engine
 * (scripts/lib/schema-diff.ts), which needs a live PostgreSQL: DATABASE_URL
 * when set, else a throwaway embedded one under <tmp>/wan-diff-pg-<random>.
 *
 * Workflow: edit schema.prisma, run this, review the SQL, commit the schema
 * and the migration together (the next diff starts from the committed schema).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startEmbeddedPostgres } from "../server/db/embedded.ts";
import { diffSchemas, isEmptyDiff } from "./lib/schema-diff.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SCHEMA = "prisma/schema.prisma";
const MIGRATIONS = path.join(ROOT, "prisma", "migrations");

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const rawName = process.argv[2];
if (!rawName || process.argv.length > 3) {
  fail("Usage: tsx scripts/migration-new.ts <name>   (e.g. add_task_priority)");
}
const name = rawName.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
if (!name) fail(`Not a usable migration name: "${rawName}"`);

function git(args: string[]): string {
  return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const existing = existsSync(MIGRATIONS)
  ? (await readdir(MIGRATIONS, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort()
  : [];

// A migration made from HEAD's schema but not committed yet would be made
// again by this diff: refuse rather than write the same change twice.
let tracked = "";
try {
  tracked = git(["ls-tree", "--name-only", "HEAD", "prisma/migrations/"]);
} catch {
  // No commit yet: nothing is committed.
}
const committed = new Set(tracked.split("\n").filter(Boolean).map((p) => path.basename(p)));
const uncommitted = existing.filter((m) => !committed.has(m));
if (uncommitted.length > 0) {
  fail(
    `Uncommitted migration(s): ${uncommitted.join(", ")}.\n` +
      "This tool diffs from the schema in git HEAD, so it would repeat their changes. " +
      "Commit them together with prisma/schema.prisma first, or delete them to regenerate.",
  );
}

let from: string | null = null;
if (existing.length > 0) {
  try {
    from = git(["show", `HEAD:${SCHEMA}`]);
  } catch (err) {
    fail(`Cannot read ${SCHEMA} at HEAD (git show HEAD:${SCHEMA}): ${(err as Error).message}`);
  }
}
const to = await readFile(path.join(ROOT, SCHEMA), "utf8");


async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  if (process.env.DATABASE_URL) return fn(process.env.DATABASE_URL);
  const dataDir = path.join(os.tmpdir(), `wan-diff-pg-${randomBytes(4).toString("hex")}`);
  console.log("DATABASE_URL is not set; starting a throwaway embedded PostgreSQL for the diff…");
  try {
    const pg = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      password: randomBytes(12).toString("hex"),
      database: "postgres",
    });
    try {
      return await fn(pg.urlFor("postgres"));
    } finally {
      await pg.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const sql = await withDatabase((databaseUrl) => diffSchemas({ from, to, databaseUrl }));

if (isEmptyDiff(sql)) {
  console.log(
    from === null
      ? "Note: the schema defines nothing to create; no migration written."
      : `Note: ${SCHEMA} does not differ from the committed one (HEAD); no migration written.`,
  );
  process.exit(0);
}

const d = new Date();
const p2 = (n: number) => String(n).padStart(2, "0");
let stamp = `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}`;
// Migrations apply in lexical order: a new one must sort after every existing one.
const last = existing.at(-1)?.slice(0, 14);
if (last && /^\d{14}$/.test(last) && stamp <= last) {
  const t = new Date(
    Date.UTC(+last.slice(0, 4), +last.slice(4, 6) - 1, +last.slice(6, 8), +last.slice(8, 10), +last.slice(10, 12), +last.slice(12, 14) + 1),
  );
  stamp = `${t.getUTCFullYear()}${p2(t.getUTCMonth() + 1)}${p2(t.getUTCDate())}${p2(t.getUTCHours())}${p2(t.getUTCMinutes())}${p2(t.getUTCSeconds())}`;
  console.log(`Note: the clock is behind the latest migration (${existing.at(-1)}); using ${stamp}.`);
}

const dir = path.join(MIGRATIONS, `${stamp}_${name}`);
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, "migration.sql"), sql);
const lock = path.join(MIGRATIONS, "migration_lock.toml");
if (!existsSync(lock)) {
  await writeFile(
    lock,
    '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"',
  );
}
console.log(`Wrote ${path.relative(ROOT, path.join(dir, "migration.sql"))}. Review it, then commit it with ${SCHEMA}.`);
