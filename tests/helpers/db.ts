/**
 * Per-test databases on the run's embedded PostgreSQL (tests/setup/global-setup.ts).
 * `createTestDatabase()` clones the migrated template (fast, a few ms);
 * `createEmptyDatabase()` gives a blank one (for migration tests).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { createDb, type Db } from "../../server/db/client.ts";

export interface TestDatabase {
  name: string;
  url: string;
  db: Db;
  drop(): Promise<void>;
}

export interface EmptyTestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = inject("pgAdminUrl");
  if (!url) throw new Error("pgAdminUrl was not provided: is tests/setup/global-setup.ts the globalSetup?");
  return url;
}

function urlFor(database: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function create(template: string | null): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `t_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${ident(name)}${template ? ` TEMPLATE ${ident(template)}` : ""}`));
  return {
    name,
    url: urlFor(name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`)).then(() => {}),
  };
}

/** A fresh database `t_<random>` with all migrations applied, and a Prisma client on it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = await create(inject("pgTemplateDb"));
  const db = createDb(base.url);
  return {
    ...base,
    db,
    async drop() {
      await db.$disconnect().catch(() => {});
      await base.drop();
    },
  };
}

/** A fresh, blank database `t_<random>` (no tables, no migrations). */
export async function createEmptyDatabase(): Promise<EmptyTestDatabase> {
  return create(null);
}
