/**
 * Route: the fixed cost of one request through the web server, measured
 * with the smallest route there is (`GET /api/health`, which answers
 * `{"ok":true}` through Next.js without touching the database) and with a
 * signed-out tRPC call (401 through the web server's own dispatch, decision
 * 15), against the floor server's `/health` (the same answer from a bare
 * node:http handler). What the portal pays here it pays on every request of
 * that kind before any of its own work.
 *
 *   npm run bench -- route [--duration 10]
 */
import { load, loadMeasured, openBenchDb, startBenchSimulator, startFloor, startWeb, verdict, type BenchOptions } from "./harness.ts";

export async function benchRoute(o: BenchOptions): Promise<boolean> {
  const { log } = o;
  const bench = await openBenchDb(o);
  const sim = await startBenchSimulator(o);
  let web: Awaited<ReturnType<typeof startWeb>> | undefined;
  let floor: Awaited<ReturnType<typeof startFloor>> | undefined;
  try {
    web = await startWeb(o, bench.url, sim.url);
    floor = await startFloor(o, "history", { DATABASE_URL: bench.url });
    const floorReq = [{ method: "GET" as const, path: "/health" }];
    await load(o, floor.url, floorReq, { duration: 2 });
    const bare = await loadMeasured(o, floor, floorReq);
    const cases: Array<[string, string, string]> = [
      // Through Next.js's route handling (pages and other routes still are).
      ["health", "/api/health", "GET /api/health through Next.js (no database)"],
      // Through the web server's own dispatch to the tRPC route handler (decision 16): tRPC's
      // fixed cost, signed out (no cookie, so no database), answered 401.
      ["tRPC 401", `/api/trpc/tasks.history?input=${encodeURIComponent(JSON.stringify({ json: { limit: 1 } }))}`, "tasks.history signed out through the web server's tRPC dispatch (401, no database)"],
    ];
    for (const [label, pathname, what] of cases) {
      log(`\nroute: ${what}, ${o.connections} clients, ${o.duration} s, against the floor's GET /health`);
      const portalReq = [{ method: "GET" as const, path: pathname }];
      await load(o, web.url, portalReq, { duration: 2 });
      const portal = await loadMeasured(o, web, portalReq);
      // Reported, no target of its own: the fixed cost every API request carries.
      verdict(log, label, portal, bare, 0);
    }
    return true;
  } finally {
    await web?.stop();
    await floor?.stop();
    await sim.close();
    await bench.stop();
  }
}
