import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { loadOrCreateLocalSecrets, localSecretsFile } from "@/server/local-secrets.ts";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "wan-secrets-"));
  dirs.push(dir);
  return dir;
}

/** base64url of at least 24 random bytes. */
const SIMULATOR_KEY = /^[A-Za-z0-9_-]{32,}$/;
const mode = async (file: string) => (await stat(file)).mode & 0o777;

it("creates all the secrets in a new data folder (0600) and keeps them across calls", async () => {
  const dir = path.join(await tempDir(), "data");
  const first = await loadOrCreateLocalSecrets(dir);
  expect(first.simulatorKey).toMatch(SIMULATOR_KEY);
  expect(await mode(localSecretsFile(dir))).toBe(0o600);
  expect(await loadOrCreateLocalSecrets(dir)).toEqual(first);
});

it("adds simulatorKey to a file written before it existed, keeping every other value as it is", async () => {
  const dir = await tempDir();
  const file = localSecretsFile(dir);
  const old = { authSecret: "a".repeat(43), embeddedPgPassword: "p".repeat(24), somethingElse: 42 };
  await writeFile(file, JSON.stringify(old, null, 2) + "\n", { mode: 0o600 });

  const secrets = await loadOrCreateLocalSecrets(dir);
  expect(secrets).toEqual({ authSecret: old.authSecret, embeddedPgPassword: old.embeddedPgPassword, simulatorKey: expect.stringMatching(SIMULATOR_KEY) });
  const stored = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  expect(stored).toEqual({ ...old, simulatorKey: secrets.simulatorKey });
  expect(await mode(file)).toBe(0o600);

  const written = await readFile(file, "utf8");
  expect(await loadOrCreateLocalSecrets(dir)).toEqual(secrets);
  expect(await readFile(file, "utf8")).toBe(written); // not rewritten once complete
});

it("gives each data folder its own simulator key", async () => {
  const [a, b] = await Promise.all([tempDir(), tempDir()]);
  expect((await loadOrCreateLocalSecrets(a)).simulatorKey).not.toBe((await loadOrCreateLocalSecrets(b)).simulatorKey);
});

it("refuses a file whose values are not valid rather than replacing them", async () => {
  const dir = await tempDir();
  const file = localSecretsFile(dir);
  const bad = JSON.stringify({ authSecret: "a".repeat(43), embeddedPgPassword: "p".repeat(24), simulatorKey: "short" });
  await writeFile(file, bad, { mode: 0o600 });
  await expect(loadOrCreateLocalSecrets(dir)).rejects.toThrow(/is not valid/);
  expect(await readFile(file, "utf8")).toBe(bad);
});
