/**
 * The form's own procedures against Postgres, real storage and the
 * simulator over HTTP: media.check (one file checked as soon as it is given,
 * with the media rules, rate-limited per person across web instances) and
 * tasks.draftFrom (a task's settings, or its portal copy as the clip to
 * continue, for its owner and admins only).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root.ts";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";
import { takeRateLimit, windowStartOf } from "@/server/security/rate-limit.ts";
import { buildServices } from "@/server/services.ts";
import { archiveResult, resultKey } from "@/server/storage/archive.ts";
import { continuationBlocker } from "@/server/tasks/continuation.ts";
import { createTask } from "@/server/tasks/tasks.ts";
import { UPLOADS_UNAVAILABLE } from "@/server/uploads/availability.ts";
import { saveUpload } from "@/server/uploads/uploads.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { startTestPortal, waitFor, type TestPortal } from "../helpers/services.ts";

const fixture = (name: string) => new Uint8Array(readFileSync(path.resolve(import.meta.dirname, "../fixtures/media", name)));
const LIMIT = 4;

let portal: TestPortal;
let ann: SessionUser;
let bob: SessionUser;
let admin: SessionUser;
let image: string;
let clip: string;

beforeAll(async () => {
  portal = await startTestPortal({ env: { MEDIA_CHECKS_PER_MINUTE: String(LIMIT) } });
  ann = await createUser(portal.services.db, { email: "ann@example.test", password: "password-1" });
  bob = await createUser(portal.services.db, { email: "bob@example.test", password: "password-1" });
  admin = await createUser(portal.services.db, { email: "boss@example.test", password: "password-1", role: "admin" });
  image = `${portal.simulator.url}/samples/first-frame.png`;
  clip = `${portal.simulator.url}/files/sample.mp4`;
});
afterAll(() => portal?.close());

const as = (user: SessionUser | null, services = portal.services) => createCaller({ services, user });
/** A fresh rate-limit window for `user`: their checks so far are forgotten. */
const forgetChecks = (user: SessionUser) => portal.services.db.rateLimitCounter.deleteMany({ where: { key: `media-check:${user.id}` } });
const errorOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as TRPCError);

describe("media.check", () => {
  it("measures a file that meets its field's rules", async () => {
    await forgetChecks(ann);
    const r = await as(ann).media.check({ field: "image_start", url: image });
    expect(r).toMatchObject({ status: "ok", errors: [], facts: { kind: "image", type: "png" } });
    const clipCheck = await as(ann).media.check({ field: "video_urls", url: clip });
    expect(clipCheck).toMatchObject({ status: "ok", facts: { kind: "clip", width: 640, height: 360, durationSeconds: 5 } });
  });

  it("refuses a video given as the first frame and an image given as the clip, saying which mode fits", async () => {
    await forgetChecks(ann);
    const video = await as(ann).media.check({ field: "image_start", url: clip });
    expect(video.status).toBe("refused");
    expect(video.errors).toEqual([
      "The first frame image is a video (MP4, 5 s), not an image. A first frame must be an image. To continue this video, switch to Continue a video and give it as the clip to continue.",
    ]);
    expect(video.status === "refused" && video.facts).toMatchObject({ kind: "clip", durationSeconds: 5 });
    const picture = await as(ann).media.check({ field: "video_urls", url: image });
    expect(picture.status).toBe("refused");
    expect(picture.errors[0]).toMatch(/^The clip to continue is an image \(PNG, .*\), not a video\. .*switch to First frame/);
  });

  it("refuses a link the provider could not fetch by the request's own rule, without downloading or counting it", async () => {
    await forgetChecks(ann);
    for (let i = 0; i < LIMIT + 2; i++) {
      const r = await as(ann).media.check({ field: "image_end", url: "https://10.0.0.1/last.png" });
      expect(r).toEqual({ status: "refused", errors: ["The last frame image is on a private network or this computer, where the video service cannot fetch it; use a public address."] });
    }
    expect((await as(ann).media.check({ field: "audio_urls", url: "http://media.example/voice.mp3" })).errors).toEqual([
      "The driving audio must be an https:// link the video service can download.",
    ]);
    expect(await portal.services.db.rateLimitCounter.count({ where: { key: `media-check:${ann.id}` } })).toBe(0);
  });

  it("reads the portal's own upload links from storage, token checked; a file it cannot have is left to the provider", async () => {
    await forgetChecks(ann);
    const { url } = await saveUpload(portal.services.uploadDeps, ann, { field: "audio_urls", filename: "voice.wav", bytes: fixture("audio-3s.wav") });
    expect(await as(ann).media.check({ field: "audio_urls", url })).toMatchObject({ status: "ok", facts: { kind: "audio", format: "wav", durationSeconds: 3 } });
    // Another person holding the link may check it too: the token is the authorization, as for the provider.
    await forgetChecks(bob);
    expect((await as(bob).media.check({ field: "audio_urls", url })).status).toBe("ok");
    const forged = url.replace(/token=[^&]+/, "token=forged");
    expect(await as(ann).media.check({ field: "audio_urls", url: forged })).toEqual({
      status: "unchecked",
      errors: [],
      notice: "The driving audio could not be downloaded to check it; the video service will judge it.",
    });
    // Nothing at that address: the same.
    expect((await as(ann).media.check({ field: "image_start", url: `${portal.simulator.url}/no-such-file.png` })).status).toBe("unchecked");
  });

  it("refuses a file that breaks a rule, with what was measured", async () => {
    await forgetChecks(bob);
    const { url } = await saveUpload(portal.services.uploadDeps, bob, { field: "video_urls", filename: "clip.mp4", bytes: fixture("clip-3s-320x240.mp4") });
    const asAudio = await as(bob).media.check({ field: "audio_urls", url });
    expect(asAudio.status).toBe("refused");
    expect(asAudio.errors[0]).toMatch(/^The driving audio is a video \(MP4, 3 s\), not audio\./);
  });

  it("limits downloads per person and minute, for everyone separately, and says when to try again", async () => {
    await forgetChecks(ann);
    await forgetChecks(bob);
    for (let i = 0; i < LIMIT; i++) expect((await as(ann).media.check({ field: "image_start", url: image })).status).toBe("ok");
    const refused = await errorOf(as(ann).media.check({ field: "image_start", url: image }));
    expect(refused).toBeInstanceOf(TRPCError);
    expect(refused?.code).toBe("TOO_MANY_REQUESTS");
    expect(refused?.message).toMatch(/^That is a lot of files in a short time; the portal checks at most 4 a minute for each person\. It will check this one when you submit, or try again in \d+ s\.$/);
    // Bob has his own allowance.
    expect((await as(bob).media.check({ field: "image_start", url: image })).status).toBe("ok");
  });

  it("holds across web instances: two processes' services on one database share the count", async () => {
    await forgetChecks(ann);
    const other = buildServices(portal.services.config, { db: portal.services.db, provider: portal.services.provider, storage: portal.services.storage });
    const results = await Promise.allSettled(
      Array.from({ length: LIMIT * 2 }, (_, i) => (i % 2 === 0 ? as(ann) : as(ann, other)).media.check({ field: "image_start", url: image })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(LIMIT);
    expect(results.filter((r) => r.status === "rejected").map((r) => ((r as PromiseRejectedResult).reason as TRPCError).code)).toEqual(Array(LIMIT).fill("TOO_MANY_REQUESTS"));
  });

  it("needs a session", async () => {
    expect((await errorOf(as(null).media.check({ field: "image_start", url: image })))?.code).toBe("UNAUTHORIZED");
  });
});

describe("the rate limit itself", () => {
  const policy = { limit: 5, windowSeconds: 60 };

  it("lets exactly `limit` of many concurrent requests through", async () => {
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => takeRateLimit(portal.services.db, "test:concurrent", policy)));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(5);
    expect(Math.min(...verdicts.map((v) => v.remaining))).toBe(0);
  });

  it("starts again in the next window, and never moves back to an earlier one", async () => {
    const t0 = windowStartOf(new Date("2026-11-26T10:00:30Z"), 60);
    const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
    for (let i = 0; i < 5; i++) expect((await takeRateLimit(portal.services.db, "test:windows", policy, at(10))).allowed).toBe(true);
    const sixth = await takeRateLimit(portal.services.db, "test:windows", policy, at(20));
    expect(sixth).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 40 });
    expect((await takeRateLimit(portal.services.db, "test:windows", policy, at(61))).allowed).toBe(true);
    // An instance whose clock lags behind counts into the newer window, not a fresh old one.
    for (let i = 0; i < 4; i++) await takeRateLimit(portal.services.db, "test:windows", policy, at(62));
    expect((await takeRateLimit(portal.services.db, "test:windows", policy, at(50))).allowed).toBe(false);
    expect(await portal.services.db.rateLimitCounter.count({ where: { key: "test:windows" } })).toBe(1);
  });
});

describe("tasks.draftFrom", () => {
  let taskId: string;

  beforeAll(async () => {
    const schema = createGenerationInputSchema({ httpOrigins: [portal.simulator.url] });
    const task = await createTask(
      portal.services.taskDeps,
      ann,
      schema.parse({ prompt: "A lighthouse at dawn", negative_prompt: "blurry", image_start: image, quality: "1080p", duration: 4, seed: 42, prompt_extend: true }),
    );
    taskId = task.id;
    await waitFor(() => portal.services.db.task.findUniqueOrThrow({ where: { id: taskId } }), (t) => t.status === "completed");
  });

  it("again: the task's settings as they were sent, without the portal's callback", async () => {
    const draft = await as(ann).tasks.draftFrom({ taskId, as: "again" });
    expect(draft).toEqual({
      from: { taskId, kind: "again" },
      values: {
        generation_mode: "first_frame",
        prompt: "A lighthouse at dawn",
        negative_prompt: "blurry",
        image_start: image,
        quality: "1080p",
        duration: 4,
        seed: 42,
        prompt_extend: true,
      },
    });
    expect(createGenerationInputSchema({ httpOrigins: [portal.simulator.url] }).safeParse(draft.values).success).toBe(true);
  });

  it("again: the portal's own upload links are named as files, not shown as links", async () => {
    const { url } = await saveUpload(portal.services.uploadDeps, ann, { field: "image_start", filename: "frame.png", bytes: fixture("image-240x240.png") });
    const schema = createGenerationInputSchema({ httpOrigins: [portal.simulator.url, portal.services.config.publicBaseUrl] });
    const task = await createTask(portal.services.taskDeps, ann, schema.parse({ prompt: "From an upload", image_start: url, image_end: image }));
    const draft = await as(ann).tasks.draftFrom({ taskId: task.id, as: "again" });
    expect(draft.values).toMatchObject({ generation_mode: "first_last_frame", image_start: url, image_end: image });
    expect(draft.uploads).toEqual({ image_start: "Uploaded earlier (PNG)" });
  });

  it("another member's task does not exist for them; an admin may", async () => {
    for (const kind of ["again", "continue"] as const) {
      const err = await errorOf(as(bob).tasks.draftFrom({ taskId, as: kind }));
      expect(err?.code).toBe("NOT_FOUND");
      expect(err?.message).toBe("No such task in your history");
    }
    expect((await as(admin).tasks.draftFrom({ taskId, as: "again" })).values.prompt).toBe("A lighthouse at dawn");
    expect((await errorOf(as(ann).tasks.draftFrom({ taskId: "no-such-task", as: "again" })))?.code).toBe("NOT_FOUND");
    expect((await errorOf(as(null).tasks.draftFrom({ taskId, as: "again" })))?.code).toBe("UNAUTHORIZED");
  });

  it("continue: refused with a plain message until the portal has its copy, the reason the task page gives", async () => {
    const err = await errorOf(as(ann).tasks.draftFrom({ taskId, as: "continue" }));
    expect(err?.code).toBe("BAD_REQUEST");
    expect(err?.message).toBe("This video is not saved in the portal yet; it can be continued once it is (usually within a minute).");
    expect((await as(ann).tasks.get({ id: taskId })).continuationBlocked).toBe(err?.message);
  });

  it("continue: the portal copy becomes an upload link the provider can fetch, measured and copied once", async () => {
    await archiveResult({ db: portal.services.db, storage: portal.services.storage, maxAttempts: 3 }, taskId);
    await forgetChecks(ann);
    const draft = await as(ann).tasks.draftFrom({ taskId, as: "continue" });
    const url = draft.values.video_urls?.[0] ?? "";
    expect(url.startsWith(`${portal.services.config.publicBaseUrl}/api/uploads/`)).toBe(true);
    expect(url).toMatch(/\/api\/uploads\/[0-9a-f-]{36}\.mp4\?token=[\w-]{43}$/);
    expect(draft.values).toEqual({
      generation_mode: "video_continuation",
      prompt: "A lighthouse at dawn",
      negative_prompt: "blurry",
      video_urls: [url],
      quality: "1080p",
      // the 5 s clip and 5 s more
      duration: 10,
      prompt_extend: true,
    });
    expect(draft.clip).toMatchObject({ url, facts: { kind: "clip", durationSeconds: 5 } });
    // The link works for the media check (read from storage with its token), and the request passes the schema.
    expect((await as(ann).media.check({ field: "video_urls", url })).status).toBe("ok");
    expect(createGenerationInputSchema({ httpOrigins: [portal.services.config.publicBaseUrl] }).safeParse(draft.values).success).toBe(true);
    // Continuing again reuses the one copy; an admin gets the same file.
    expect((await as(ann).tasks.draftFrom({ taskId, as: "continue" })).values.video_urls).toEqual([url]);
    expect((await as(admin).tasks.draftFrom({ taskId, as: "continue" })).values.video_urls).toEqual([url]);
    const name = new URL(url).pathname.split("/").pop();
    expect(await portal.services.storage.size(`uploads/${name}`)).toBe(await portal.services.storage.size(resultKey(taskId)));
  });

  it("continue: a video longer than a clip may be is refused, by its stored length or by the file itself", async () => {
    const task = await portal.services.db.task.findUniqueOrThrow({ where: { id: taskId } });
    expect(continuationBlocker({ ...task, durationSeconds: 15, billedSeconds: 15 }, { uploads: portal.services.uploadAvailability })).toBe(
      "This video is 15 s long; a clip to continue may be at most 10 s, so it cannot be continued as it is. Trim it to 10 s or less and upload it as the clip instead.",
    );
    // A stored copy that is really 11 s long (as the provider may return a little more than asked).
    const longKey = `results/${taskId}-long.mp4`;
    await portal.services.storage.put(longKey, fixture("clip-11s-320x240.mp4"), "video/mp4");
    await portal.services.db.task.update({ where: { id: taskId }, data: { archiveKey: longKey } });
    try {
      await forgetChecks(ann);
      const err = await errorOf(as(ann).tasks.draftFrom({ taskId, as: "continue" }));
      expect(err?.code).toBe("BAD_REQUEST");
      expect(err?.message).toMatch(/^This video is 11(\.\d+)? s long; a clip to continue may be at most 10 s, so it cannot be continued as it is\./);
    } finally {
      await portal.services.db.task.update({ where: { id: taskId }, data: { archiveKey: task.archiveKey } });
    }
  });

  it("continue: refused, and the page's Continue disabled, with the form's reason when the provider could not fetch an upload", async () => {
    // The same database and storage, served under an address the provider cannot reach (http, not this computer).
    const config = { ...portal.services.config, publicBaseUrl: "http://portal.internal:3000" };
    const unreachable = buildServices(config, { db: portal.services.db, provider: portal.services.provider, storage: portal.services.storage });
    expect(unreachable.uploadAvailability).toEqual({ enabled: false, reason: UPLOADS_UNAVAILABLE });
    await forgetChecks(ann);
    const err = await errorOf(as(ann, unreachable).tasks.draftFrom({ taskId, as: "continue" }));
    expect(err?.code).toBe("BAD_REQUEST");
    expect(err?.message).toBe(`The video service would fetch this video from the portal's uploads, which it cannot reach here. ${UPLOADS_UNAVAILABLE}`);
    expect((await as(ann, unreachable).tasks.get({ id: taskId })).continuationBlocked).toBe(err?.message);
    // Refused before anything was read: not counted as a file check.
    expect(await portal.services.db.rateLimitCounter.count({ where: { key: `media-check:${ann.id}` } })).toBe(0);
    // Under the portal's own (reachable) address the same task can be continued.
    expect((await as(ann).tasks.get({ id: taskId })).continuationBlocked).toBeNull();
  });

  it("continue counts as a file check against the person's limit", async () => {
    await forgetChecks(ann);
    for (let i = 0; i < LIMIT; i++) await as(ann).tasks.draftFrom({ taskId, as: "continue" });
    expect((await errorOf(as(ann).tasks.draftFrom({ taskId, as: "continue" })))?.code).toBe("TOO_MANY_REQUESTS");
    // "again" reads no file: not counted.
    expect((await as(ann).tasks.draftFrom({ taskId, as: "again" })).values.prompt).toBe("A lighthouse at dawn");
  });
});
