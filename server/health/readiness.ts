/**
 * Readiness: whether this instance can do its work now, for a load balancer
 * or an orchestrator (`/api/ready`). Liveness (`/api/health`) only says the
 * process answers. Ready means:
 *   - the database answers;
 *   - every migration in prisma/migrations is applied (an instance started
 *     on an older schema, or before `npm run db:migrate`, is not ready);
 *   - the job queue's tables exist (pg-boss creates them when a worker first
 *     starts; the web instances only need them to be there).
 * Each check answers in words an operator can act on; no internals.
 */
import { readdir } from "node:fs/promises";
import type pg from "pg";
import { DEFAULT_MIGRATIONS_DIR } from "../db/migrate.ts";

export type CheckResult = { ok: true } | { ok: false; problem: string };

export interface Readiness {
  ready: boolean;
  checks: { database: CheckResult; migrations: CheckResult; queue: CheckResult };
}

export interface ReadinessDeps {
  /** Runs one query on a pooled connection. */
  query: <R extends pg.QueryResultRow>(sql: string) => Promise<R[]>;
  migrationsDir?: string;
  /** pg-boss's schema (server/jobs/worker.ts). */
  queueSchema?: string;
}

const OK: CheckResult = { ok: true };

/** What `/api/ready` answers while this instance shuts down (server/http/graceful.ts): a proxy or orchestrator stops sending it requests. */
export const SHUTTING_DOWN = { ready: false, problem: "this instance is shutting down; its requests in flight are finishing" } as const;

/** The migrations this build ships: the folder names under prisma/migrations. */
async function shippedMigrations(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const notChecked: CheckResult = { ok: false, problem: "not checked: the database does not answer" };
  try {
    await deps.query("SELECT 1");
  } catch {
    const database: CheckResult = { ok: false, problem: "the database does not answer; check DATABASE_URL and that PostgreSQL is running" };
    return { ready: false, checks: { database, migrations: notChecked, queue: notChecked } };
  }

  let migrations: CheckResult = OK;
  try {
    const shipped = await shippedMigrations(deps.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
    const rows = await deps.query<{ name: string }>(
      `SELECT migration_name AS name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const applied = new Set(rows.map((r) => r.name));
    const pending = shipped.filter((m) => !applied.has(m));
    if (pending.length > 0) {
      migrations = { ok: false, problem: `${pending.length} migration${pending.length === 1 ? " is" : "s are"} not applied yet; run \`npm run db:migrate\`` };
    }
  } catch {
    migrations = { ok: false, problem: "the schema has never been migrated; run `npm run db:migrate`" };
  }

  let queue: CheckResult = OK;
  const schema = deps.queueSchema ?? "pgboss";
  const found = await deps.query<{ t: string | null }>(`SELECT to_regclass('${schema.replace(/[^a-z0-9_]/gi, "")}.job')::text AS t`).catch(() => null);
  if (!found || found[0]?.t == null) queue = { ok: false, problem: "the job queue's tables do not exist yet; start a worker (`npm run worker`) once" };

  return { ready: migrations.ok && queue.ok, checks: { database: OK, migrations, queue } };
}
