/**
 * Both storage back ends behave alike: the local folder, and an S3-compatible
 * bucket (s3rver, a local S3 implementation, over real HTTP).
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalStorage, createS3Storage, type ObjectStorage } from "@/server/storage/storage.ts";

const bytes = new Uint8Array(Array.from({ length: 1000 }, (_, i) => i % 256));
const read = async (body: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(body).arrayBuffer());

let dir: string;
let s3: S3rver;
const backends: Record<string, () => ObjectStorage> = {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "wan-storage-"));
  s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: path.join(dir, "s3"), configureBuckets: [{ name: "videos", configs: [] }] });
  const address = (await s3.run()) as AddressInfo;
  backends.local = () => createLocalStorage(path.join(dir, "local"));
  backends.s3 = () =>
    createS3Storage({
      kind: "s3",
      bucket: "videos",
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${address.port}`,
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      forcePathStyle: true,
    });
});
afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each(["local", "s3"])("%s storage", (name) => {
  it("stores, measures and serves whole objects and ranges", async () => {
    const storage = backends[name]!();
    expect(await storage.size("results/missing.mp4")).toBeNull();
    expect(await storage.get("results/missing.mp4")).toBeNull();
    await storage.put("results/a.mp4", new Response(bytes).body!, "video/mp4");
    expect(await storage.size("results/a.mp4")).toBe(1000);
    const whole = await storage.get("results/a.mp4");
    expect(whole?.contentType).toBe("video/mp4");
    expect(await read(whole!.body)).toEqual(bytes);
    const part = await storage.get("results/a.mp4", { start: 10, end: 19 });
    expect(part?.range).toEqual({ start: 10, end: 19 });
    expect(await read(part!.body)).toEqual(bytes.slice(10, 20));
    const tail = await storage.get("results/a.mp4", { start: 990 });
    expect(await read(tail!.body)).toEqual(bytes.slice(990));
    await expect(storage.get("results/a.mp4", { start: 1000 })).rejects.toMatchObject({ name: "RangeNotSatisfiableError", size: 1000 });
  });

  it("deletes an object, and a delete of a missing one is no error", async () => {
    const storage = backends[name]!();
    await storage.put("uploads/gone.png", bytes, "image/png");
    expect(await storage.size("uploads/gone.png")).toBe(1000);
    await storage.delete("uploads/gone.png");
    expect(await storage.size("uploads/gone.png")).toBeNull();
    expect(await storage.get("uploads/gone.png")).toBeNull();
    await expect(storage.delete("uploads/gone.png")).resolves.toBeUndefined();
    await expect(storage.delete("../escape.png")).rejects.toThrow(/Invalid storage key/);
  });

  it("lists the objects directly under a folder, with size and time written", async () => {
    const storage = backends[name]!();
    const before = Date.now() - 5_000;
    await storage.put("listed/one.png", bytes, "image/png");
    await storage.put("listed/two.png", bytes.slice(0, 10), "image/png");
    await storage.put("listed/deeper/three.png", bytes, "image/png");
    await storage.put("listedness/other.png", bytes, "image/png");
    const seen = [];
    for await (const o of storage.list("listed/")) seen.push(o);
    expect(seen.map((o) => [o.key, o.size]).sort()).toEqual([["listed/one.png", 1000], ["listed/two.png", 10]]);
    for (const o of seen) expect(o.modifiedAt.getTime()).toBeGreaterThan(before);
    const none = [];
    for await (const o of storage.list("nothing-here/")) none.push(o);
    expect(none).toEqual([]);
    await expect(storage.list("listed")[Symbol.asyncIterator]().next()).rejects.toThrow(/Not a folder prefix/);
  });

  it("refuses keys that could escape the store", async () => {
    const storage = backends[name]!();
    await expect(storage.put("../escape.mp4", bytes, "video/mp4")).rejects.toThrow(/Invalid storage key/);
    await expect(storage.put("/abs.mp4", bytes, "video/mp4")).rejects.toThrow(/Invalid storage key/);
  });
});
