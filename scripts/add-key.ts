// npm run key:add -- <email> [name] [--expires-in-days N]
// Makes a personal API key for a person of the team and prints it, with its
// webhook signing secret, once. Uses DATABASE_URL and AUTH_SECRET, or the
// embedded database and local secret of `npm start` (it must be running) when
// they are not set, like `npm run user:add`.
import path from "node:path";
import { parseArgs } from "node:util";
import { createApiKeyForEmail } from "../server/apikeys/apikeys.ts";
import { loadConfig } from "../server/config.ts";
import { createDb } from "../server/db/client.ts";
import { embeddedDatabaseUrl } from "../server/db/embedded.ts";
import { AppError } from "../server/errors.ts";
import { loadOrCreateLocalSecrets } from "../server/local-secrets.ts";
import { ZodError } from "zod";

const USAGE = "Usage: npm run key:add -- <email> [name] [--expires-in-days N]";
let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { "expires-in-days": { type: "string" } } });
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = parsed;
const [email, name = "Command line", ...rest] = positionals;
const days = values["expires-in-days"];
if (!email || rest.length > 0 || (days !== undefined && !/^\d+$/.test(days))) {
  console.error(USAGE);
  process.exit(2);
}

const config = loadConfig();
let url = config.databaseUrl;
let serverSecret = config.authSecret;
if (!url || !serverSecret) {
  // The embedded database and the generated secret of `npm start`.
  const secrets = await loadOrCreateLocalSecrets(path.resolve(config.dataDir));
  url ??= embeddedDatabaseUrl({ port: config.embeddedPgPort, password: secrets.embeddedPgPassword });
  serverSecret ??= secrets.authSecret;
}
const db = createDb(url);
try {
  const made = await createApiKeyForEmail({ db, serverSecret, maxActivePerPerson: config.apiKeys.maxActivePerPerson }, email, {
    name,
    ...(days !== undefined && { expiresInDays: Number(days) }),
  });
  console.log(`Made the API key "${made.key.name}" for ${made.owner.email}${made.key.expiresAt ? `, working until ${made.key.expiresAt.toISOString()}` : ""}.`);
  console.log(`  key:            ${made.secret}`);
  console.log(`  signing secret: ${made.signingSecret}`);
  console.log("Both are shown once: keep them now. The portal keeps only a hash of the key; lists show it as " + `${made.key.prefix}…`);
} catch (err) {
  if (err instanceof AppError) console.error(err.message);
  else if (err instanceof ZodError) console.error(err.issues.map((i) => i.message).join("\n"));
  else console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
