/**
 * Secrets the portal generates for itself on first start when none are
 * configured (local use): kept in <DATA_DIR>/local-secrets.json, mode 0600.
 * A secret added in a later version (simulatorKey) is added to an existing
 * file; values already there are never regenerated (the embedded database's
 * password in particular cannot change under its data).
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

const secretsSchema = z.object({
  authSecret: z.string().min(32),
  embeddedPgPassword: z.string().min(16),
  /** The local provider simulator's API key (it also guards its control API). */
  simulatorKey: z.string().min(32),
});
export type LocalSecrets = z.infer<typeof secretsSchema>;

/** What a file written before a secret existed may lack. */
const storedSchema = secretsSchema.partial({ simulatorKey: true });

const newSimulatorKey = () => randomBytes(24).toString("base64url");

/** Where a data folder's secrets are kept. */
export function localSecretsFile(dataDir: string): string {
  return path.join(dataDir, "local-secrets.json");
}

export async function loadOrCreateLocalSecrets(dataDir: string): Promise<LocalSecrets> {
  const file = localSecretsFile(dataDir);
  if (existsSync(file)) {
    const raw: unknown = JSON.parse(await readFile(file, "utf8"));
    const parsed = storedSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${file} is not valid; delete it only together with ${path.join(dataDir, "pg")}.`);
    if (parsed.data.simulatorKey !== undefined) return { ...parsed.data, simulatorKey: parsed.data.simulatorKey };
    const secrets: LocalSecrets = { ...parsed.data, simulatorKey: newSimulatorKey() };
    // Keep everything the file holds, exactly as it is, and add the new key.
    await writeSecrets(file, { ...(raw as Record<string, unknown>), simulatorKey: secrets.simulatorKey });
    return secrets;
  }
  const secrets: LocalSecrets = {
    authSecret: randomBytes(32).toString("base64url"),
    embeddedPgPassword: randomBytes(18).toString("base64url"),
    simulatorKey: newSimulatorKey(),
  };
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
  return secrets;
}

/** Replaces the file through a new 0600 file and a rename, so a crash cannot leave it half written. */
async function writeSecrets(file: string, contents: Record<string, unknown>): Promise<void> {
  const temp = `${file}.tmp`;
  await rm(temp, { force: true });
  await writeFile(temp, JSON.stringify(contents, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  await rename(temp, file);
}
