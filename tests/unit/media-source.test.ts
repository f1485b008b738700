/**
 * createMediaSource: the portal's own upload links are read from storage
 * (token checked by openUpload), never handed to the network fetcher; every
 * other URL is. Local storage in a temporary folder; the network fetcher is a
 * recorder, so any HTTP would show as a call.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MediaFetcher } from "@/server/media/fetch.ts";
import { createLocalStorage, type ObjectStorage } from "@/server/storage/storage.ts";
import { createMediaSource } from "@/server/uploads/media-source.ts";
import { uploadToken } from "@/server/uploads/token.ts";
import { saveUpload } from "@/server/uploads/uploads.ts";
import type { SessionUser } from "@/server/users/users.ts";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/media/${name}`, import.meta.url)));
const SECRET = "media-source-test-secret-0123456789abcdef";
const someone: SessionUser = { id: "u1", email: "someone@example.test", name: null, role: "member" };

let dir: string;
let storage: ObjectStorage;
/** URLs the network fetcher was asked for. */
const network: string[] = [];
const fetcher: MediaFetcher = async (url) => {
  network.push(url);
  return { bytes: new Uint8Array([1, 2, 3]), contentType: "application/octet-stream" };
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "wan-media-source-"));
  storage = createLocalStorage(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each([
  ["at the root of its address", "http://localhost:3000"],
  ["under a path", "https://video.example.com/portal"],
])("createMediaSource, portal %s", (_where, publicBaseUrl) => {
  const uploads = () => ({ storage, serverSecret: SECRET, publicBaseUrl });
  const source = () => createMediaSource({ fetcher, uploads: uploads(), maxBytes: 10_000_000 });
  const png = fixture("image-240x240.png");

  it("reads its own upload link from storage, without any HTTP", async () => {
    const { url } = await saveUpload(uploads(), someone, { field: "image_start", filename: "frame.png", bytes: png });
    network.length = 0;
    expect(await source()(url)).toEqual({ bytes: png, contentType: "image/png" });
    expect(network).toEqual([]);
  });

  it("gives null for a missing, wrong or borrowed token, or an unknown name, and still makes no HTTP request", async () => {
    const { url } = await saveUpload(uploads(), someone, { field: "image_start", filename: "frame.png", bytes: png });
    const name = new URL(url).pathname.split("/").pop() ?? "";
    const withToken = (token: string | null, file = name) => {
      const u = new URL(`${publicBaseUrl}/api/uploads/${file}`);
      if (token !== null) u.searchParams.set("token", token);
      return u.href;
    };
    network.length = 0;
    for (const bad of [
      withToken(null),
      withToken(""),
      withToken("forged"),
      withToken(uploadToken("another-secret-0123456789abcdef0123", `uploads/${name}`)),
      withToken(uploadToken(SECRET, "uploads/other.png")),
      withToken(uploadToken(SECRET, `uploads/${name.replace(".png", ".jpg")}`), name.replace(".png", ".jpg")),
      withToken(uploadToken(SECRET, "uploads/../results/x.mp4"), "..%2Fresults%2Fx.mp4"),
      withToken("t", "%E0%A4%A"),
    ]) {
      expect(await source()(bad), bad).toBeNull();
    }
    expect(network).toEqual([]);
  });

  it("honours the byte cap: the call's, and its own", async () => {
    const { url } = await saveUpload(uploads(), someone, { field: "image_start", filename: "frame.png", bytes: png });
    expect(await source()(url, { maxBytes: png.length })).toEqual({ bytes: png, contentType: "image/png" });
    expect(await source()(url, { maxBytes: png.length - 1 })).toEqual({ tooLarge: true, size: png.length, contentType: "image/png" });
    const small = createMediaSource({ fetcher, uploads: uploads(), maxBytes: 100 });
    expect(await small(url)).toEqual({ tooLarge: true, size: png.length, contentType: "image/png" });
    expect(network).toEqual([]);
  });

  it("hands every other URL to the network fetcher, with the call's cap", async () => {
    network.length = 0;
    const calls: Array<[string, number | undefined]> = [];
    const recording: MediaFetcher = async (url, opts) => {
      calls.push([url, opts?.maxBytes]);
      return null;
    };
    const s = createMediaSource({ fetcher: recording, uploads: uploads(), maxBytes: 10_000_000 });
    const others = [
      "https://media.example/a.png",
      `${publicBaseUrl}/api/trpc/tasks.mine`,
      `${publicBaseUrl}/api/uploadsx/a.png`,
      `${new URL(publicBaseUrl).protocol === "https:" ? "http:" : "https:"}//${new URL(publicBaseUrl).host}/api/uploads/a.png`,
      "http://127.0.0.1:3000/api/uploads/a.png",
    ];
    for (const u of others) await s(u, { maxBytes: 5 });
    expect(calls).toEqual(others.map((u) => [u, 5]));
    expect(await s("not a url")).toBeNull();
  });
});
