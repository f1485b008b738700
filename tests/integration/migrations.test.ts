/**
 * server/db/migrate.ts against a real PostgreSQL (the run's embedded server,
 * tests/setup/global-setup.ts): bookkeeping compatible with Prisma, no-op
 * re-runs, checksum checks, atomic failures, and the advisory lock.
 */
import { createHash, randomUUID } from "node:crypto";
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  applyMigrations,
  DEFAULT_MIGRATIONS_DIR,
  FailedMigrationsPresentError,
  MigrationChecksumMismatchError,
  MigrationFailedError,
  MissingMigrationsError,
} from "../../server/db/migrate.ts";
import { runPrisma6, toPrisma6Schema } from "../../scripts/lib/schema-diff.ts";
import { createEmptyDatabase, type EmptyTestDatabase } from "../helpers/db.ts";

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function emptyDb(): Promise<EmptyTestDatabase> {
  const d = await createEmptyDatabase();
  cleanups.push(() => d.drop());
  return d;
}

/** A temp copy of prisma/migrations, plus extra migrations { name: sql }. */
async function migrationsCopy(extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "wan-migrations-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

async function query<T extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

interface Row {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}
const rowsOf = (url: string) =>
  query<Row>(url, `SELECT * FROM "_prisma_migrations" ORDER BY migration_name, started_at`);

const relationExists = async (url: string, name: string) =>
  (await query<{ t: string | null }>(url, `SELECT to_regclass($1)::text AS t`, [`"${name}"`]))[0]!.t !== null;

async function migrationNames(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

const sha256 = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");

describe("applyMigrations", () => {
  it("applies every migration to an empty database and records them as Prisma does", async () => {
    const { url } = await emptyDb();
    const names = await migrationNames(DEFAULT_MIGRATIONS_DIR);
    expect(names.length).toBeGreaterThan(0);

    const { applied } = await applyMigrations(url);
    expect(applied).toEqual(names);

    const rows = await rowsOf(url);
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    for (const r of rows) {
      expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(r.checksum).toBe(await sha256(path.join(DEFAULT_MIGRATIONS_DIR, r.migration_name, "migration.sql")));
      expect(r.finished_at).toBeInstanceOf(Date);
      expect(r.finished_at!.getTime()).toBeGreaterThanOrEqual(r.started_at.getTime());
      expect(r.applied_steps_count).toBe(1);
      expect(r.logs).toBeNull();
      expect(r.rolled_back_at).toBeNull();
    }
    expect(await relationExists(url, "User")).toBe(true);
    expect(await relationExists(url, "Task")).toBe(true);

    // The bookkeeping table has exactly Prisma's shape.
    const cols = await query(
      url,
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(cols).toEqual([
      { column_name: "id", data_type: "character varying", len: 36, is_nullable: "NO", column_default: null },
      { column_name: "checksum", data_type: "character varying", len: 64, is_nullable: "NO", column_default: null },
      { column_name: "finished_at", data_type: "timestamp with time zone", len: null, is_nullable: "YES", column_default: null },
      { column_name: "migration_name", data_type: "character varying", len: 255, is_nullable: "NO", column_default: null },
      { column_name: "logs", data_type: "text", len: null, is_nullable: "YES", column_default: null },
      { column_name: "rolled_back_at", data_type: "timestamp with time zone", len: null, is_nullable: "YES", column_default: null },
      { column_name: "started_at", data_type: "timestamp with time zone", len: null, is_nullable: "NO", column_default: "now()" },
      { column_name: "applied_steps_count", data_type: "integer", len: null, is_nullable: "NO", column_default: "0" },
    ]);
  });

  it("is a no-op the second time", async () => {
    const { url } = await emptyDb();
    await applyMigrations(url);
    const before = await rowsOf(url);
    expect(await applyMigrations(url)).toEqual({ applied: [] });
    expect(await rowsOf(url)).toEqual(before);
  });

  it("rejects an applied migration whose file was changed", async () => {
    const { url } = await emptyDb();
    const dir = await migrationsCopy();
    const [first] = await migrationNames(dir);
    await applyMigrations(url, { migrationsDir: dir });
    await appendFile(path.join(dir, first!, "migration.sql"), "\n-- edited after it was applied\n");

    const err = await applyMigrations(url, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationChecksumMismatchError);
    expect((err as MigrationChecksumMismatchError).migration).toBe(first);
    expect((err as Error).message).toContain(first);
  });

  it("accepts a file whose line endings git changed (as Prisma does)", async () => {
    const { url } = await emptyDb();
    const dir = await migrationsCopy();
    const [first] = await migrationNames(dir);
    await applyMigrations(url, { migrationsDir: dir });
    const file = path.join(dir, first!, "migration.sql");
    await writeFile(file, (await readFile(file, "utf8")).replace(/\n/g, "\r\n"));
    expect(await applyMigrations(url, { migrationsDir: dir })).toEqual({ applied: [] });
  });

  it("rolls a failing migration back completely and keeps the earlier ones", async () => {
    const { url } = await emptyDb();
    const dir = await migrationsCopy({
      "29990101000000_good": `CREATE TABLE "Good" (id integer);\n`,
      "29990102000000_broken": `CREATE TABLE "Partial" (id integer);\nINSERT INTO "Good" VALUES (1);\nSELECT * FROM "does_not_exist";\n`,
    });
    const names = await migrationNames(dir);

    const err = await applyMigrations(url, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect((err as MigrationFailedError).migration).toBe("29990102000000_broken");
    expect((err as MigrationFailedError).partiallyCommitted).toBe(false);
    expect((err as Error).message).toContain("29990102000000_broken");
    expect((err as Error).message).toContain('relation "does_not_exist" does not exist');
    expect((err as Error).message).toContain("line 3");

    const rows = await rowsOf(url);
    expect(rows.map((r) => r.migration_name)).toEqual(names.filter((n) => n !== "29990102000000_broken"));
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
    expect(await relationExists(url, "Partial")).toBe(false);
    expect(await relationExists(url, "Good")).toBe(true);
    expect(await query(url, `SELECT * FROM "Good"`)).toEqual([]);

    // Once fixed, it applies on the next run.
    await writeFile(path.join(dir, "29990102000000_broken", "migration.sql"), `CREATE TABLE "Partial" (id integer);\n`);
    expect(await applyMigrations(url, { migrationsDir: dir })).toEqual({ applied: ["29990102000000_broken"] });
    expect(await relationExists(url, "Partial")).toBe(true);
  });

  it("lets two concurrent runs apply each migration exactly once", async () => {
    const { url } = await emptyDb();
    const extra: Record<string, string> = {};
    for (let i = 1; i <= 4; i++) {
      extra[`2999010${i}000000_step${i}`] = `SELECT pg_sleep(0.05);\nCREATE TABLE "Step${i}" (id integer);\n`;
    }
    const dir = await migrationsCopy(extra);
    const names = await migrationNames(dir);

    const [a, b] = await Promise.all([
      applyMigrations(url, { migrationsDir: dir }),
      applyMigrations(url, { migrationsDir: dir }),
    ]);
    expect([...a.applied, ...b.applied].sort()).toEqual(names);

    const counts = await query<{ migration_name: string; n: number }>(
      url,
      `SELECT migration_name, count(*)::int AS n FROM "_prisma_migrations" GROUP BY migration_name ORDER BY migration_name`,
    );
    expect(counts).toEqual(names.map((n) => ({ migration_name: n, n: 1 })));
  });

  it("refuses to run past a failed migration recorded by prisma migrate deploy", async () => {
    const { url } = await emptyDb();
    const dir = await migrationsCopy({ "29990101000000_next": `CREATE TABLE "Next" (id integer);\n` });
    await applyMigrations(url); // everything but `next`
    // What `prisma migrate deploy` leaves when `next` fails: a row never finished.
    await query(
      url,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, applied_steps_count)
       VALUES ($1, $2, '29990101000000_next', 'boom', 0)`,
      [randomUUID(), await sha256(path.join(dir, "29990101000000_next", "migration.sql"))],
    );
    const err = await applyMigrations(url, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FailedMigrationsPresentError);
    expect((err as Error).message).toContain("29990101000000_next");
    expect((err as Error).message).toContain("prisma migrate resolve");
    expect(await relationExists(url, "Next")).toBe(false);

    // `prisma migrate resolve --rolled-back` marks it; it is then applied again.
    await query(url, `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '29990101000000_next'`);
    expect(await applyMigrations(url, { migrationsDir: dir })).toEqual({ applied: ["29990101000000_next"] });
  });

  it("refuses when an applied migration is missing from disk", async () => {
    const { url } = await emptyDb();
    const dir = await migrationsCopy({ "29990101000000_gone": `CREATE TABLE "Gone" (id integer);\n` });
    await applyMigrations(url, { migrationsDir: dir });
    await rm(path.join(dir, "29990101000000_gone"), { recursive: true });
    const err = await applyMigrations(url, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingMigrationsError);
    expect((err as Error).message).toContain("29990101000000_gone");
  });

  it("handles scripts with their own BEGIN/COMMIT (Prisma writes them for enum changes)", async () => {
    const { url } = await emptyDb();
    const dir = await migrationsCopy({
      "29990101000000_own_tx": `BEGIN;\nCREATE TABLE "OwnTx" (id integer);\nCOMMIT;\n`,
    });
    const notes: string[] = [];
    const { applied } = await applyMigrations(url, { migrationsDir: dir, log: (m) => notes.push(m) });
    expect(applied).toContain("29990101000000_own_tx");
    expect(notes.join("\n")).toContain("own transaction control");
    const row = (await rowsOf(url)).find((r) => r.migration_name === "29990101000000_own_tx")!;
    expect(row.finished_at).not.toBeNull();
    expect(row.applied_steps_count).toBe(1);

    // Failing after its own COMMIT: the committed part stays, so the failure is recorded (as Prisma would).
    await mkdir(path.join(dir, "29990102000000_half"));
    await writeFile(
      path.join(dir, "29990102000000_half", "migration.sql"),
      `CREATE TABLE "Half1" (id integer);\nCOMMIT;\nCREATE TABLE "Half2" (id integer);\nSELECT * FROM "nope";\n`,
    );
    const err = await applyMigrations(url, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect((err as MigrationFailedError).partiallyCommitted).toBe(true);
    const half = (await rowsOf(url)).find((r) => r.migration_name === "29990102000000_half")!;
    expect(half.finished_at).toBeNull();
    expect(half.logs).toContain('relation "nope" does not exist');
    await expect(applyMigrations(url, { migrationsDir: dir })).rejects.toBeInstanceOf(FailedMigrationsPresentError);
  });
});

describe("interoperability with prisma migrate (Prisma 6 CLI, WebAssembly engine)", () => {
  const schemaFile = path.join(path.dirname(DEFAULT_MIGRATIONS_DIR), "schema.prisma");
  const prisma = async (args: string[], url: string) =>
    runPrisma6(args, {
      files: { "schema.prisma": toPrisma6Schema(await readFile(schemaFile, "utf8")) },
      databaseUrl: url,
      migrationsDir: DEFAULT_MIGRATIONS_DIR,
    });

  it("prisma migrate status accepts what applyMigrations recorded", async () => {
    const { url } = await emptyDb();
    await applyMigrations(url);
    const res = await prisma(["migrate", "status"], url);
    expect(res.stdout + res.stderr).toContain("Database schema is up to date");
    expect(res.code).toBe(0);
  });

  it("applyMigrations accepts what prisma migrate deploy recorded (same checksums)", async () => {
    const { url } = await emptyDb();
    const res = await prisma(["migrate", "deploy"], url);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const byPrisma = await rowsOf(url);
    expect(byPrisma.length).toBe((await migrationNames(DEFAULT_MIGRATIONS_DIR)).length);
    for (const r of byPrisma) {
      expect(r.checksum).toBe(await sha256(path.join(DEFAULT_MIGRATIONS_DIR, r.migration_name, "migration.sql")));
    }
    expect(await applyMigrations(url)).toEqual({ applied: [] });
  });
});
