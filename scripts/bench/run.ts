/**
 * `npm run bench -- [name…] [--clean] [--duration s] [--connections n] [--cpu-prof dir]`:
 * the benchmarks (not part of `npm test`); with no name, all of them.
 * Each prints its figures; docs/benchmarks.md publishes them.
 *   usage      the usage page's queries at 1,000,000 tasks (server/usage/usage.ts)
 *   route      the fixed cost of a request through the web server (GET /api/health) against a bare handler
 *   submit     tasks.create over HTTP against a bare node:http + pg floor
 *   history    tasks.history (first and deep keyset page) at 1,000,000 tasks against its floor
 *   callbacks  provider callbacks through the real route, each delivered 4 times, against its floor
 *   startup    `npm start` to the first 200 from `/`, on an existing and on an empty data folder
 * Ports (loopback only): BENCH_PG_PORT (54499), PORT (3610), SIMULATOR_PORT (4891),
 * BENCH_FLOOR_PORT (3611); the start-up benchmark's own: BENCH_STARTUP_PORT (3613),
 * BENCH_STARTUP_PG_PORT (4893), BENCH_STARTUP_SIMULATOR_PORT (4892).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import type { BenchOptions } from "./harness.ts";
import { benchCallbacks } from "./callbacks.ts";
import { benchHistory } from "./history.ts";
import { benchRoute } from "./route.ts";
import { benchStartup } from "./startup.ts";
import { benchSubmit, benchV1Create } from "./submit.ts";
import { benchUsage } from "./usage.ts";

const ALL = ["usage", "route", "submit", "v1", "history", "callbacks", "startup"] as const;
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    clean: { type: "boolean", default: false },
    duration: { type: "string", default: process.env.BENCH_DURATION ?? "10" },
    connections: { type: "string", default: "10" },
    "cpu-prof": { type: "string" },
  },
});
const names = positionals.length > 0 ? positionals : [...ALL];
const unknown = names.filter((n) => !(ALL as readonly string[]).includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(", ")} (known: ${ALL.join(", ")})`);
  process.exit(2);
}
const dataDir = path.resolve(process.env.DATA_DIR ?? ".data");
const log = (line: string) => console.log(line);
const o: BenchOptions = {
  dataDir,
  pgPort: Number(process.env.BENCH_PG_PORT ?? 54499),
  webPort: Number(process.env.PORT ?? 3610),
  simulatorPort: Number(process.env.SIMULATOR_PORT ?? 4891),
  floorPort: Number(process.env.BENCH_FLOOR_PORT ?? 3611),
  clean: values.clean,
  duration: Number(values.duration),
  connections: Number(values.connections),
  ...(values["cpu-prof"] && { cpuProfDir: path.resolve(values["cpu-prof"]) }),
  log,
};
log(`node ${process.version}, ${o.connections} connections, ${o.duration} s per measurement`);
let clean = values.clean;
const missed: string[] = [];
for (const name of names) {
  // --clean drops the benchmark database once, before the first benchmark that uses it.
  const opts = { ...o, clean };
  if (name !== "startup") clean = false;
  if (name === "usage") await benchUsage({ dataDir, port: o.pgPort, clean: opts.clean, log });
  else if (name === "route") (await benchRoute(opts)) || missed.push(name);
  else if (name === "submit") (await benchSubmit(opts)) || missed.push(name);
  else if (name === "v1") (await benchV1Create(opts)) || missed.push(name);
  else if (name === "history") (await benchHistory(opts)) || missed.push(name);
  else if (name === "callbacks") (await benchCallbacks(opts)) || missed.push(name);
  else if (name === "startup") (await benchStartup(opts)) || missed.push(name);
}
if (missed.length > 0) log(`\ntargets missed: ${missed.join(", ")}`);
process.exit(0);
