/**
 * Uploads: saveUpload checks each file with the media rules before storing it
 * and returns a tokened link; openUpload serves it back (behind a small HTTP
 * server here, as app/api/uploads/[name] does) with Range support. The link
 * passes the media check through the real fetcher when its origin is allowed;
 * the portal's own check reads its own links from storage, and a task can be
 * created from one in simulator mode.
 */
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root.ts";
import { AppError } from "@/server/errors.ts";
import { BodyTooLargeError, readFormDataWithin } from "@/server/http/body.ts";
import { checkGenerationMedia, createMediaFetcher, largestMediaBytes, MEDIA_RULES } from "@/server/media/index.ts";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";
import { uploadToken } from "@/server/uploads/token.ts";
import { uploadedFileRoute } from "@/server/uploads/routes.ts";
import { openUpload, saveUpload, uploadInputOf, type UploadDeps, type UploadInput } from "@/server/uploads/uploads.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { serveFetch, type FetchServer } from "../helpers/http.ts";
import { startTestPortal, TEST_SECRET, type TestPortal } from "../helpers/services.ts";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/media/${name}`, import.meta.url)));
const upload = (field: UploadInput["field"], name: string): UploadInput => ({ field, filename: name, bytes: fixture(name) });

let portal: TestPortal;
let alice: SessionUser;
let server: FetchServer;
let deps: UploadDeps;

beforeAll(async () => {
  portal = await startTestPortal();
  alice = await createUser(portal.services.db, { email: "alice@example.test", password: "alice-password" });
  // GET /api/uploads/<name>: the route itself (server/uploads/routes.ts), over HTTP.
  const serve = uploadedFileRoute(() => deps);
  server = await serveFetch((req) => serve(req, decodeURIComponent(new URL(req.url).pathname.replace(/^\/api\/uploads\//, ""))));
  deps = { storage: portal.services.storage, serverSecret: TEST_SECRET, publicBaseUrl: server.url };
});
afterAll(async () => {
  await server?.close();
  await portal?.close();
});

/** Files under uploads/ in the portal's storage folder. */
async function storedUploads(): Promise<string[]> {
  const { storage } = portal.services.config;
  if (storage.kind !== "local") throw new Error("the test portal uses local storage");
  return readdir(path.join(storage.dir, "uploads")).catch(() => []);
}

/** The AppError saveUpload throws, or a failure when it stores the file. */
async function refusal(input: UploadInput, rules?: UploadDeps["rules"]): Promise<AppError> {
  const before = await storedUploads();
  const err = await saveUpload({ ...deps, ...(rules && { rules }) }, alice, input).then(
    () => expect.unreachable("the file was accepted"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect(await storedUploads()).toEqual(before); // nothing stored
  return err as AppError;
}

describe("saveUpload", () => {
  it("stores an accepted image under a random name with its detected type, and links to it with a token", async () => {
    const bytes = fixture("image-240x240.png");
    const saved = await saveUpload(deps, alice, { field: "image_start", filename: "frame.png", contentType: "image/png", bytes });
    const url = new URL(saved.url);
    expect(`${url.origin}${url.pathname}`).toMatch(new RegExp(`^${deps.publicBaseUrl}/api/uploads/[0-9a-f-]{36}\\.png$`));
    const key = `uploads/${url.pathname.split("/").pop()}`;
    expect(url.searchParams.get("token")).toBe(uploadToken(TEST_SECRET, key));
    expect(saved.facts).toEqual({ kind: "image", bytes: bytes.length, type: "png", width: 240, height: 240 });
    expect(await portal.services.storage.size(key)).toBe(bytes.length);

    const res = await fetch(saved.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  it("names the file after what it is, not what it is called", async () => {
    const cases = [
      { input: { ...upload("image_end", "image-320x240.jpg"), filename: "photo.png" }, ext: "jpg", type: "image/jpeg" },
      { input: upload("image_start", "image-320x240.webp"), ext: "webp", type: "image/webp" },
      { input: { ...upload("video_urls", "clip-3s-320x240.mp4"), filename: "clip.mov" }, ext: "mp4", type: "video/mp4" },
      { input: upload("audio_urls", "audio-3s.mp3"), ext: "mp3", type: "audio/mpeg" },
      { input: { ...upload("audio_urls", "audio-3s.wav"), filename: "voice" }, ext: "wav", type: "audio/wav" },
    ];
    for (const { input, ext, type } of cases) {
      const saved = await saveUpload(deps, alice, input);
      expect(new URL(saved.url).pathname, input.filename).toMatch(new RegExp(`\\.${ext}$`));
      const res = await fetch(saved.url);
      expect(res.headers.get("content-type"), input.filename).toBe(type);
      expect((await res.arrayBuffer()).byteLength).toBe(input.bytes.length);
    }
  });

  it("refuses a too-small image with the rule's message under its field", async () => {
    const err = await refusal(upload("image_start", "image-200x200.png"));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.fieldErrors).toEqual({ image_start: ["The first frame image is 200×200 px; each side must be at least 240 px. Use a larger image."] });
    expect(err.message).toBe("The first frame image is 200×200 px; each side must be at least 240 px. Use a larger image.");
  });

  it("refuses clips and audio that break their rules", async () => {
    expect((await refusal(upload("video_urls", "clip-11s-320x240.mp4"))).fieldErrors?.video_urls?.[0]).toMatch(/^The clip to continue is 11(\.\d+)? s long; it must be 2 to 10 s/);
    expect((await refusal(upload("audio_urls", "audio-1s.wav"))).fieldErrors?.audio_urls?.[0]).toMatch(/^The driving audio is 1(\.\d+)? s long; it must be 2 to 30 s/);
  });

  it("refuses a file of the wrong type, speaking of the file rather than a URL", async () => {
    expect((await refusal(upload("image_start", "not-media.txt"))).fieldErrors).toEqual({
      image_start: ["not-media.txt is not an image we can read; choose a PNG, JPEG, WebP or BMP file"],
    });
    // A file of another kind of media: what it is, and the mode it belongs to.
    expect((await refusal(upload("video_urls", "image-240x240.png"))).fieldErrors).toEqual({
      video_urls: [
        "The clip to continue is an image (PNG, 240×240 px), not a video. The clip to continue must be an MP4 video. To start a video from this image, switch to First frame and give it as the first frame image.",
      ],
    });
    expect((await refusal(upload("image_start", "clip-3s-320x240.mp4"))).fieldErrors?.image_start?.[0]).toMatch(/^The first frame image is a video \(MP4, 3 s\), not an image\./);
    expect((await refusal(upload("video_urls", "clip-3s.webm"))).fieldErrors?.video_urls).toHaveLength(1);
    // Readable, but a format the provider does not take: the media rule's own message.
    expect((await refusal(upload("audio_urls", "audio-3s.ogg"))).fieldErrors?.audio_urls?.[0]).toMatch(/^The driving audio is Ogg.* audio; use WAV or MP3\.$/);
    expect((await refusal(upload("image_end", "audio-3s.mp3"))).fieldErrors?.image_end?.[0]).toMatch(/is not an image we can read/);
  });

  it("refuses a file over its field's size limit, and an empty one", async () => {
    const small = { ...MEDIA_RULES, image: { ...MEDIA_RULES.image, maxBytes: 500 } };
    const err = await refusal(upload("image_start", "image-240x240.png"), small);
    expect(err.fieldErrors?.image_start).toEqual(["The first frame image is 741 bytes; the limit is 500 bytes. Compress it or scale it down."]);
    expect((await refusal({ field: "audio_urls", filename: "empty.mp3", bytes: new Uint8Array() })).fieldErrors).toEqual({
      audio_urls: ["empty.mp3 is empty; choose the audio file itself"],
    });
  });
});

describe("openUpload", () => {
  let url: URL;
  let name: string;
  const bytes = fixture("image-240x240.png");
  beforeAll(async () => {
    url = new URL((await saveUpload(deps, alice, { field: "image_start", filename: "frame.png", bytes })).url);
    name = url.pathname.split("/").pop() ?? "";
  });
  const get = (token: string | null, fileName = name, headers: Record<string, string> = {}) =>
    fetch(`${deps.publicBaseUrl}/api/uploads/${encodeURIComponent(fileName)}${token === null ? "" : `?token=${encodeURIComponent(token)}`}`, { headers });

  it("refuses a missing, wrong or borrowed token, and names that are not uploads, all as 404", async () => {
    const token = url.searchParams.get("token") ?? "";
    expect((await get(token)).status).toBe(200);
    const other = new URL((await saveUpload(deps, alice, upload("image_end", "image-320x240.jpg"))).url);
    const cases: Array<[string | null, string]> = [
      [null, name],
      ["", name],
      [token.slice(0, -1), name],
      [`${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`, name],
      [uploadToken("another-secret-0123456789abcdef0123", `uploads/${name}`), name],
      [other.searchParams.get("token"), name], // another file's token
      [token, name.replace(/\.png$/, ".jpg")], // same id, other extension
      [uploadToken(TEST_SECRET, "uploads/../results/x.mp4"), "../results/x.mp4"],
      [uploadToken(TEST_SECRET, "uploads/frame.png"), "frame.png"],
    ];
    for (const [t, n] of cases) expect((await get(t, n)).status, `${n} ${t}`).toBe(404);
    await expect(openUpload(deps, name, "forged")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("serves byte ranges", async () => {
    const token = url.searchParams.get("token");
    const first = await get(token, name, { Range: "bytes=0-99" });
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe(`bytes 0-99/${bytes.length}`);
    expect(first.headers.get("content-length")).toBe("100");
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(bytes.subarray(0, 100));

    const tail = await get(token, name, { Range: "bytes=700-" });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("content-range")).toBe(`bytes 700-${bytes.length - 1}/${bytes.length}`);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(bytes.subarray(700));

    const past = await get(token, name, { Range: `bytes=${bytes.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${bytes.length}`);
    expect((await get(token, name, { Range: "bytes=-100" })).status).toBe(416);

    const direct = await openUpload(deps, name, token, { start: 10, end: 19 });
    expect(direct.range).toEqual({ start: 10, end: 19 });
    expect(new Uint8Array(await new Response(direct.body).arrayBuffer())).toEqual(bytes.subarray(10, 20));
  });
});

describe("an uploaded file's link, in simulator mode", () => {
  /** Upload deps for the portal's own address, as the upload route has them. */
  const own = (): UploadDeps => ({ storage: portal.services.storage, serverSecret: TEST_SECRET, publicBaseUrl: portal.services.config.publicBaseUrl });

  it("passes the media check through the real fetcher when its origin is allowed (loopback http)", async () => {
    const { url } = await saveUpload(deps, alice, upload("image_start", "image-240x240.png"));
    const input = createGenerationInputSchema({ httpOrigins: [deps.publicBaseUrl] }).parse({ prompt: "A lighthouse", image_start: url });
    const fetchMedia = createMediaFetcher({ maxBytes: largestMediaBytes(), timeoutMs: 5000, allowedOrigins: [deps.publicBaseUrl] });
    const checked = await checkGenerationMedia(input, { fetchMedia });
    expect(checked.fieldErrors).toEqual({});
    expect(checked.facts.unchecked).toEqual([]);
    expect(checked.facts.media.image_start).toMatchObject({ kind: "image", type: "png", width: 240, height: 240 });
    // Without the simulator, an http link is not one the provider could fetch.
    expect(createGenerationInputSchema({ httpOrigins: [] }).safeParse({ prompt: "A lighthouse", image_start: url }).success).toBe(false);
  });

  it("is read by the portal's own media check from storage (its address serves no uploads here), token checked", async () => {
    const { url } = await saveUpload(own(), alice, upload("image_start", "image-240x240.png"));
    expect(await portal.services.taskDeps.fetchMedia(url)).toEqual({ bytes: fixture("image-240x240.png"), contentType: "image/png" });
    const forged = new URL(url);
    forged.searchParams.set("token", uploadToken(TEST_SECRET, "uploads/another.png"));
    expect(await portal.services.taskDeps.fetchMedia(forged.href)).toBeNull();
  });

  it("makes a task: the provider is sent the link", async () => {
    const { url } = await saveUpload(own(), alice, upload("image_start", "image-240x240.png"));
    const task = await createCaller({ services: portal.services, user: alice }).tasks.create({ prompt: "A lighthouse at dawn", image_start: url });
    expect(task.status).toBe("pending");
    const sent = portal.simulator.requests.filter((r) => r.method === "POST" && r.path === "/v1/videos/generations").at(-1)?.body as Record<string, unknown>;
    expect(sent.image_start).toBe(url);
  });
});

describe("the upload form", () => {
  const form = (entries: Record<string, string | Blob>) => {
    const f = new FormData();
    for (const [k, v] of Object.entries(entries)) f.set(k, v);
    return f;
  };

  it("reads the field and the file", async () => {
    const bytes = fixture("image-240x240.png");
    const input = await uploadInputOf(form({ field: "image_end", file: new File([bytes], "frame.png", { type: "image/png" }) }));
    expect(input).toEqual({ field: "image_end", filename: "frame.png", contentType: "image/png", bytes });
  });

  it("refuses an unknown field and a missing file", async () => {
    await expect(uploadInputOf(form({ field: "prompt", file: new File(["x"], "x.png") }))).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(uploadInputOf(form({ field: "image_start", file: "not a file" }))).rejects.toMatchObject({
      code: "BAD_REQUEST",
      fieldErrors: { image_start: ["Choose a file to upload"] },
    });
  });

  it("is bounded before and while it is read", async () => {
    // A declared length over the bound: refused without reading (this body never ends).
    const declared = new Request("http://localhost/api/uploads", {
      method: "POST",
      body: new ReadableStream({ pull: () => new Promise(() => {}) }),
      headers: { "Content-Type": "multipart/form-data; boundary=x", "Content-Length": "5000" },
      duplex: "half",
    } as RequestInit);
    await expect(readFormDataWithin(declared, 1000)).rejects.toBeInstanceOf(BodyTooLargeError);

    const body = form({ field: "image_start", file: new File([new Uint8Array(5000)], "big.png") });

    // No Content-Length: counted as it streams.
    const encoded = new Response(body);
    const streamed = new Request("http://localhost/api/uploads", {
      method: "POST",
      body: encoded.body,
      headers: { "Content-Type": encoded.headers.get("content-type") ?? "" },
      duplex: "half",
    } as RequestInit);
    expect(streamed.headers.get("content-length")).toBeNull();
    await expect(readFormDataWithin(streamed, 1000)).rejects.toBeInstanceOf(BodyTooLargeError);

    const fits = new Request("http://localhost/api/uploads", { method: "POST", body: form({ field: "audio_urls", file: new File(["abc"], "a.mp3") }) });
    expect((await readFormDataWithin(fits, 1000)).get("field")).toBe("audio_urls");
    const notAForm = new Request("http://localhost/api/uploads", { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } });
    await expect(readFormDataWithin(notAForm, 1000)).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});
