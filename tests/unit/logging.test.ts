/**
 * The logs (server/logging/): which X-Request-Id a request keeps, the readable
 * line a person reads at a terminal, and the JSON line a log collector reads,
 * with the fields of the context it was written in.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "@/server/config.ts";
import { formatJsonLine, formatRecord } from "@/server/logging/format.ts";
import { configureLogging, currentRequestId, logger, loggingFromEnv, setLogService, taskFields, withLogContext } from "@/server/logging/logger.ts";
import { isWellFormedRequestId, newRequestId, requestIdFor } from "@/server/logging/request-id.ts";

afterEach(() => {
  configureLogging(null);
  setLogService("web");
});

describe("request ids", () => {
  it("accepts what proxies send (nginx's $request_id, UUIDs) and nothing that could break a log line", () => {
    for (const ok of ["0f3c9a4e5b6d7e8f90a1b2c3d4e5f607", "123e4567-e89b-12d3-a456-426614174000", "01HZY3K6M8Q9R2S4T6V8W0X2Y4", "abc.def_ghi:1"]) {
      expect(isWellFormedRequestId(ok), ok).toBe(true);
    }
    for (const bad of ["", "short", "a".repeat(129), "has space in it", "line\nbreak-0123", 'quote"0123456', "tab\t0123456", "ünïcødé-0123", "a=b;c=d-0123"]) {
      expect(isWellFormedRequestId(bad), JSON.stringify(bad)).toBe(false);
    }
    expect(isWellFormedRequestId(undefined)).toBe(false);
    expect(isWellFormedRequestId(["0f3c9a4e5b6d7e8f90a1b2c3d4e5f607"])).toBe(false);
    expect(isWellFormedRequestId("a".repeat(128))).toBe(true);
  });

  it("keeps a trusted proxy's well-formed id, and makes a new one otherwise", () => {
    const sent = "0f3c9a4e5b6d7e8f90a1b2c3d4e5f607";
    expect(requestIdFor(sent, true)).toBe(sent);
    // Anyone else cannot choose the id their lines are logged under.
    expect(requestIdFor(sent, false)).not.toBe(sent);
    expect(requestIdFor("bad id\n", true)).toMatch(/^[0-9a-f]{32}$/);
    expect(requestIdFor([sent, sent], true)).not.toBe(sent);
    expect(requestIdFor(undefined, true)).toMatch(/^[0-9a-f]{32}$/);
    const fresh = new Set(Array.from({ length: 100 }, () => newRequestId()));
    expect(fresh.size).toBe(100);
    for (const id of fresh) expect(isWellFormedRequestId(id)).toBe(true);
  });
});

describe("the readable line", () => {
  it("is the message alone for the launcher, as npm start always printed it", () => {
    expect(formatRecord({ level: "info", time: "2026-01-01T00:00:00.000Z", service: "launcher", pid: 1, hostname: "h", msg: "Starting embedded PostgreSQL…" })).toBe(
      "Starting embedded PostgreSQL…",
    );
  });

  it("names the service, a warning or an error, and the context as key=value (quoted when it has spaces)", () => {
    const line = formatRecord({ level: "warn", service: "worker", pid: 7, msg: "archive failed", taskId: "t-1", attempt: 2, final: false, detail: "HTTP 404 from the link", extra: { a: 1 } });
    expect(line).toBe('[worker] warning: archive failed  taskId=t-1 attempt=2 final=false detail="HTTP 404 from the link" extra={"a":1}');
    expect(formatRecord({ level: "info", service: "web", msg: "request", requestId: "abc12345", status: 200 })).toBe("[web] request  requestId=abc12345 status=200");
    expect(formatRecord({ level: "debug", service: "simulator", msg: "task x created" })).toBe("[simulator] task x created");
  });

  it("puts an error's stack on the lines below, indented", () => {
    const line = formatRecord({ level: "error", service: "web", msg: "[error abc] tRPC tasks.create", err: { type: "Error", message: "boom", stack: "Error: boom\n    at f (x.ts:1:1)" } });
    expect(line.split("\n")).toEqual(["[web] error: [error abc] tRPC tasks.create", "    Error: boom", "    at f (x.ts:1:1)"]);
  });

  it("leaves a line that is not a JSON object as it is", () => {
    expect(formatJsonLine("plain text\n")).toBe("plain text");
    expect(formatJsonLine("[1,2]")).toBe("[1,2]");
    expect(formatJsonLine('{"level":"info","service":"web","msg":"hi"}\n')).toBe("[web] hi");
  });
});

describe("the logger", () => {
  const capture = (format: "json" | "text", level: "info" | "debug" = "info") => {
    const lines: string[] = [];
    configureLogging({ format, level, write: (l) => lines.push(l) });
    return lines;
  };

  it("writes one JSON object per line with time, level, msg, service, pid and the context's fields", () => {
    const lines = capture("json");
    setLogService("worker");
    logger().info({ taskId: "t-1" }, "archive started");
    withLogContext({ service: "web", fields: { requestId: "0f3c9a4e5b6d7e8f90a1b2c3d4e5f607" } }, () => {
      expect(currentRequestId()).toBe("0f3c9a4e5b6d7e8f90a1b2c3d4e5f607");
      logger().warn({ err: new Error("boom") }, "something failed");
      // A nested context adds its fields to the request's.
      withLogContext({ fields: { taskId: "t-2" } }, () => logger().info("inner"));
    });
    logger().debug("below the level: not written");
    expect(currentRequestId()).toBeUndefined();

    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l.endsWith("\n") && !l.slice(0, -1).includes("\n")).toBe(true);
    const [first, second, third] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ level: "info", msg: "archive started", service: "worker", pid: process.pid, taskId: "t-1" });
    expect(new Date(first!.time as string).toISOString()).toBe(first!.time);
    expect(first).not.toHaveProperty("requestId");
    expect(second).toMatchObject({ level: "warn", service: "web", requestId: "0f3c9a4e5b6d7e8f90a1b2c3d4e5f607", err: { type: "Error", message: "boom" } });
    expect((second!.err as { stack: string }).stack).toContain("Error: boom");
    expect(third).toMatchObject({ service: "web", requestId: "0f3c9a4e5b6d7e8f90a1b2c3d4e5f607", taskId: "t-2", msg: "inner" });
  });

  it("writes readable lines in text format, and honours the level", () => {
    const lines = capture("text", "debug");
    setLogService("launcher");
    logger().info("Database schema is up to date.");
    logger().debug({ path: "/api/health" }, "request");
    logger("worker").error({ ...taskFields({ id: "t-3", requestId: "rid-12345678" }) }, "archive failed: given up");
    expect(lines).toEqual(["Database schema is up to date.\n", "request  path=/api/health\n", "[worker] error: archive failed: given up  taskId=t-3 taskRequestId=rid-12345678\n"]);
  });

  it("reads LOG_FORMAT and LOG_LEVEL, and the configuration check refuses other values", () => {
    expect(loggingFromEnv({})).toEqual({ format: "text", level: "info" });
    expect(loggingFromEnv({ LOG_FORMAT: " JSON ", LOG_LEVEL: "debug" })).toEqual({ format: "json", level: "debug" });
    expect(loadConfig({ LOG_FORMAT: "json", LOG_LEVEL: "warn" })).toBeTruthy();
    expect(() => loadConfig({ LOG_FORMAT: "xml" })).toThrow(/LOG_FORMAT/);
    expect(() => loadConfig({ LOG_LEVEL: "verbose" })).toThrow(/LOG_LEVEL/);
    expect(taskFields({ id: "t", requestId: null })).toEqual({ taskId: "t" });
  });

  it("with LOG_FORMAT=json, an entry point's output stays one JSON object per line: console.* of other code and Node's warnings included", () => {
    const script = path.resolve(import.meta.dirname, "../helpers/log-stray.ts");
    const run = (format: string) =>
      spawnSync(process.execPath, ["--import", "tsx", script], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LOG_FORMAT: format } as unknown as NodeJS.ProcessEnv, encoding: "utf8", timeout: 30_000 });
    const json = run("json");
    expect(json.status).toBe(0);
    expect(json.stderr).toBe("");
    const records = json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => [r.level, r.msg])).toEqual([
      ["info", "own line"],
      ["info", "✓ Running next.config.mjs took 56ms"],
      ["error", "[auth]"],
      ["warn", "The AWS SDK for JavaScript will require node >=22."],
    ]);
    expect(records[2]).toMatchObject({ service: "web", err: { message: "bad sign-in" } });
    // As text, nothing is taken over: the lines read as before.
    const text = run("text");
    expect(text.stdout).toContain("[web] own line  taskId=t-1\n✓ Running next.config.mjs took 56ms\n");
    expect(text.stderr).toContain("[auth] Error: bad sign-in");
    expect(text.stderr).toContain("NodeVersionSupportWarning");
  });
});
