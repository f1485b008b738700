/**
 * pg-boss 10 records a job's end without awaiting it; while PostgreSQL
 * restarts that rejection went unhandled and ended the worker process (found
 * by the fault suite, tests/faults). The guard logs it; awaiting callers still
 * get the error.
 */
import { createRequire } from "node:module";
import { expect, it } from "vitest";
import { guardJobEndings } from "@/server/jobs/worker.ts";

type Ending = (name: string, id: string, data?: unknown, options?: { db: { executeSql: () => Promise<never> } }) => Promise<unknown>;

it("a job ending that fails because the database is down is logged, not left unhandled", async () => {
  const lines: string[] = [];
  guardJobEndings((l) => lines.push(l));
  const { prototype } = createRequire(import.meta.url)("pg-boss/src/manager.js") as { prototype: Record<"complete" | "fail", Ending> };
  const manager = Object.create(prototype) as Record<"complete" | "fail", Ending>;
  const down = { db: { executeSql: () => Promise.reject(new Error("the database system is shutting down")) } };
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    // As pg-boss's worker loop calls them: not awaited.
    void manager.complete("archive-result", "00000000-0000-4000-8000-000000000001", undefined, down);
    void manager.fail("archive-result", "00000000-0000-4000-8000-000000000002", new Error("x"), down);
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
    expect(lines).toEqual([
      "[worker] could not record a job's completion (it runs again after it expires): the database system is shutting down",
      "[worker] could not record a job's failure (it runs again after it expires): the database system is shutting down",
    ]);
    // A caller that awaits still sees the error.
    await expect(manager.complete("archive-result", "00000000-0000-4000-8000-000000000003", undefined, down)).rejects.toThrow("shutting down");
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});
