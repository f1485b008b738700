/**
 * Where the time goes in a `node --cpu-prof` profile (a .cpuprofile from
 * `npm run bench -- <name> --cpu-prof <dir>`): self time by package or
 * source folder, and the heaviest functions; plus inclusive time of a few
 * named frames (session check, tRPC, superjson, Prisma, media, provider).
 *
 *   npx tsx scripts/bench/profile-summary.ts <file.cpuprofile> [top]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: profile-summary <file.cpuprofile> [top]");
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from the samples and their deltas (µs).
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

function groupOf(url: string, name: string): string {
  if (!url) return name === "(idle)" ? "(idle)" : name === "(garbage collector)" ? "(gc)" : name === "(program)" ? "(program: native, not JS)" : "(native)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    const pkg = rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
    if (pkg === "next") {
      const chunk = url.includes("/compiled/") ? `next (${rest.slice(rest.indexOf("compiled") + 1, rest.indexOf("compiled") + 2)})` : "next";
      return chunk;
    }
    return pkg;
  }
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const m = /\.next\/server\/chunks\/(?:ssr\/)?\[root-of-the-server\]__[^/]*$/.exec(url);
  if (m) return ".next server chunk (app + bundled deps)";
  const rel = url.replace(/^file:\/\//, "").replace(process.cwd() + "/", "");
  return rel.split("/").slice(0, 2).join("/");
}

const groups = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const g = groupOf(n.callFrame.url, n.callFrame.functionName);
  groups.set(g, (groups.get(g) ?? 0) + us);
  const f = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*node_modules\//, "").replace(process.cwd() + "/", "")}:${n.callFrame.lineNumber + 1}`;
  fns.set(f, (fns.get(f) ?? 0) + us);
}

// Inclusive time of frames whose function or file matches (counted once per sample).
const MARKERS: Array<[string, RegExp]> = [
  ["Auth.js session (auth(): JWT decode, jwt/session callbacks, re-encode)", /@auth\/core|next-auth|jose/],
  ["session row check (checkSession)", /checkSession/],
  ["superjson", /superjson/],
  ["tRPC", /@trpc\/server/],
  ["zod", /zod/],
  ["Prisma client + adapter", /@prisma\/|prisma-client|server\/db\/generated/],
  ["pg driver", /node_modules\/pg(-protocol)?\//],
  ["media fetch / probe", /server\/media\/|image-size|mp4box|music-metadata/],
  ["provider client", /server\/provider\//],
];
const inclusive = new Map<string, number>();
profile.samples.forEach((leaf, i) => {
  const seen = new Set<string>();
  for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
    const n = byId.get(id)!;
    const text = `${n.callFrame.functionName} ${n.callFrame.url}`;
    for (const [label, re] of MARKERS) if (!seen.has(label) && re.test(text)) seen.add(label);
  }
  for (const label of seen) inclusive.set(label, (inclusive.get(label) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
const busy = total - (groups.get("(idle)") ?? 0);
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${pct(busy)})`);
console.log(`\nself time by package / folder:`);
for (const [g, us] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${g}`);
console.log(`\ninclusive time (a frame anywhere on the stack):`);
for (const [label] of MARKERS) console.log(`  ${pct(inclusive.get(label) ?? 0)}  ${label}`);
console.log(`\nheaviest functions (self):`);
for (const [f, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${f.slice(0, 150)}`);
