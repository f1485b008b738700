import { describe, expect, it } from "vitest";
import { needsCompaction, pruneTasks } from "@/server/simulator/store.ts";

const DAY = 24 * 3600_000;
const NOW = 100 * DAY;
const task = (id: string, status: "pending" | "processing" | "completed" | "failed", endedAt?: number) => ({
  task: { id, status, created: Math.floor(((endedAt ?? NOW) - 60_000) / 1000) },
  ...(endedAt !== undefined && { endedAt }),
});
const ids = (list: Array<{ task: { id: string } }>) => list.map((t) => t.task.id).sort();

describe("the simulator's task store", () => {
  it("keeps every running task and only the newest finished ones within the age limit", () => {
    const tasks = [
      task("running-old", "processing"),
      task("pending", "pending"),
      task("done-new", "completed", NOW - 1000),
      task("done-mid", "failed", NOW - 2000),
      task("done-older", "completed", NOW - 3000),
      task("done-too-old", "completed", NOW - 8 * DAY),
    ];
    const { kept, dropped } = pruneTasks(tasks as never, { maxFinished: 2, maxFinishedAgeMs: 7 * DAY, now: () => NOW });
    expect(ids(kept)).toEqual(["done-mid", "done-new", "pending", "running-old"]);
    expect(ids(dropped)).toEqual(["done-older", "done-too-old"]);
  });

  it("rewrites the file only once it has grown well past the tasks it holds", () => {
    expect(needsCompaction(9_000, 100)).toBe(false);
    expect(needsCompaction(10_001, 100)).toBe(true);
    expect(needsCompaction(30_000, 10_000)).toBe(false);
    expect(needsCompaction(40_001, 10_000)).toBe(true);
  });
});
