/**
 * tRPC's data transformer: superjson's format, written faster for the common
 * case. A list page answers with tens of rows of plain objects, strings,
 * numbers and dates; superjson's general walker (every value's type checked
 * against every registered rule, a copy of every object, paths kept as
 * arrays, identities tracked) was the largest single cost of `tasks.history`
 * (13 % of the web process's CPU under load, docs/benchmarks.md).
 * `serialize` walks such a value once without copying it: the value itself
 * is the `json` part (JSON.stringify writes a date as its ISO string, as
 * superjson does) and the walk collects the dates' paths for `meta`, so the
 * text on the wire is exactly superjson's. Anything else (undefined, a Map, a
 * Set, a bigint, a class instance, NaN, a key with a dot, an object met
 * twice) is handed to superjson itself. Inputs are read by superjson, and the
 * browser's client keeps superjson for both directions: one format.
 * tests/unit/transformer.test.ts compares both writers' wire text.
 */
import superjson from "superjson";

type Serialized = ReturnType<typeof superjson.serialize>;

/** Thrown inside the walk when a value needs superjson's general rules. */
const GENERAL = Symbol("general");

/** Checks that `value` (at `path`) is plain, and records the paths of its dates. */
function walk(value: object, path: string, dates: Record<string, ["Date"]>, seen: Set<object>): void {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw GENERAL;
    dates[path] = ["Date"];
    return;
  }
  // superjson records an object met twice (referential equality): its own writer does that.
  if (seen.has(value)) throw GENERAL;
  seen.add(value);
  const prefix = path === "" ? "" : `${path}.`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (!isPlainScalar(item)) walk(objectOrGeneral(item), prefix + i, dates, seen);
    }
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw GENERAL;
  for (const key of Object.keys(value)) {
    // superjson escapes these in paths; rare enough to leave to it.
    if (key.includes(".") || key.includes("\\") || key === "__proto__") throw GENERAL;
    const item = (value as Record<string, unknown>)[key];
    // Most values are strings, numbers, booleans or null: nothing to check further.
    if (!isPlainScalar(item)) walk(objectOrGeneral(item), prefix + key, dates, seen);
  }
}

/** A value written as it is, with no mark: null, a string, a boolean, a finite number other than -0. */
function isPlainScalar(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object":
      return value === null;
    default:
      return false;
  }
}

function objectOrGeneral(value: unknown): object {
  // undefined (superjson writes null plus a mark; JSON would drop the key), bigint, symbol, function, NaN…
  if (typeof value !== "object" || value === null) throw GENERAL;
  return value;
}

export function serialize(value: unknown): Serialized {
  if (isPlainScalar(value)) return { json: value } as Serialized;
  // A bare date has a meta of another shape: superjson's.
  if (typeof value !== "object" || value === null || value instanceof Date) return superjson.serialize(value);
  const dates: Record<string, ["Date"]> = {};
  try {
    walk(value, "", dates, new Set());
  } catch (err) {
    if (err === GENERAL) return superjson.serialize(value);
    throw err;
  }
  for (const _ in dates) return { json: value, meta: { values: dates, v: 1 } } as Serialized;
  return { json: value } as Serialized;
}

export const transformer = { serialize, deserialize: superjson.deserialize.bind(superjson) };
