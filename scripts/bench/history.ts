/**
 * History: the history page's data procedure `tasks.history` over HTTP on the
 * production build, at 1,000,000 tasks across 1,000 people (the usage seed),
 * for one person: the first page, and a deep keyset page (its cursor taken
 * from walking the pages once). Against the history floor (floor-server.ts:
 * the same SQL, the same rows serialised). Prints the plan of the page's
 * query (EXPLAIN (ANALYZE, BUFFERS)).
 *
 *   npm run bench -- history [--duration 10]
 */
import { Prisma } from "../../server/db/client.ts";
import { load, loadMeasured, openBenchDb, signedInMember, startBenchSimulator, startFloor, startWeb, verdict, type BenchOptions } from "./harness.ts";

/** The seed's person 42 (1,000 tasks over 2026, as every seeded person); their session is a bench-run one. */
const PERSON = "bench-user-42";
const P95_TARGET_MS = 50;

const trpcPath = (input: unknown) => `/api/trpc/tasks.history?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;

export async function benchHistory(o: BenchOptions): Promise<boolean> {
  const { log } = o;
  const bench = await openBenchDb(o);
  const sim = await startBenchSimulator(o);
  let web: Awaited<ReturnType<typeof startWeb>> | undefined;
  let floor: Awaited<ReturnType<typeof startFloor>> | undefined;
  try {
    await bench.db.$executeRawUnsafe(`DELETE FROM "UserSession" WHERE "userId" = '${PERSON}'`);
    const member = await signedInMember(bench.db, PERSON);
    web = await startWeb(o, bench.url, sim.url);
    floor = await startFloor(o, "history", { DATABASE_URL: bench.url });

    // The deep page: walk the procedure's own cursors to the 19th page (rows 901-950 of 1,000).
    let cursor: string | undefined;
    let floorCursor: string | null = null;
    for (let page = 1; page < 19; page++) {
      const res = await fetch(`${web.url}${trpcPath({ cursor, limit: 50 })}`, { headers: { cookie: member.cookie } });
      const body = (await res.json()) as { result: { data: { json: { nextCursor: string | null; tasks: Array<{ id: string; createdAt: string }> } } } };
      cursor = body.result.data.json.nextCursor ?? undefined;
      const last = body.result.data.json.tasks.at(-1)!;
      floorCursor = Buffer.from(JSON.stringify([last.createdAt, last.id])).toString("base64url");
    }
    if (!cursor) throw new Error("the person has fewer than 19 pages of history");

    const cases: Array<[string, string, string]> = [
      ["first page", trpcPath({ limit: 50 }), "/history"],
      ["deep page", trpcPath({ cursor, limit: 50 }), `/history?cursor=${floorCursor}`],
    ];
    let held = true;
    for (const [label, portalPath, floorPath] of cases) {
      log(`\nhistory, ${label}: tasks.history for ${PERSON} (1,000 of 1,000,000 tasks), 50 rows, ${o.connections} clients, ${o.duration} s`);
      const portalReq = [{ method: "GET" as const, path: portalPath, headers: { cookie: member.cookie } }];
      const floorReq = [{ method: "GET" as const, path: floorPath, headers: { cookie: `floor_sid=${member.sessionId}` } }];
      await load(o, web.url, portalReq, { duration: 2 });
      await load(o, floor.url, floorReq, { duration: 2 });
      const portal = await loadMeasured(o, web, portalReq, {}, bench.db);
      const bare = await loadMeasured(o, floor, floorReq, {}, bench.db);
      held =
        verdict(log, "history", portal, bare, 0.3, [
          [`p95 ${portal.p95.toFixed(1)} ms under ${P95_TARGET_MS} ms`, portal.p95 < P95_TARGET_MS],
          ["every answer 2xx", portal.failed === 0],
        ]) && held;
    }

    // The plan of the page's query as the procedure sends it (deep page), from the floor's SQL (the same WHERE/ORDER/LIMIT).
    const [at, id] = JSON.parse(Buffer.from(floorCursor!, "base64url").toString("utf8")) as [string, string];
    for (const [label, after] of [
      ["first page", Prisma.empty],
      ["deep page", Prisma.sql`AND (t."createdAt" < ${new Date(at)} OR (t."createdAt" = ${new Date(at)} AND t.id < ${id}))`],
    ] as const) {
      log(`\nplan, ${label}:`);
      const rows = await bench.db.$queryRaw<Array<{ "QUERY PLAN": string }>>`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
        SELECT t.*, u.id, u.email, u.name FROM "Task" t JOIN "User" u ON u.id = t."userId"
        WHERE t."userId" = ${PERSON} ${after} ORDER BY t."createdAt" DESC, t.id DESC LIMIT 51`;
      for (const r of rows) log(`  ${r["QUERY PLAN"]}`);
    }
    return held;
  } finally {
    await web?.stop();
    await floor?.stop();
    await sim.close();
    await bench.stop();
  }
}
