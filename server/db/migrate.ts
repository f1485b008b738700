/**
 * Applies the Prisma migrations in prisma/migrations the way
 * `prisma migrate deploy` does, with node-postgres and without Prisma's
 * (downloaded, native) schema engine. It shares Prisma's bookkeeping, so the
 * same database can be handled by either tool:
 *   - the `_prisma_migrations` table, created with Prisma's exact DDL;
 *   - Prisma's advisory lock key (72707369), so this runner and
 *     `prisma migrate deploy` never run at the same time;
 *   - Prisma's checksum: lowercase hex SHA-256 of the bytes of migration.sql,
 *     matched the way Prisma matches it (line-ending variants, legacy
 *     unpadded checksums).
 *
 * Unlike Prisma, each migration runs in ONE transaction together with its
 * `_prisma_migrations` row, so a failing migration leaves neither changes nor
 * a failed row behind and can simply be fixed and re-run. (Prisma records the
 * row first and marks it failed; that row then blocks every later deploy until
 * `prisma migrate resolve`, which is only worth it when partial changes may
 * really have been committed — see the one case below where we do the same.)
 * A script that carries its own transaction control (`BEGIN; … COMMIT;`, as
 * Prisma writes for some enum changes) ends our transaction early; such a
 * script still applies, but if it then fails after its COMMIT its partial
 * changes are committed, and we record the failure exactly as Prisma would.
 */
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { DomainError } from "../errors.ts";

/** Prisma's advisory lock key for migrations on PostgreSQL. */
export const PRISMA_MIGRATION_LOCK_KEY = 72707369;

export const DEFAULT_MIGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../prisma/migrations",
);

// Prisma's DDL (sql-schema-connector, PostgreSQL flavour), verbatim in shape.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface ApplyMigrationsOptions {
  /** Folder holding `<name>/migration.sql`; default <repo>/prisma/migrations. */
  migrationsDir?: string;
  log?: (message: string) => void;
  /** How long to wait for the migration lock held by another runner; default 5 minutes. */
  lockTimeoutMs?: number;
}

export class MigrationChecksumMismatchError extends DomainError {
  static override readonly kind: string = "MigrationChecksumMismatchError";

  constructor(readonly migrations: string[]) {
    super(
      `Migration${migrations.length > 1 ? "s" : ""} ${list(migrations)} ` +
        `${migrations.length > 1 ? "were" : "was"} modified after being applied: the checksum of ` +
        `migration.sql no longer matches _prisma_migrations. Restore the applied file(s) ` +
        `(e.g. from git) and put further changes into a new migration.`,
    );
  }
  /** The first mismatching migration. */
  get migration(): string {
    return this.migrations[0]!;
  }
}

export class FailedMigrationsPresentError extends DomainError {
  static override readonly kind: string = "FailedMigrationsPresentError";

  constructor(readonly migrations: string[]) {
    super(
      `The database has failed migration${migrations.length > 1 ? "s" : ""} ${list(migrations)} ` +
        `(recorded in _prisma_migrations with finished_at and rolled_back_at empty); ` +
        `no new migrations are applied until ${migrations.length > 1 ? "they are" : "it is"} resolved. ` +
        `Check the database, then either undo the partial changes and run ` +
        `\`prisma migrate resolve --rolled-back "<name>"\` (it is then applied again), ` +
        `or finish it by hand and run \`prisma migrate resolve --applied "<name>"\`.`,
    );
  }
}

export class MissingMigrationsError extends DomainError {
  static override readonly kind: string = "MissingMigrationsError";

  constructor(readonly migrations: string[]) {
    super(
      `Migration${migrations.length > 1 ? "s" : ""} ${list(migrations)} ` +
        `${migrations.length > 1 ? "are" : "is"} recorded as applied in _prisma_migrations but ` +
        `missing from the migrations folder. Restore ${migrations.length > 1 ? "them" : "it"} ` +
        `(e.g. from git) before applying migrations to this database.`,
    );
  }
}

export class MigrationFailedError extends DomainError {
  static override readonly kind: string = "MigrationFailedError";

  constructor(
    readonly migration: string,
    readonly postgresMessage: string,
    /** True when the script committed part of its changes itself (see module doc). */
    readonly partiallyCommitted: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      partiallyCommitted
        ? `Migration "${migration}" failed after committing part of its changes itself ` +
            `(its script has its own COMMIT): ${postgresMessage}. It is recorded as failed in ` +
            `_prisma_migrations; fix the database, then run \`prisma migrate resolve\` for it.`
        : `Migration "${migration}" failed and was rolled back: ${postgresMessage}`,
      options,
    );
  }
}

interface MigrationFile {
  name: string;
  script: Buffer;
  checksum: string;
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  rolled_back_at: Date | null;
}

export async function applyMigrations(
  databaseUrl: string,
  opts: ApplyMigrationsOptions = {},
): Promise<{ applied: string[] }> {
  const migrationsDir = opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const log = opts.log ?? (() => {});
  const files = await readMigrations(migrationsDir);

  const client = new pg.Client({ connectionString: databaseUrl });
  // A connection-level error (server gone) would otherwise crash the process.
  client.on("error", (e) => log(`[migrate] connection error: ${e.message}`));
  await client.connect();
  try {
    await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(opts.lockTimeoutMs ?? 300_000))}`);
    try {
      await client.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATION_LOCK_KEY]);
    } catch (err) {
      throw new Error(
        `Could not take the migration lock (pg_advisory_lock(${PRISMA_MIGRATION_LOCK_KEY})): ` +
          `${pgMessage(err)}. Is another migration run stuck?`,
        { cause: err },
      );
    }
    await client.query("RESET lock_timeout");
    try {
      return { applied: await applyLocked(client, files, log) };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

async function applyLocked(client: pg.Client, files: MigrationFile[], log: (m: string) => void): Promise<string[]> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS t`);
  if (exists.rows[0]?.t == null) {
    await client.query(CREATE_MIGRATIONS_TABLE);
    log("Created the _prisma_migrations table.");
  }

  const { rows } = await client.query<MigrationRow>(
    `SELECT id, checksum, finished_at, migration_name, rolled_back_at
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
  // Rows marked rolled back (by `prisma migrate resolve --rolled-back`) do not
  // count, as in Prisma: such a migration is applied again.
  const live = rows.filter((r) => r.rolled_back_at === null);

  const failed = live.filter((r) => r.finished_at === null).map((r) => r.migration_name);
  if (failed.length > 0) throw new FailedMigrationsPresentError(unique(failed));

  const byName = new Map(files.map((f) => [f.name, f]));
  const missing = live.filter((r) => !byName.has(r.migration_name)).map((r) => r.migration_name);
  if (missing.length > 0) throw new MissingMigrationsError(unique(missing));

  const changed = live
    .filter((r) => !scriptMatchesChecksum(byName.get(r.migration_name)!.script, r.checksum))
    .map((r) => r.migration_name);
  if (changed.length > 0) throw new MigrationChecksumMismatchError(unique(changed));

  const done = new Set(live.map((r) => r.migration_name));
  const pending = files.filter((f) => !done.has(f.name));
  const applied: string[] = [];
  for (const m of pending) {
    await applyOne(client, m, log);
    applied.push(m.name);
  }
  if (pending.length === 0) log("No pending migrations.");
  return applied;
}

async function applyOne(client: pg.Client, m: MigrationFile, log: (m: string) => void): Promise<void> {
  const id = randomUUID();
  log(`Applying migration ${m.name}`);
  await client.query("BEGIN");
  try {
    // A transaction-local marker: gone if the script ends our transaction.
    await client.query(`SELECT set_config('wan_portal.migration', $1, true)`, [id]);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, clock_timestamp(), 0)`,
      [id, m.checksum, m.name],
    );
    // No parameters: sent as one simple query, so a multi-statement script runs as is.
    await client.query(m.script.toString("utf8"));
    const marker = await client.query<{ v: string | null }>(
      `SELECT current_setting('wan_portal.migration', true) AS v`,
    );
    if (marker.rows[0]?.v !== id) {
      log(`Note: ${m.name} has its own transaction control; it was not applied atomically.`);
    }
    await client.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = applied_steps_count + 1
        WHERE id = $1`,
      [id],
    );
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    const message = describePgError(err, m.script.toString("utf8"));
    // Still there after the rollback: the script's own COMMIT made it (and
    // part of the script) permanent. Record the failure as Prisma does.
    const left = await client
      .query(`SELECT 1 FROM "_prisma_migrations" WHERE id = $1`, [id])
      .then((r) => (r.rowCount ?? 0) > 0)
      .catch(() => false);
    if (left) {
      await client
        .query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, message])
        .catch(() => {});
    }
    throw new MigrationFailedError(m.name, message, left, { cause: err });
  }
}

async function readMigrations(dir: string): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`Cannot read the migrations folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  // Byte-wise order of the folder names, as Prisma sorts them.
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: MigrationFile[] = [];
  for (const name of names) {
    const file = path.join(dir, name, "migration.sql");
    const ok = await stat(file).then((s) => s.isFile(), () => false);
    if (!ok) throw new Error(`Migration folder ${name} has no migration.sql (${file}).`);
    const script = await readFile(file);
    out.push({ name, script, checksum: sha256Hex(script) });
  }
  return out;
}

/** Prisma's checksum of a migration script: lowercase hex SHA-256 of its bytes. */
export function migrationChecksum(script: Buffer | string): string {
  return sha256Hex(typeof script === "string" ? Buffer.from(script, "utf8") : script);
}

function sha256Hex(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Prisma's `script_matches_checksum`: the script as is, with CRLF turned into
 * LF, or LF into CRLF (git may have changed line endings), and for checksums
 * of the wrong length the legacy format without zero padding.
 */
export function scriptMatchesChecksum(script: Buffer, checksum: string): boolean {
  const text = script.toString("utf8");
  const variants = [script, Buffer.from(text.replace(/\r\n/g, "\n")), Buffer.from(text.replace(/\n/g, "\r\n"))];
  return variants.some((v) => {
    const digest = createHash("sha256").update(v).digest();
    const formatted =
      checksum.length !== 64 && checksum.length > 0
        ? [...digest].map((b) => b.toString(16)).join("")
        : digest.toString("hex");
    return formatted === checksum;
  });
}

function describePgError(err: unknown, script: string): string {
  const e = err as { message?: string; position?: string; detail?: string; code?: string };
  let msg = e.message ?? String(err);
  if (e.code) msg += ` (SQLSTATE ${e.code})`;
  const pos = Number(e.position);
  if (Number.isInteger(pos) && pos > 0) {
    // `position` counts characters from 1 in the query text.
    const line = [...script].slice(0, pos - 1).join("").split("\n").length;
    msg += ` at line ${line} of migration.sql`;
  }
  if (e.detail) msg += `. ${e.detail}`;
  return msg;
}

function pgMessage(err: unknown): string {
  return (err as { message?: string }).message ?? String(err);
}

function list(names: string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}
