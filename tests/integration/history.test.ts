/**
 * One's history: filters, orders and keyset pages over random tasks; every
 * page walk returns exactly the filtered set, in order, once; the totals are
 * the filtered set's sums; nobody else's task ever appears.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dayBounds } from "@/server/usage/periods.ts";
import { filtersFromSearchParams, filtersToSearchParams, type TaskListFilters } from "@/server/tasks/list-filters.ts";
import { historyPage, historyTotals, listAllTasks } from "@/server/tasks/listing.ts";
import type { SessionUser } from "@/server/users/users.ts";
import type { Db } from "@/server/db/client.ts";
import { sourceLabel } from "@/server/tasks/source.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

const TZ = "Europe/Paris";

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Row {
  id: string;
  status: string;
  mode: string;
  quality: string;
  prompt: string;
  createdAt: Date;
  cost: number | null;
  billedSeconds: number | null;
}

describe("history", () => {
  let db: TestDatabase;
  let alice: SessionUser;
  let bob: SessionUser;
  const rows: Row[] = [];
  const bobIds = new Set<string>();
  const deps = () => ({ db: db.db, defaultTimeZone: TZ, currency: "USD" });

  beforeAll(async () => {
    db = await createTestDatabase();
    const [a, b] = await Promise.all(["alice", "bob"].map((n) => db.db.user.create({ data: { email: `${n}@history.test` } })));
    alice = { id: a!.id, email: a!.email, name: null, role: "member" } as SessionUser;
    bob = { id: b!.id, email: b!.email, name: null, role: "member" } as SessionUser;
    const random = prng(42);
    const words = ["lighthouse at dawn", "a fox in snow", "city 50% rain", "under_score street", "Lighthouse keeper", "desert road"];
    const start = Date.UTC(2026, 9, 20);
    for (let i = 0; i < 160; i++) {
      const status = (["completed", "completed", "failed", "processing", "submitting"] as const)[Math.floor(random() * 5)]!;
      const quality = random() < 0.6 ? "720p" : "1080p";
      const mode = (["first_frame", "first_last_frame", "video_continuation"] as const)[Math.floor(random() * 3)]!;
      const seconds = status === "completed" ? 2 + Math.floor(random() * 14) : status === "failed" ? 0 : null;
      // Repeated costs and repeated instants: the keyset must break ties by id.
      const cost = seconds === null ? null : Math.round((quality === "720p" ? 0.086 : 0.144) * seconds * 1e6) / 1e6;
      const createdAt = new Date(start + Math.floor(random() * 40) * 6 * 3600_000);
      const owner = random() < 0.2 ? bob : alice;
      const task = await db.db.task.create({
        data: { userId: owner.id, mode, prompt: `${words[i % words.length]} #${i}`, quality, request: {}, durationSeconds: 5, status, billedSeconds: seconds, cost, createdAt },
      });
      if (owner === bob) bobIds.add(task.id);
      else rows.push({ id: task.id, status, mode, quality, prompt: task.prompt, createdAt, cost, billedSeconds: seconds });
    }
  });
  afterAll(() => db?.drop());

  /** The filtered set and its order, computed here from the rows alone. */
  function expected(f: TaskListFilters): Row[] {
    const from = f.from ? dayBounds(f.from, TZ).from : null;
    const to = f.to ? dayBounds(f.to, TZ).to : null;
    const out = rows.filter(
      (r) =>
        (!f.status || r.status === f.status) &&
        (!f.mode || r.mode === f.mode) &&
        (!f.quality || r.quality === f.quality) &&
        (!f.q || r.prompt.toLowerCase().includes(f.q.toLowerCase())) &&
        (!from || r.createdAt >= from) &&
        (!to || r.createdAt < to),
    );
    const byId = (a: Row, b: Row) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    if (f.sort === "oldest") return out.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || byId(a, b));
    if (f.sort === "cost") return out.sort((a, b) => (a.cost === null ? (b.cost === null ? 0 : 1) : b.cost === null ? -1 : b.cost - a.cost) || -byId(a, b));
    return out.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || -byId(a, b));
  }

  async function walk(f: TaskListFilters, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await historyPage(deps(), alice, f, { cursor, limit });
      expect(page.timeZone).toBe(TZ);
      ids.push(...page.tasks.map((t) => t.id));
      if (!page.nextCursor) return ids;
      cursor = page.nextCursor;
    }
    throw new Error("more than 100 pages");
  }

  it("every filter and order, paged, gives exactly the filtered set in order, once, with its totals", async () => {
    const random = prng(7);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
    const days = ["2026-10-20", "2026-10-25", "2026-10-26", "2026-11-01", "2026-11-15", "2026-11-28"];
    for (let i = 0; i < 40; i++) {
      const [d1, d2] = [pick(days)!, pick(days)!].sort();
      const f = filtersFromSearchParams({
        status: pick([undefined, "completed", "failed", "processing"]),
        mode: pick([undefined, "first_frame", "video_continuation"]),
        quality: pick([undefined, "720p", "1080p"]),
        from: pick([undefined, d1]),
        to: pick([undefined, d2]),
        q: pick([undefined, "lighthouse", "50%", "under_", "_", "%"]),
        sort: pick([undefined, "oldest", "cost"]),
      });
      const want = expected(f);
      const got = await walk(f, 1 + Math.floor(random() * 9));
      expect(got, JSON.stringify(f)).toEqual(want.map((r) => r.id));
      const totals = await historyTotals(deps(), alice, f);
      expect(totals.tasks).toBe(want.length);
      expect(totals.billedSeconds).toBe(want.reduce((s, r) => s + (r.billedSeconds ?? 0), 0));
      expect(Math.round(totals.cost * 1e6)).toBe(want.reduce((s, r) => s + Math.round((r.cost ?? 0) * 1e6), 0));
      expect(got.some((id) => bobIds.has(id))).toBe(false);
    }
  });

  it("wildcards in a search are plain characters", async () => {
    expect((await walk({ q: "50%" }, 50)).length).toBe(rows.filter((r) => r.prompt.includes("50%")).length);
    expect((await walk({ q: "%" }, 50)).length).toBe(rows.filter((r) => r.prompt.includes("%")).length);
    expect((await historyTotals(deps(), alice, { q: "_" })).tasks).toBe(rows.filter((r) => r.prompt.includes("_")).length);
  });

  it("the URL form of the filters round-trips, and what does not parse is left out", () => {
    const f: TaskListFilters = { status: "failed", mode: "first_frame", quality: "1080p", from: "2026-11-01", to: "2026-11-30", q: "fox", sort: "cost" };
    expect(filtersFromSearchParams(filtersToSearchParams(f))).toEqual(f);
    expect(filtersToSearchParams({ sort: "newest" }).toString()).toBe("");
    expect(filtersFromSearchParams(new URLSearchParams("status=exploded&from=yesterday&q=fox&sort=cheapest"))).toEqual({ q: "fox" });
  });

  it("a bad page link or a period that ends before it starts is refused with a plain message", async () => {
    await expect(historyPage(deps(), alice, {}, { cursor: "garbage" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(historyPage(deps(), alice, { sort: "cost" }, { cursor: Buffer.from(JSON.stringify(["1; DROP", "x"])).toString("base64url") })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(historyPage(deps(), alice, { from: "2026-11-02", to: "2026-11-01" }, {})).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "The period ends before it starts: choose a later last day.",
    });
    await expect(historyTotals(deps(), alice, { from: "2026-02-30" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("bob sees only his own; the admins' list sees everyone's", async () => {
    const page = await historyPage(deps(), bob, {}, { limit: 100 });
    expect(new Set(page.tasks.map((t) => t.id))).toEqual(bobIds);
    const all = await listAllTasks(db.db, {}, { limit: 200 });
    expect(all.tasks).toHaveLength(rows.length + bobIds.size);
  });

  it("a task shows its source (the form, or which API key), the keys named in one query only for a page that has API tasks", async () => {
    const u = await db.db.user.create({ data: { email: "dana@history.test" } });
    const dana = { id: u.id, email: u.email, name: null, role: "member" } as SessionUser;
    const [notebook, agent] = await Promise.all(
      [
        ["Dana's notebook", "wvp_Dana1111"],
        ["Agent", "wvp_Dana2222"],
      ].map(([name, prefix]) => db.db.apiKey.create({ data: { userId: dana.id, name: name!, prefix: prefix!, secretHash: `hash-${prefix}` } })),
    );
    const at = (minutes: number) => new Date(Date.UTC(2026, 10, 2, 12, minutes));
    const make = (prompt: string, minutes: number, apiKeyId: string | null) =>
      db.db.task.create({ data: { userId: dana.id, mode: "first_frame", prompt, quality: "720p", request: {}, durationSeconds: 5, createdAt: at(minutes), apiKeyId } });
    // Newest first: two form tasks, then three API tasks.
    await make("form two", 50, null);
    await make("form one", 40, null);
    await make("api three", 30, agent!.id);
    await make("api two", 20, notebook!.id);
    await make("api one", 10, notebook!.id);

    const ops: string[] = [];
    const counted = db.db.$extends({
      query: {
        $allModels: {
          async $allOperations({ model, operation, args, query }) {
            ops.push(`${model}.${operation}`);
            return query(args);
          },
        },
      },
    }) as unknown as Db;
    const listing = () => ops.filter((o) => o.startsWith("Task.") || o.startsWith("ApiKey."));

    const first = await historyPage({ ...deps(), db: counted }, dana, {}, { limit: 2 });
    expect(first.tasks.map((t) => sourceLabel(t.source))).toEqual(["Form", "Form"]);
    expect(listing()).toEqual(["Task.findMany"]);

    ops.length = 0;
    const second = await historyPage({ ...deps(), db: counted }, dana, {}, { limit: 3, cursor: first.nextCursor! });
    expect(second.tasks.map((t) => [t.prompt, sourceLabel(t.source)])).toEqual([
      ["api three", "API key “Agent” (wvp_Dana2222…)"],
      ["api two", "API key “Dana's notebook” (wvp_Dana1111…)"],
      ["api one", "API key “Dana's notebook” (wvp_Dana1111…)"],
    ]);
    expect(second.tasks[0]!.source).toEqual({ kind: "api", keyId: agent!.id, name: "Agent", prefix: "wvp_Dana2222" });
    // One lookup for the page's two keys, not one per row.
    expect(listing()).toEqual(["Task.findMany", "ApiKey.findMany"]);

    // The admins' list names them too.
    const all = await listAllTasks(db.db, { userId: dana.id }, { limit: 10 });
    expect(all.tasks.map((t) => sourceLabel(t.source))).toEqual([
      "Form",
      "Form",
      "API key “Agent” (wvp_Dana2222…)",
      "API key “Dana's notebook” (wvp_Dana1111…)",
      "API key “Dana's notebook” (wvp_Dana1111…)",
    ]);
  });
});
