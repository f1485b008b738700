/**
 * Before the fault suite: the Prisma client, and a production build of the
 * current code (the one `npm test` made is reused when nothing changed since;
 * otherwise `next build` runs, as `npm start` would).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { buildIsStale } from "../../server/runtime/launch.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

function run(args: string[]): void {
  const res = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (res.status !== 0) throw new Error(`node ${args.join(" ")} failed (exit ${res.status})`);
}

export default async function setup(): Promise<void> {
  if (!existsSync(path.join(ROOT, "server/db/generated/client.ts"))) run([path.join(ROOT, "scripts/prisma-generate.mjs")]);
  const stale = await buildIsStale(ROOT);
  if (stale) {
    console.log(`[faults] ${stale}: running next build`);
    run([path.join(ROOT, "node_modules/next/dist/bin/next"), "build"]);
  }
}
