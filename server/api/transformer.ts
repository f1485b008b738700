/**
 * tRPC's data transformer: superjson's format, written faster for the common
 * case. A list page answers with tens of rows of plain objects, strings,
 * numbers and dates; superjson's general walker (every value's type checked
 * against every registered rule, paths kept as arrays, identities tracked)
 * was the largest single cost of `tasks.history` (13 % of the web process's
 * CPU under load, docs/benchmarks.md). `serialize` walks such a value once and
 * writes exactly what superjson would (`{ json, meta: { values, v: 1 } }`,
 * dates as ISO strings, `undefined` as null plus a mark); anything else (a
 * Map, a Set, a bigint, a class instance, NaN, a key with a dot, an object
 * met twice) is handed to superjson itself. Inputs are read by superjson, and
 * the browser's client keeps superjson for both directions: one format.
 * tests/unit/transformer.test.ts compares both writers.
 */
import superjson from "superjson";

type Mark = ["Date"] | ["undefined"];

/** Thrown inside the walk when a value needs superjson's general rules. */
const GENERAL = Symbol("general");

function walk(value: unknown, path: string, marks: Record<string, Mark>, seen: Set<object>): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value) || Object.is(value, -0)) throw GENERAL;
      return value;
    case "undefined":
      marks[path] = ["undefined"];
      return null;
    case "object":
      break;
    default:
      throw GENERAL;
  }
  const object = value as object;
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) throw GENERAL;
    marks[path] = ["Date"];
    return object.toISOString();
  }
  // superjson records an object met twice (referential equality): its own writer does that.
  if (seen.has(object)) throw GENERAL;
  seen.add(object);
  const prefix = path === "" ? "" : `${path}.`;
  if (Array.isArray(object)) {
    const out = new Array<unknown>(object.length);
    for (let i = 0; i < object.length; i++) out[i] = walk(object[i], prefix + i, marks, seen);
    return out;
  }
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) throw GENERAL;
  const out: Record<string, unknown> = {};
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    // superjson escapes these in paths; rare enough to leave to it.
    if (key.includes(".") || key.includes("\\") || key === "__proto__") throw GENERAL;
    out[key] = walk((object as Record<string, unknown>)[key], prefix + key, marks, seen);
  }
  return out;
}

export function serialize(value: unknown): ReturnType<typeof superjson.serialize> {
  // A bare date or undefined at the top has a meta of another shape: superjson's.
  if (value === undefined || value instanceof Date) return superjson.serialize(value);
  const marks: Record<string, Mark> = {};
  let json: unknown;
  try {
    json = walk(value, "", marks, new Set());
  } catch (err) {
    if (err === GENERAL) return superjson.serialize(value);
    throw err;
  }
  for (const _ in marks) return { json, meta: { values: marks, v: 1 } } as ReturnType<typeof superjson.serialize>;
  return { json } as ReturnType<typeof superjson.serialize>;
}

export const transformer = { serialize, deserialize: superjson.deserialize.bind(superjson) };
