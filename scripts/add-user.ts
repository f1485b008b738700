// npm run user:add -- <email> [--admin] [--name "Full Name"]
// Creates a portal account and prints its one-time password (or takes
// PASSWORD from the environment). Uses DATABASE_URL, or the embedded database
// of `npm start` when it is running with its defaults.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../server/config.ts";
import { createDb } from "../server/db/client.ts";
import { embeddedDatabaseUrl } from "../server/db/embedded.ts";
import { loadOrCreateLocalSecrets } from "../server/local-secrets.ts";
import { createUser } from "../server/users/users.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { admin: { type: "boolean", default: false }, name: { type: "string" } },
});
const email = positionals[0];
if (!email) {
  console.error('Usage: npm run user:add -- <email> [--admin] [--name "Full Name"]');
  process.exit(2);
}
const config = loadConfig();
let url = config.databaseUrl;
if (!url) {
  // The embedded database of `npm start` (it must be running).
  const secrets = await loadOrCreateLocalSecrets(path.resolve(config.dataDir));
  url = embeddedDatabaseUrl({ port: config.embeddedPgPort, password: secrets.embeddedPgPassword });
}
const db = createDb(url);
const password = process.env.PASSWORD || randomBytes(12).toString("base64url");
try {
  const user = await createUser(db, { email, password, name: values.name, role: values.admin ? "admin" : "member" }, { id: null, email: null });
  console.log(`Created ${user.role} ${user.email}`);
  if (!process.env.PASSWORD) console.log(`  password: ${password}  (shown once)`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
