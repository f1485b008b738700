import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { buildIsStale } from "@/server/runtime/launch.ts";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

it("rebuilds when there is no build, or when a source is newer than it, ignoring generated code", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "wan-build-"));
  dirs.push(dir);
  await mkdir(path.join(dir, "server", "db", "generated"), { recursive: true });
  await mkdir(path.join(dir, ".next"));
  await writeFile(path.join(dir, "server", "a.ts"), "");
  expect(await buildIsStale(dir)).toBe("No production build yet");

  const t0 = new Date(Date.now() - 60_000);
  await utimes(path.join(dir, "server", "a.ts"), t0, t0);
  await writeFile(path.join(dir, ".next", "BUILD_ID"), "x");
  expect(await buildIsStale(dir)).toBeNull();

  await writeFile(path.join(dir, "server", "db", "generated", "client.ts"), ""); // regenerated on every start
  expect(await buildIsStale(dir)).toBeNull();

  const later = new Date(Date.now() + 60_000);
  await utimes(path.join(dir, "server", "a.ts"), later, later);
  expect(await buildIsStale(dir)).toBe("The code changed since the last build");
});
