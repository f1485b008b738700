/**
 * Offline schema diffing: turns two Prisma schemas into the SQL script that
 * migrates a database from the first to the second.
 *
 * Prisma 7's `migrate diff` needs a native schema engine that is downloaded on
 * first use, which fails offline. Prisma 6.19 (installed as the npm alias
 * `prisma6`) can diff through its WebAssembly schema engine instead, given:
 *   - a `prisma.config.ts` with `engine: "js"`, `experimental: { adapter: true }`
 *     and an `adapter` factory (here @prisma/adapter-pg),
 *   - `engineType = "client"` in the generator and `url = env("DATABASE_URL")`
 *     in the datasource of both schemas (Prisma 7 schemas have neither),
 *   - a live PostgreSQL behind DATABASE_URL (the engine connects; it does not
 *     change anything there for a datamodel-to-datamodel diff).
 * The config must sit below the repo's node_modules so that it resolves
 * `prisma6/config` and `@prisma/adapter-pg`; hence node_modules/.cache/.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DIFF_TIMEOUT_MS = 120_000;

export interface DiffSchemasOptions {
  /** Schema text to migrate from; `null` means an empty database. */
  from: string | null;
  /** Schema text to migrate to. */
  to: string;
  /** Any live PostgreSQL; the WebAssembly engine connects to it. */
  databaseUrl: string;
}

export class SchemaDiffError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "SchemaDiffError";
  }
}

// `allowExitOnIdle`: the CLI never closes the adapter's pool, so with the
// default 10 s idle timeout the process would linger 10 s after printing.
function prismaConfig(migrationsDir: string | undefined): string {
  const migrations = migrationsDir ? `\n  migrations: { path: ${JSON.stringify(migrationsDir)} },` : "";
  return `// Written by scripts/lib/schema-diff.ts; removed after use.
import { defineConfig } from "prisma6/config";
import { PrismaPg } from "@prisma/adapter-pg";
export default defineConfig({
  engine: "js",
  experimental: { adapter: true },
  schema: "schema.prisma",${migrations}
  adapter: async () =>
    new PrismaPg({ connectionString: process.env.DATABASE_URL!, allowExitOnIdle: true }),
} as any);
`;
}

// The WebAssembly engine arms a 10 s timer around Prisma's advisory lock
// (`migrate deploy` / `status`) and leaves it pending after finishing, which
// keeps the CLI alive for 10 s. Unref'd timers still fire while anything else
// (a query, a socket) keeps the process running; they just don't hold it open.
const UNREF_LONG_TIMERS = `// Written by scripts/lib/schema-diff.ts.
const setTimeoutOrig = globalThis.setTimeout;
globalThis.setTimeout = function (fn, ms, ...args) {
  const t = setTimeoutOrig(fn, ms, ...args);
  if (typeof ms === "number" && ms >= 5000 && t && typeof t.unref === "function") t.unref();
  return t;
};
`;

/**
 * Adds what Prisma 6's engine requires to a Prisma 7 schema:
 * `engineType = "client"` in every generator block and
 * `url = env("DATABASE_URL")` in the datasource block (replacing any url).
 */
export function toPrisma6Schema(schema: string): string {
  let sawDatasource = false;
  const out = schema.replace(
    /^([ \t]*(generator|datasource)[ \t]+\w+[ \t]*\{[ \t]*\r?\n)([\s\S]*?)(^[ \t]*\})/gm,
    (_m, head: string, kind: string, body: string, close: string) => {
      if (kind === "datasource") {
        sawDatasource = true;
        const rest = body.replace(/^[ \t]*(url|directUrl|shadowDatabaseUrl)[ \t]*=.*\r?\n/gm, "");
        return `${head}  url      = env("DATABASE_URL")\n${rest}${close}`;
      }
      const rest = body.replace(/^[ \t]*engineType[ \t]*=.*\r?\n/gm, "");
      return `${head}  engineType   = "client"\n${rest}${close}`;
    },
  );
  if (!sawDatasource) throw new Error("The schema has no datasource block.");
  return out;
}

export async function diffSchemas(opts: DiffSchemasOptions): Promise<string> {
  const files: Record<string, string> = { "schema.prisma": toPrisma6Schema(opts.to) };
  const fromArgs = ["--from-empty"];
  if (opts.from !== null) {
    files["from.prisma"] = toPrisma6Schema(opts.from);
    fromArgs.splice(0, 1, "--from-schema-datamodel", "from.prisma");
  }
  const args = ["migrate", "diff", ...fromArgs, "--to-schema-datamodel", "schema.prisma", "--script"];
  const { code, stdout, stderr } = await runPrisma6(args, { files, databaseUrl: opts.databaseUrl });
  if (code !== 0) {
    throw new SchemaDiffError(
      `prisma6 migrate diff failed (exit ${code}).\n${stderr.trim() || stdout.trim()}`,
      stderr,
    );
  }
  return stdout;
}

export interface Prisma6RunOptions {
  /** Files to write into the scratch folder; must include `schema.prisma`
   *  (already passed through toPrisma6Schema). */
  files: Record<string, string>;
  databaseUrl: string;
  /** Absolute path of a migrations folder, for `migrate deploy` / `status`. */
  migrationsDir?: string;
}

/**
 * Runs the Prisma 6 CLI (`prisma6`) with its WebAssembly schema engine over
 * @prisma/adapter-pg, in a scratch folder under node_modules/.cache that is
 * removed afterwards. Besides `migrate diff`, this also runs
 * `migrate deploy` / `migrate status` offline (used by tests to check that our
 * runner and Prisma's agree).
 */
export async function runPrisma6(
  args: string[],
  opts: Prisma6RunOptions,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!("schema.prisma" in opts.files)) throw new Error("runPrisma6: files must include schema.prisma");
  const require = createRequire(import.meta.url);
  const cli = require.resolve("prisma6/build/index.js");
  const dir = path.join(REPO_ROOT, "node_modules", ".cache", `schema-diff-${randomBytes(6).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(path.join(dir, "prisma.config.ts"), prismaConfig(opts.migrationsDir));
    await writeFile(path.join(dir, "unref-long-timers.mjs"), UNREF_LONG_TIMERS);
    for (const [name, text] of Object.entries(opts.files)) await writeFile(path.join(dir, name), text);
    const preload = pathToFileURL(path.join(dir, "unref-long-timers.mjs")).href;
    return await run(process.execPath, ["--import", preload, cli, ...args], {
      cwd: dir,
      env: {
        ...process.env,
        DATABASE_URL: opts.databaseUrl,
        CHECKPOINT_DISABLE: "1",
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
      },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** True when a diff script holds no statements (only comments / blank lines). */
export function isEmptyDiff(sql: string): boolean {
  return sql
    .split("\n")
    .map((l) => l.trim())
    .every((l) => l === "" || l.startsWith("--"));
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new SchemaDiffError(`prisma6 ${args.slice(1, 3).join(" ")} timed out after ${DIFF_TIMEOUT_MS} ms`, Buffer.concat(err).toString()));
    }, DIFF_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}
