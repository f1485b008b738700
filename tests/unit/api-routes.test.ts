import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRouteFor, registerApiRoute, serveApiRoute } from "@/server/http/api-routes.ts";

describe("API routes served by the portal's web server", () => {
  const seen: Array<{ url: string; method: string; param: string; body: string; client: string | null }> = [];
  let server: http.Server;
  let origin = "";

  beforeAll(async () => {
    registerApiRoute("trpc", async (req) => {
      seen.push({ url: req.url, method: req.method, param: "", body: await req.text(), client: req.headers.get("x-test-client") });
      const size = Number(new URL(req.url).searchParams.get("size") ?? 10);
      const headers = new Headers({ "content-type": "application/json", vary: "trpc-accept" });
      headers.append("set-cookie", "a=1");
      headers.append("set-cookie", "b=2");
      return new Response(JSON.stringify({ data: "x".repeat(size) }), { status: 201, headers });
    });
    registerApiRoute("callback", async (req, taskId) => {
      seen.push({ url: req.url, method: req.method, param: taskId, body: await req.text(), client: null });
      return Response.json({ ok: true }, { status: 202 });
    });
    server = http.createServer((req, res) => {
      res.setHeader("x-frame-options", "DENY");
      const route = apiRouteFor(req.method, req.url);
      if (!route) return void res.writeHead(418).end("next");
      void serveApiRoute(req, res, origin, route);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("leaves other paths, other methods and malformed callback paths to Next.js", () => {
    expect(apiRouteFor("GET", "/")).toBeNull();
    expect(apiRouteFor("GET", "/api/health")).toBeNull();
    expect(apiRouteFor("PUT", "/api/trpc/tasks.create")).toBeNull();
    expect(apiRouteFor("HEAD", "/api/trpc/tasks.history")).toBeNull();
    expect(apiRouteFor("GET", "/api/callbacks/evolink/t1")).toBeNull();
    expect(apiRouteFor("POST", "/api/callbacks/evolink/")).toBeNull();
    expect(apiRouteFor("POST", "/api/callbacks/evolink/a/b")).toBeNull();
    expect(apiRouteFor("POST", "/api/callbacks/evolink/%E0%A4%A")).toBeNull();
    expect(apiRouteFor("POST", "/api/callbacks/evolink/task%201?token=x")?.param).toBe("task 1");
    expect(apiRouteFor("GET", "/api/trpc/tasks.history?input=%7B%7D")).not.toBeNull();
  });

  it("hands the handler the request (method, URL, headers, body) and writes its answer, keeping headers already set", async () => {
    const res = await fetch(`${origin}/api/trpc/tasks.create?size=10`, { method: "POST", body: '{"json":1}', headers: { "x-test-client": "203.0.113.9", "accept-encoding": "identity" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await res.json()).toEqual({ data: "x".repeat(10) });
    expect(seen.at(-1)).toMatchObject({ url: `${origin}/api/trpc/tasks.create?size=10`, method: "POST", body: '{"json":1}', client: "203.0.113.9" });

    const cb = await fetch(`${origin}/api/callbacks/evolink/t-9?token=abc`, { method: "POST", body: "{}" });
    expect(cb.status).toBe(202);
    expect(seen.at(-1)).toMatchObject({ param: "t-9", body: "{}" });
  });

  it("passes a body whole whether it comes with a length (read at once), chunked, or larger than the buffered size (streamed)", async () => {
    const post = (body: string, chunked: boolean) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(`${origin}/api/callbacks/evolink/t-body`, { method: "POST", headers: chunked ? { "transfer-encoding": "chunked" } : { "content-length": Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        if (chunked) {
          req.write(body.slice(0, 3));
          req.end(body.slice(3));
        } else req.end(body);
      });
    const big = "y".repeat(300 * 1024);
    for (const [body, chunked] of [["{\"a\":\"é\"}", false], ["{\"b\":2}", true], [big, false]] as const) {
      expect(await post(body, chunked)).toBe(202);
      expect(seen.at(-1)).toMatchObject({ param: "t-body", body });
    }
  });

  it("compresses answers of 1 KB or more for clients that accept gzip, as Next.js does", async () => {
    const raw = await new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http.get(`${origin}/api/trpc/tasks.history?size=5000`, { headers: { "accept-encoding": "gzip" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      }).on("error", reject);
    });
    expect(raw.headers["content-encoding"]).toBe("gzip");
    expect(raw.headers.vary).toBe("trpc-accept, Accept-Encoding");
    expect(JSON.parse(gunzipSync(raw.body).toString("utf8"))).toEqual({ data: "x".repeat(5000) });
  });
});
