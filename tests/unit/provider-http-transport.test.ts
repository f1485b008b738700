import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeHttpFetch } from "@/server/provider/http-transport.ts";

describe("the provider client's node:http transport", () => {
  let server: http.Server;
  let origin = "";
  const sockets = new Set<string>();
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      sockets.add(`${req.socket.remotePort}`);
      if (req.url === "/hang") return; // never answers
      if (req.url === "/empty") return void res.writeHead(204).end();
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        res.setHeader("retry-after", "3");
        res.writeHead(429, { "content-type": "application/json" }).end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("sends method, headers and body, and answers status, headers and text, reusing its connection", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await nodeHttpFetch(`${origin}/x`, { method: "POST", headers: { Authorization: "Bearer k" }, body: '{"é":1}' });
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("3");
      expect(JSON.parse(await res.text())).toEqual({ method: "POST", auth: "Bearer k", body: '{"é":1}' });
    }
    expect(sockets.size).toBe(1);
    const empty = await nodeHttpFetch(`${origin}/empty`);
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe("");
  });

  it("fails as fetch does: the signal's reason when it times out, the system error in `cause` when it cannot connect", async () => {
    await expect(nodeHttpFetch(`${origin}/hang`, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({ name: "TimeoutError" });
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await nodeHttpFetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
  });
});
