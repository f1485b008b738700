/**
 * `npm run db:migrate`: applies pending migrations in prisma/migrations to the
 * database at DATABASE_URL, offline (see server/db/migrate.ts).
 */
import { applyMigrations } from "../server/db/migrate.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error(
    "DATABASE_URL is not set. Point it at the database to migrate, e.g.\n" +
      "  DATABASE_URL=postgresql://postgres:PASSWORD@127.0.0.1:5432/wan_portal npm run db:migrate",
  );
  process.exit(1);
}

try {
  const { applied } = await applyMigrations(url, { log: (m) => console.log(m) });
  if (applied.length === 0) {
    console.log("Database is up to date; no migrations applied.");
  } else {
    console.log(`Applied ${applied.length} migration${applied.length > 1 ? "s" : ""}:`);
    for (const name of applied) console.log(`  ${name}`);
  }
} catch (err) {
  console.error(`db:migrate failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
