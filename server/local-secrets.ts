/**
 * Secrets the portal generates for itself on first start when none are
 * configured (local use): kept in <DATA_DIR>/local-secrets.json, mode 0600.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

const secretsSchema = z.object({
  authSecret: z.string().min(32),
  embeddedPgPassword: z.string().min(16),
});
export type LocalSecrets = z.infer<typeof secretsSchema>;

export async function loadOrCreateLocalSecrets(dataDir: string): Promise<LocalSecrets> {
  const file = path.join(dataDir, "local-secrets.json");
  if (existsSync(file)) {
    const parsed = secretsSchema.safeParse(JSON.parse(await readFile(file, "utf8")));
    if (parsed.success) return parsed.data;
    throw new Error(`${file} is not valid; delete it only together with ${path.join(dataDir, "pg")}.`);
  }
  const secrets: LocalSecrets = {
    authSecret: randomBytes(32).toString("base64url"),
    embeddedPgPassword: randomBytes(18).toString("base64url"),
  };
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
  return secrets;
}
