/**
 * `npm run bench -- [name…] [--clean]`: the benchmarks (not part of `npm test`).
 * Each prints its figures; docs/benchmarks.md publishes them.
 *   usage   the usage page's queries at 1,000,000 tasks (server/usage/usage.ts)
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { benchUsage } from "./usage.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { clean: { type: "boolean", default: false } } });
const names = positionals.length > 0 ? positionals : ["usage"];
const dataDir = path.resolve(process.env.DATA_DIR ?? ".data");
const log = (line: string) => console.log(line);
for (const name of names) {
  if (name === "usage") await benchUsage({ dataDir, port: Number(process.env.BENCH_PG_PORT ?? 54499), clean: values.clean, log });
  else {
    console.error(`unknown benchmark: ${name} (known: usage)`);
    process.exitCode = 2;
  }
}
