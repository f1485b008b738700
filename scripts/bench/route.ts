/**
 * Route: the fixed cost of one request through the web server, measured
 * with the smallest route there is (`GET /api/health`, which answers
 * `{"ok":true}` without touching the database) against the floor server's
 * `/health` (the same answer from a bare node:http handler). What the
 * portal pays here it pays on every tRPC call and callback before any of
 * its own work.
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
    log(`\nroute: GET /api/health (no database), ${o.connections} clients, ${o.duration} s, against the floor's GET /health`);
    const portalReq = [{ method: "GET" as const, path: "/api/health" }];
    const floorReq = [{ method: "GET" as const, path: "/health" }];
    await load(o, web.url, portalReq, { duration: 2 });
    await load(o, floor.url, floorReq, { duration: 2 });
    const portal = await loadMeasured(o, web, portalReq);
    const bare = await loadMeasured(o, floor, floorReq);
    // Reported, no target of its own: the fixed cost every API request carries.
    verdict(log, "health", portal, bare, 0);
    return true;
  } finally {
    await web?.stop();
    await floor?.stop();
    await sim.close();
    await bench.stop();
  }
}
