/**
 * The request contract through tRPC against Postgres and the simulator: what
 * is accepted reaches the provider exactly once and is stored with its mode
 * and estimate; what is refused never reaches the provider and stores nothing.
 */
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root.ts";
import { fieldErrorsOf } from "@/server/errors.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { startTestPortal, type TestPortal } from "../helpers/services.ts";

let portal: TestPortal;
let user: SessionUser;
let image: string;
let clip: string; // the simulator's 5 s sample MP4
const audio = "https://example.com/voice.mp3"; // unreachable here: left for the provider to judge
const creates = () => portal.simulator.requests.filter((r) => r.method === "POST" && r.path === "/v1/videos/generations").length;

beforeAll(async () => {
  portal = await startTestPortal();
  user = await createUser(portal.services.db, { email: "contract@example.test", password: "password-1" });
  image = `${portal.simulator.url}/samples/first-frame.png`;
  clip = `${portal.simulator.url}/files/sample.mp4`;
});
afterAll(() => portal?.close());

const call = (input: Record<string, unknown>) => createCaller({ services: portal.services, user }).tasks.create(input as never);

describe("accepted requests", () => {
  const cases: Array<[string, () => Record<string, unknown>, string, number]> = [
    ["first_frame", () => ({ generation_mode: "first_frame", image_start: image }), "first_frame", 5],
    ["first_frame + audio", () => ({ generation_mode: "first_frame", image_start: image, audio_urls: [audio] }), "first_frame", 5],
    ["first_last_frame", () => ({ generation_mode: "first_last_frame", image_start: image, image_end: image }), "first_last_frame", 5],
    ["first_last_frame + audio", () => ({ generation_mode: "first_last_frame", image_start: image, image_end: image, audio_urls: [audio] }), "first_last_frame", 5],
    ["video_continuation (duration = clip)", () => ({ generation_mode: "video_continuation", video_urls: [clip], duration: 5 }), "video_continuation", 5],
    ["video_continuation + image_end", () => ({ generation_mode: "video_continuation", video_urls: [clip], image_end: image, duration: 15 }), "video_continuation", 15],
    ["auto: image_start", () => ({ image_start: image }), "first_frame", 5],
    ["auto: image_start + audio", () => ({ image_start: image, audio_urls: [audio] }), "first_frame", 5],
    ["auto: image_start + image_end", () => ({ image_start: image, image_end: image }), "first_last_frame", 5],
    ["auto: image_start + image_end + audio", () => ({ image_start: image, image_end: image, audio_urls: [audio] }), "first_last_frame", 5],
    ["auto: video_urls", () => ({ video_urls: [clip], duration: 6 }), "video_continuation", 6],
    ["auto: video_urls + image_end", () => ({ video_urls: [clip], image_end: image, duration: 10 }), "video_continuation", 10],
  ];
  it.each(cases)("%s", async (name, materials, mode, duration) => {
    const before = creates();
    const task = await call({ prompt: `accepted: ${name}`, ...materials() });
    expect(creates()).toBe(before + 1);
    expect(task.mode).toBe(mode);
    expect(task.status).toBe("pending");
    const stored = await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
    expect((stored.request as { generation_mode?: string }).generation_mode).toBe(mode);
    expect(stored.durationSeconds).toBe(duration);
    expect(Number(stored.estimatedCost)).toBeCloseTo(duration * 0.086, 6);
    if (mode === "video_continuation") expect(stored.inputClipSeconds).toBeCloseTo(5, 1);
    expect(portal.simulator.getTask(stored.providerTaskId!)?.mode).toBe(mode);
  });
});

describe("refused before any provider call", () => {
  const cases: Array<[string, () => Record<string, unknown>, string]> = [
    ["image_end in first_frame", () => ({ generation_mode: "first_frame", image_start: image, image_end: image }), "image_end"],
    ["video in first_frame", () => ({ generation_mode: "first_frame", image_start: image, video_urls: [clip] }), "video_urls"],
    ["first_last_frame without image_end", () => ({ generation_mode: "first_last_frame", image_start: image }), "image_end"],
    ["video in first_last_frame", () => ({ generation_mode: "first_last_frame", image_start: image, image_end: image, video_urls: [clip] }), "video_urls"],
    ["image_start in continuation", () => ({ generation_mode: "video_continuation", video_urls: [clip], image_start: image, duration: 5 }), "image_start"],
    ["audio in continuation", () => ({ generation_mode: "video_continuation", video_urls: [clip], audio_urls: [audio], duration: 5 }), "audio_urls"],
    ["continuation without a clip", () => ({ generation_mode: "video_continuation", image_end: image }), "video_urls"],
    ["two clips", () => ({ video_urls: [clip, clip], duration: 10 }), "video_urls"],
    ["two audio files", () => ({ image_start: image, audio_urls: [audio, audio] }), "audio_urls"],
    ["auto: no material", () => ({}), "image_start"],
    ["auto: image_end alone", () => ({ image_end: image }), "image_start"],
    ["auto: audio alone", () => ({ audio_urls: [audio] }), "image_start"],
    ["duration 1", () => ({ image_start: image, duration: 1 }), "duration"],
    ["duration 16", () => ({ image_start: image, duration: 16 }), "duration"],
    ["duration 2.5", () => ({ image_start: image, duration: 2.5 }), "duration"],
    ["seed 0", () => ({ image_start: image, seed: 0 }), "seed"],
    ["seed 2147483648", () => ({ image_start: image, seed: 2147483648 }), "seed"],
    ["prompt of 5001 characters", () => ({ image_start: image, prompt: "猫".repeat(5001) }), "prompt"],
    ["negative_prompt of 501 characters", () => ({ image_start: image, negative_prompt: "x".repeat(501) }), "negative_prompt"],
    ["http image", () => ({ image_start: "http://example.com/a.png" }), "image_start"],
    ["quality 4k", () => ({ image_start: image, quality: "4k" }), "quality"],
    // Media rules, on the file itself:
    ["continuation shorter than its clip", () => ({ video_urls: [clip], duration: 4 }), "duration"],
    ["a video given as the first frame", () => ({ image_start: clip }), "image_start"],
    ["an image given as the clip", () => ({ video_urls: [image], duration: 10 }), "video_urls"],
  ];
  it.each(cases)("%s", async (name, materials, field) => {
    const before = creates();
    const tasksBefore = await portal.services.db.task.count();
    const err = await call({ prompt: `refused: ${name}`, ...materials() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe("BAD_REQUEST");
    const cause = (err as TRPCError).cause as { issues?: unknown[]; fieldErrors?: Record<string, string[]> } | undefined;
    const fields = cause?.fieldErrors ?? (cause?.issues ? fieldErrorsOf(cause as never) : {});
    expect(Object.keys(fields).some((k) => k === field || k.startsWith(`${field}.`))).toBe(true);
    expect(creates()).toBe(before);
    expect(await portal.services.db.task.count()).toBe(tasksBefore);
  });
});
