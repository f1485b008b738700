import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { assertEnterableByOthers } from "@/server/db/embedded.ts";

let dir: string;
afterAll(async () => {
  await chmod(dir, 0o755).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

it("names the folder the postgres user could not enter", async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "wan-access-"));
  await chmod(dir, 0o755);
  await expect(assertEnterableByOthers(path.join(dir, "data"))).resolves.toBeUndefined();
  const closed = path.join(dir, "private");
  await mkdir(closed, { mode: 0o700 });
  await chmod(closed, 0o700);
  await expect(assertEnterableByOthers(path.join(closed, "data"))).rejects.toThrow(`cannot enter ${closed} (mode 700)`);
});
