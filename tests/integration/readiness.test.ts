/**
 * /api/ready's checks against real databases: a migrated one with the queue's
 * tables is ready; a pending migration, a missing queue, a blank database and
 * one that does not answer are not, each with what to do.
 */
import { mkdtemp, mkdir, readdir, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MIGRATIONS_DIR } from "@/server/db/migrate.ts";
import { checkReadiness } from "@/server/health/readiness.ts";
import { createEmptyDatabase, createTestDatabase, type EmptyTestDatabase, type TestDatabase } from "../helpers/db.ts";

function querier(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 2000 });
  return { query: async <R extends pg.QueryResultRow>(sql: string) => (await pool.query<R>(sql)).rows, end: () => pool.end() };
}

describe("readiness", () => {
  let migrated: TestDatabase;
  let blank: EmptyTestDatabase;
  let tmp: string;
  beforeAll(async () => {
    migrated = await createTestDatabase();
    blank = await createEmptyDatabase();
    tmp = await mkdtemp(path.join(os.tmpdir(), "ready-"));
  });
  afterAll(async () => {
    await migrated.drop();
    await blank.drop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("is ready on a migrated database once the queue's tables exist, and says what is missing before", async () => {
    const q = querier(migrated.url);
    try {
      const before = await checkReadiness({ query: q.query, queueSchema: "pgboss_ready_test" });
      expect(before.ready).toBe(false);
      expect(before.checks.database).toEqual({ ok: true });
      expect(before.checks.migrations).toEqual({ ok: true });
      expect(before.checks.queue).toMatchObject({ ok: false, problem: expect.stringContaining("start a worker") });

      await q.query("CREATE SCHEMA pgboss_ready_test");
      await q.query("CREATE TABLE pgboss_ready_test.job (id int)");
      expect(await checkReadiness({ query: q.query, queueSchema: "pgboss_ready_test" })).toEqual({
        ready: true,
        checks: { database: { ok: true }, migrations: { ok: true }, queue: { ok: true } },
      });
    } finally {
      await q.end();
    }
  });

  it("is not ready while a migration this build ships is not applied", async () => {
    // The shipped migrations plus one more, as after an upgrade before `npm run db:migrate`.
    const dir = path.join(tmp, "migrations");
    await mkdir(dir);
    for (const name of await readdir(DEFAULT_MIGRATIONS_DIR)) await symlink(path.join(DEFAULT_MIGRATIONS_DIR, name), path.join(dir, name));
    await mkdir(path.join(dir, "29990101000000_from_the_future"));
    const q = querier(migrated.url);
    try {
      const r = await checkReadiness({ query: q.query, migrationsDir: dir, queueSchema: "pgboss_ready_test" });
      expect(r.ready).toBe(false);
      expect(r.checks.migrations).toEqual({ ok: false, problem: "1 migration is not applied yet; run `npm run db:migrate`" });
    } finally {
      await q.end();
    }
  });

  it("is not ready on a database that was never migrated", async () => {
    const q = querier(blank.url);
    try {
      const r = await checkReadiness({ query: q.query });
      expect(r.ready).toBe(false);
      expect(r.checks.migrations).toEqual({ ok: false, problem: "the schema has never been migrated; run `npm run db:migrate`" });
    } finally {
      await q.end();
    }
  });

  it("is not ready when the database does not answer, and says so without internals", async () => {
    const q = querier("postgres://nobody:secret@127.0.0.1:1/none");
    try {
      const r = await checkReadiness({ query: q.query });
      expect(r.ready).toBe(false);
      expect(r.checks.database).toEqual({ ok: false, problem: "the database does not answer; check DATABASE_URL and that PostgreSQL is running" });
      expect(JSON.stringify(r)).not.toMatch(/ECONNREFUSED|secret|127\.0\.0\.1/);
    } finally {
      await q.end();
    }
  });
});
