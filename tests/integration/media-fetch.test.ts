/**
 * createMediaFetcher over real sockets, against a local HTTP server (and the
 * provider simulator): loopback http only for an allowed origin, private
 * addresses refused before connecting, byte caps enforced without downloading
 * everything, timeouts, redirects, and "unreachable" as not-a-failure.
 * Every way of reaching this computer is in ssrf.test.ts.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkGenerationMedia } from "@/server/media/check.ts";
import { createMediaFetcher, type MediaFetcher } from "@/server/media/fetch.ts";
import { startSimulator, type Simulator } from "@/server/simulator/simulator.ts";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/media/${name}`, import.meta.url));

let server: http.Server;
let base: string;
let port: number;
let connections = 0;
/** As in simulator mode: this test server's origin is the allowed one. */
let local: MediaFetcher;
const sent = new Map<string, number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const [, route = "", name = ""] = path.split("/");
    if (route === "file") {
      const data = fixture(name);
      res.writeHead(200, { "Content-Type": name.endsWith(".png") ? "image/png; charset=binary" : "application/octet-stream", "Content-Length": data.length });
      return res.end(data);
    }
    if (route === "stream") {
      // No Content-Length: chunked.
      const data = fixture(name);
      res.writeHead(200, { "Content-Type": "application/octet-stream" });
      res.write(data.subarray(0, 100));
      return setTimeout(() => res.end(data.subarray(100)), 20);
    }
    if (route === "declared-huge") {
      res.writeHead(200, { "Content-Type": "video/mp4", "Content-Length": 500_000_000 });
      res.write(Buffer.alloc(1000));
      // Never finishes: only the header may decide.
      return;
    }
    if (route === "endless") {
      res.writeHead(200, { "Content-Type": "video/mp4" });
      let total = 0;
      const chunk = Buffer.alloc(16 * 1024);
      const timer = setInterval(() => {
        if (res.destroyed || total > 50_000_000) {
          clearInterval(timer);
          sent.set("endless", total);
          return;
        }
        total += chunk.length;
        res.write(chunk);
      }, 2);
      res.on("close", () => {
        clearInterval(timer);
        sent.set("endless", total);
      });
      return;
    }
    if (route === "silent") return; // never answers
    if (route === "redirect") {
      res.writeHead(302, { Location: `/file/${name}` });
      return res.end();
    }
    if (route === "loop") {
      res.writeHead(301, { Location: "/loop/again" });
      return res.end();
    }
    if (route === "to-plain-http") {
      res.writeHead(302, { Location: "http://example.com/frame.png" });
      return res.end();
    }
    if (route === "to-private") {
      res.writeHead(302, { Location: `http://10.0.0.1:${port}/file/image-240x240.png` });
      return res.end();
    }
    res.writeHead(404).end("not found");
  });
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  local = createMediaFetcher({ maxBytes: 1_000_000, timeoutMs: 2_000, allowedOrigins: [base] });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe("createMediaFetcher", () => {
  it("downloads a file once, with its content type", async () => {
    const before = connections;
    const r = await local(`${base}/file/image-240x240.png`);
    expect(r).toEqual({ bytes: new Uint8Array(fixture("image-240x240.png")), contentType: "image/png" });
    expect(connections - before).toBe(1);
  });

  it("downloads a chunked file", async () => {
    const r = await local(`${base}/stream/audio-3s.mp3`);
    expect(r && "bytes" in r && r.bytes.length).toBe(fixture("audio-3s.mp3").length);
  });

  it("refuses on Content-Length alone, without reading the body", async () => {
    const started = Date.now();
    expect(await local(`${base}/declared-huge/x`)).toEqual({ tooLarge: true, size: 500_000_000, contentType: "video/mp4" });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("stops a body without Content-Length at the cap (the per-call cap when smaller)", async () => {
    const r = await local(`${base}/endless/x`, { maxBytes: 100_000 });
    expect(r).toEqual({ tooLarge: true, contentType: "video/mp4" });
    await expect.poll(() => sent.get("endless")).toBeDefined();
    // What the server managed to push before the socket closed: far from 50 MB.
    expect(sent.get("endless")).toBeLessThan(10_000_000);
  });

  it("counts the bytes exactly: at the cap passes, one byte more is too large", async () => {
    const size = fixture("audio-3s.wav").length;
    expect(await local(`${base}/stream/audio-3s.wav`, { maxBytes: size })).toHaveProperty("bytes");
    expect(await local(`${base}/stream/audio-3s.wav`, { maxBytes: size - 1 })).toEqual({ tooLarge: true, contentType: "application/octet-stream" });
    expect(await local(`${base}/file/audio-3s.wav`, { maxBytes: size - 1 })).toMatchObject({ tooLarge: true, size });
  });

  it("follows a redirect, and gives up on a loop", async () => {
    expect(await local(`${base}/redirect/image-240x240.png`)).toHaveProperty("bytes");
    expect(await local(`${base}/loop/start`)).toBeNull();
  });

  it("does not follow a redirect to plain http or to a private address", async () => {
    expect(await local(`${base}/to-plain-http/x`)).toBeNull();
    expect(await local(`${base}/to-private/x`)).toBeNull();
  });

  it("gives null for unreachable, missing and silent servers", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const quick = createMediaFetcher({ maxBytes: 1_000_000, timeoutMs: 300, allowedOrigins: [base, `http://127.0.0.1:${closedPort}`] });
    expect(await quick(`http://127.0.0.1:${closedPort}/x.png`)).toBeNull();
    expect(await quick(`${base}/nothing-here`)).toBeNull();
    const started = Date.now();
    expect(await quick(`${base}/silent/x`)).toBeNull();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await quick("https://does-not-exist.invalid/x.png")).toBeNull();
    expect(await quick("not a url")).toBeNull();
  });

  it("without an allowed origin: no http, and no connection to loopback even over https", async () => {
    const strict = createMediaFetcher({ maxBytes: 1_000_000, timeoutMs: 1_000, allowedOrigins: [] });
    const before = connections;
    expect(await strict(`${base}/file/image-240x240.png`)).toBeNull();
    expect(await strict(`https://127.0.0.1:${port}/file/image-240x240.png`)).toBeNull();
    expect(await strict(`https://localhost:${port}/file/image-240x240.png`)).toBeNull();
    expect(await strict(`https://[::1]:${port}/file/image-240x240.png`)).toBeNull();
    expect(connections).toBe(before);
  });

  it("allows exactly the listed origin: another port or spelling of the same host is refused", async () => {
    const other = createMediaFetcher({ maxBytes: 1_000_000, timeoutMs: 1_000, allowedOrigins: [`http://127.0.0.1:${port + 1}`] });
    const before = connections;
    expect(await other(`${base}/file/image-240x240.png`)).toBeNull();
    expect(await local(`http://localhost:${port}/file/image-240x240.png`)).toBeNull();
    expect(await local(`https://127.0.0.1:${port}/file/image-240x240.png`)).toBeNull();
    expect(connections).toBe(before);
    // The same origin written another way is the same origin.
    expect(await local(`http://2130706433:${port}/file/image-240x240.png`)).toHaveProperty("bytes");
  });
});

describe("checkGenerationMedia with the real fetcher", () => {
  const schema = (origin: string) => createGenerationInputSchema({ httpOrigins: [origin] });

  it("checks what it can fetch and leaves the unreachable to the provider", async () => {
    const input = schema(base).parse({
      prompt: "x",
      image_start: `${base}/file/image-200x200.png`,
      image_end: `${base}/nothing-here.png`,
      audio_urls: [`${base}/file/audio-3s.mp3`],
    });
    const r = await checkGenerationMedia(input, { fetchMedia: local });
    expect(r.fieldErrors).toEqual({ image_start: [expect.stringMatching(/^The first frame image is 200×200 px; each side must be at least 240 px/)] });
    expect(r.facts.unchecked).toEqual(["image_end"]);
    expect(r.warnings).toEqual(["The last frame image could not be downloaded to check it; the video service will judge it."]);
  });

  describe("the simulator's sample media (what the form offers in local mode)", () => {
    let sim: Simulator;
    beforeAll(async () => {
      sim = await startSimulator({ port: 0, apiKey: "test-key" });
    });
    afterAll(async () => {
      await sim.close();
    });

    it("the sample first frame and the sample clip pass; the clip is 5 s", async () => {
      const fetchMedia = createMediaFetcher({ maxBytes: 100_000_000, timeoutMs: 5_000, allowedOrigins: [sim.url] });
      const frame = await checkGenerationMedia(schema(sim.url).parse({ prompt: "x", image_start: `${sim.url}/samples/first-frame.png` }), { fetchMedia });
      expect(frame).toMatchObject({ fieldErrors: {}, facts: { unchecked: [] } });
      const clip = await checkGenerationMedia(schema(sim.url).parse({ prompt: "x", video_urls: [`${sim.url}/files/sample.mp4`], duration: 4 }), { fetchMedia });
      expect(clip.facts.inputClipSeconds).toBe(5);
      expect(clip.fieldErrors.duration?.[0]).toMatch(/^The duration \(4 s\) is shorter than the clip to continue \(5 s\)/);
    });
  });
});
