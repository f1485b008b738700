/**
 * Every tRPC procedure, route handler, page, and route the web server answers
 * itself outside app/ (SERVER_ROUTES) has a row in the
 * authorization table (tests/authz/table.ts), and every server action is
 * listed with its rule: a new one fails here until someone decides, in the
 * table, who may call it. The rows themselves run over HTTP in
 * tests/e2e/authorization.spec.ts.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { appRouter } from "@/server/api/root.ts";
import { AUTHZ_TABLE, CALLERS, SERVER_ACTIONS } from "../authz/table.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [path.relative(ROOT, full)];
  });
}
const appFiles = filesUnder(path.join(ROOT, "app"));
/** The modules answering the paths the web server serves itself, before Next.js (server/http/web-server.ts): /metrics. */
const SERVER_ROUTES = ["server/metrics/http.ts"];
const covered = new Set(AUTHZ_TABLE.map((r) => r.covers));

it("every tRPC procedure has a row", () => {
  const procedures = Object.keys(appRouter._def.procedures);
  expect(procedures.length).toBeGreaterThan(0);
  expect(procedures.filter((p) => !covered.has(p))).toEqual([]);
});

it("every route handler and page has a row", () => {
  const endpoints = appFiles.filter((f) => /\/(route\.ts|page\.tsx)$/.test(f));
  expect(endpoints.length).toBeGreaterThan(0);
  expect(endpoints.filter((f) => !covered.has(f))).toEqual([]);
});

it("every route the web server answers itself has a row", () => {
  const webServer = readFileSync(path.join(ROOT, "server/http/web-server.ts"), "utf8");
  // The web server answers /metrics through serveMetrics; another such path must be added to SERVER_ROUTES (and the table).
  expect(webServer).toContain("serveMetrics(");
  expect(SERVER_ROUTES.filter((f) => !covered.has(f))).toEqual([]);
});

it("every page behind sign-in checks the session itself (layouts are not rendered again on navigation)", () => {
  const pages = appFiles.filter((f) => f.startsWith("app/(portal)/") && f.endsWith("/page.tsx"));
  expect(pages.length).toBeGreaterThan(0);
  expect(pages.filter((f) => !/await require(User|Admin)\(\)/.test(readFileSync(path.join(ROOT, f), "utf8")))).toEqual([]);
  expect(pages.filter((f) => f.startsWith("app/(portal)/admin/") && !/await requireAdmin\(\)/.test(readFileSync(path.join(ROOT, f), "utf8")))).toEqual([]);
});

it("every server action is listed with its rule", () => {
  const actions = appFiles
    .filter((f) => /\.tsx?$/.test(f))
    .flatMap((f) => {
      const source = readFileSync(path.join(ROOT, f), "utf8");
      if (!/^["']use server["']/m.test(source)) return [];
      return [...source.matchAll(/export\s+async\s+function\s+(\w+)/g)].map((m) => `${f}#${m[1]}`);
    });
  expect(actions.length).toBeGreaterThan(0);
  expect(actions.filter((a) => !(a in SERVER_ACTIONS))).toEqual([]);
});

it("every row says what each caller gets, and nothing covers what no longer exists", () => {
  for (const row of AUTHZ_TABLE) expect(Object.keys(row.expect).sort(), row.what).toEqual([...CALLERS].sort());
  const procedures = new Set(Object.keys(appRouter._def.procedures));
  expect([...covered].filter((c) => !procedures.has(c) && !appFiles.includes(c) && !SERVER_ROUTES.includes(c))).toEqual([]);
});
