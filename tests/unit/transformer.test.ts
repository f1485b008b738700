import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { serialize } from "@/server/api/transformer.ts";

const row = (i: number) => ({
  id: `task-${i}`,
  status: i % 2 ? "completed" : "failed",
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
  completedAt: i % 3 ? null : new Date(Date.UTC(2026, 0, 2)),
  progress: i * 1.5,
  resultUrls: [`https://example.test/${i}.mp4`],
  error: i % 2 ? undefined : { code: "content_policy", message: "Refused" },
  nested: { deep: [{ at: new Date(0) }, null, undefined] },
});

describe("tRPC transformer", () => {
  const cases: Array<[string, unknown]> = [
    ["a list page", { tasks: Array.from({ length: 20 }, (_, i) => row(i)), nextCursor: "abc", timeZone: "Europe/Berlin" }],
    ["no dates at all", { ok: true, n: 3, s: "x", list: [1, 2, 3], empty: {} }],
    ["a top-level array", [new Date(5), "x", undefined]],
    ["a top-level array of dates and rows", [new Date(5), { at: new Date(6), n: 1 }, null]],
    ["a top-level number", 42],
    ["a key named toJSON", { toJSON: "x", at: new Date(1) }],
    ["a string", "hello"],
    ["null", null],
    ["a date", new Date(7)],
    ["undefined", undefined],
    ["a Map", { m: new Map([["a", 1]]) }],
    ["a Set", { s: new Set([1]) }],
    ["a bigint", { b: BigInt(12) }],
    ["NaN and -0", { a: Number.NaN, b: -0, c: Number.POSITIVE_INFINITY }],
    ["an invalid date", { d: new Date(Number.NaN) }],
    ["a key with a dot", { "a.b": new Date(1) }],
    ["a class instance", { e: new Error("boom") }],
    ["an object met twice", (() => { const shared = { a: new Date(1) }; return { p: shared, q: shared }; })()],
    ["a null-prototype object", Object.assign(Object.create(null) as object, { at: new Date(3) })],
  ];

  it.each(cases)("puts on the wire exactly what superjson does: %s", (_, value) => {
    expect(JSON.stringify(serialize(value))).toBe(JSON.stringify(superjson.serialize(value)));
  });

  it("writes the rows themselves (no copy) when they are plain", () => {
    const page = { tasks: [row(1), row(2)].map((r) => ({ ...r, error: null, nested: { deep: [{ at: new Date(0) }, null] } })), nextCursor: null };
    const out = serialize(page) as { json: unknown; meta?: { values: Record<string, unknown> } };
    expect(out.json).toBe(page);
    expect(Object.keys(out.meta!.values)).toContain("tasks.1.createdAt");
  });

  it.each(cases)("reads back with superjson: %s", (_, value) => {
    const wire = JSON.parse(JSON.stringify(serialize(value)));
    expect(superjson.deserialize(wire)).toEqual(superjson.deserialize(JSON.parse(JSON.stringify(superjson.serialize(value)))));
  });
});
