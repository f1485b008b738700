/**
 * Fails when prisma/schema.prisma and prisma/migrations disagree (someone
 * changed the schema without `npm run migration:new`, or edited a migration).
 *
 * Database A: the migrations applied. Database B: the SQL Prisma generates for
 * schema.prisma from scratch (offline, scripts/lib/schema-diff.ts). Both are
 * then compared from PostgreSQL's catalogs: tables, columns (type, udt,
 * nullability, default), enums (labels in order), indexes, constraints.
 * Column order is not compared (migrations add columns at the end).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyMigrations, DEFAULT_MIGRATIONS_DIR } from "../../server/db/migrate.ts";
import { diffSchemas } from "../../scripts/lib/schema-diff.ts";
import { createEmptyDatabase, type EmptyTestDatabase } from "../helpers/db.ts";

const SCHEMA_FILE = path.join(path.dirname(DEFAULT_MIGRATIONS_DIR), "schema.prisma");
const IGNORED_TABLES = new Set(["_prisma_migrations"]);
/**
 * Indexes that schema.prisma cannot express (INCLUDE columns), created by
 * hand-written migrations: left out of the comparison, and checked on their
 * own against the definition here.
 */
const RAW_SQL_INDEXES = new Map([
  [
    '"Task_usage_covering_idx"',
    'CREATE INDEX "Task_usage_covering_idx" ON "Task" USING btree ("createdAt") INCLUDE ("userId", status, mode, quality, "billedSeconds", cost, "errorCode", "apiKeyId")',
  ],
]);

/** Category → object key → readable definition. */
type Snapshot = Record<string, Map<string, string>>;

/** Drops `public.` / `"public".` qualifiers outside string literals. */
function unqualify(def: string): string {
  return def
    .split(/('(?:[^']|'')*')/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/(?<![\w"])"?public"?\./g, "")))
    .join("");
}

async function snapshot(url: string): Promise<Snapshot> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const q = async <T extends pg.QueryResultRow>(sql: string) => (await c.query<T>(sql)).rows;
    const keep = (table: string) => !IGNORED_TABLES.has(table);
    const snap: Snapshot = {};

    snap.table = new Map(
      (
        await q<{ name: string; kind: string }>(
          `SELECT c.relname AS name, c.relkind::text AS kind FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`,
        )
      )
        .filter((r) => keep(r.name))
        .map((r) => [`"${r.name}"`, r.kind === "p" ? "partitioned table" : "table"]),
    );

    snap.column = new Map(
      (
        await q<{
          t: string; col: string; data_type: string; udt_name: string; full_type: string;
          is_nullable: string; column_default: string | null; is_identity: string; is_generated: string;
        }>(
          `SELECT c.table_name AS t, c.column_name AS col, c.data_type, c.udt_name,
                  format_type(a.atttypid, a.atttypmod) AS full_type,
                  c.is_nullable, c.column_default, c.is_identity, c.is_generated
             FROM information_schema.columns c
             JOIN pg_attribute a
               ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass
              AND a.attname = c.column_name
            WHERE c.table_schema = 'public'`,
        )
      )
        .filter((r) => keep(r.t))
        .map((r) => [
          `"${r.t}"."${r.col}"`,
          `${unqualify(r.full_type)} (${r.data_type}, udt ${r.udt_name})` +
            `${r.is_nullable === "NO" ? " NOT NULL" : " NULL"}` +
            `${r.column_default !== null ? ` DEFAULT ${unqualify(r.column_default)}` : ""}` +
            `${r.is_identity === "YES" ? " IDENTITY" : ""}${r.is_generated !== "NEVER" ? ` GENERATED ${r.is_generated}` : ""}`,
        ]),
    );

    snap.enum = new Map(
      (
        await q<{ name: string; labels: string[] }>(
          `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
             JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = 'public' GROUP BY t.typname`,
        )
      ).map((r) => [`"${r.name}"`, `(${r.labels.map((l) => `'${l}'`).join(", ")})`]),
    );

    snap.index = new Map(
      (
        await q<{ t: string; name: string; def: string }>(
          `SELECT tablename AS t, indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = 'public'`,
        )
      )
        .filter((r) => keep(r.t))
        .map((r) => [`"${r.name}"`, unqualify(r.def)]),
    );

    // NOT NULL constraints (pg_constraint rows since PostgreSQL 18) are covered
    // by the columns' nullability; their names follow column renames loosely.
    snap.constraint = new Map(
      (
        await q<{ t: string; name: string; def: string }>(
          `SELECT cl.relname AS t, co.conname AS name, pg_get_constraintdef(co.oid) AS def
             FROM pg_constraint co
             JOIN pg_class cl ON cl.oid = co.conrelid
             JOIN pg_namespace n ON n.oid = cl.relnamespace
            WHERE n.nspname = 'public' AND co.contype <> 'n'`,
        )
      )
        .filter((r) => keep(r.t))
        .map((r) => [`"${r.t}"."${r.name}"`, unqualify(r.def)]),
    );
    return snap;
  } finally {
    await c.end();
  }
}

/** Readable differences; "migrations" is A, "schema.prisma" is B. */
function compare(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  for (const kind of Object.keys({ ...a, ...b })) {
    const ma = a[kind] ?? new Map<string, string>();
    const mb = b[kind] ?? new Map<string, string>();
    for (const key of [...new Set([...ma.keys(), ...mb.keys()])].sort()) {
      const da = ma.get(key);
      const db = mb.get(key);
      if (da === db) continue;
      if (kind === "index" && RAW_SQL_INDEXES.has(key) && db === undefined) continue;
      if (da === undefined) out.push(`${kind} ${key}: in schema.prisma (${db}) but not in the migrations`);
      else if (db === undefined) out.push(`${kind} ${key}: in the migrations (${da}) but not in schema.prisma`);
      else out.push(`${kind} ${key}: differs\n    migrations:    ${da}\n    schema.prisma: ${db}`);
    }
  }
  return out;
}

const created: EmptyTestDatabase[] = [];
afterAll(async () => {
  await Promise.all(created.map((d) => d.drop().catch(() => {})));
});

async function databaseFromSql(sql: string): Promise<string> {
  const d = await createEmptyDatabase();
  created.push(d);
  const c = new pg.Client({ connectionString: d.url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
  return d.url;
}

/** The schema with one more column on User and one more TaskStatus label. */
function modified(schema: string): string {
  const out = schema
    .replace(/^(model User \{\r?\n)/m, "$1  driftProbe String?\n")
    .replace(/^(enum TaskStatus \{[\s\S]*?)^\}/m, "$1  drift_probe\n}");
  expect(out).toContain("driftProbe String?");
  expect(out).toContain("drift_probe");
  return out;
}

describe("schema drift: prisma/schema.prisma vs prisma/migrations", () => {
  let fromMigrations: Snapshot;
  let fromSchema: Snapshot;
  let fromModifiedSchema: Snapshot;

  beforeAll(async () => {
    const schema = await readFile(SCHEMA_FILE, "utf8");
    const databaseUrl = inject("pgAdminUrl");
    const a = await createEmptyDatabase();
    created.push(a);
    const [sql, modifiedSql] = await Promise.all([
      diffSchemas({ from: null, to: schema, databaseUrl }),
      diffSchemas({ from: null, to: modified(schema), databaseUrl }),
      applyMigrations(a.url),
    ]);
    const [b, bModified] = await Promise.all([databaseFromSql(sql), databaseFromSql(modifiedSql)]);
    [fromMigrations, fromSchema, fromModifiedSchema] = await Promise.all([snapshot(a.url), snapshot(b), snapshot(bModified)]);
  });

  it("the migrations build exactly the database that schema.prisma describes", () => {
    expect(fromMigrations.table!.size).toBeGreaterThan(0);
    const diffs = compare(fromMigrations, fromSchema);
    if (diffs.length > 0) {
      expect.fail(
        `prisma/schema.prisma and prisma/migrations disagree (${diffs.length} difference(s)):\n  ` +
          diffs.join("\n  ") +
          `\nCreate a migration for schema changes with \`npm run migration:new -- <name>\`; ` +
          `never edit an applied migration.`,
      );
    }
  });

  it("the migrations create the indexes schema.prisma cannot express, as defined", () => {
    for (const [name, def] of RAW_SQL_INDEXES) expect(fromMigrations.index!.get(name)).toBe(def);
  });

  it("self-check: the comparison does notice a schema change", () => {
    const diffs = compare(fromMigrations, fromModifiedSchema);
    expect(diffs).toContainEqual(expect.stringMatching(/^column "User"\."driftProbe": in schema\.prisma \(text/));
    expect(diffs).toContainEqual(expect.stringMatching(/^enum "TaskStatus": differs/));
    expect(diffs.join("\n")).toContain("'drift_probe'");
  });

  it("self-check: qualifier normalisation keeps string literals", () => {
    expect(unqualify(`CREATE INDEX "i" ON public."Task" USING btree ("status") WHERE (x = 'public.y'::text)`)).toBe(
      `CREATE INDEX "i" ON "Task" USING btree ("status") WHERE (x = 'public.y'::text)`,
    );
  });
});
