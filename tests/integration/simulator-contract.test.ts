/**
 * The simulator's request contract, table-driven from the provider's seed
 * reference (written out here again, on purpose, rather than imported): each
 * mode's required / optional / refused materials, every automatic mode
 * selection, each limit at, just inside and just outside its bound, unknown
 * fields, the wrong model, 401 and malformed task ids. Raw HTTP, so requests
 * the portal's client could never build can be sent too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../server/simulator/simulator.ts";
import { SEED_AUTO_SELECTION, SEED_MATERIALS, SEED_MODE_TABLE, type SeedMaterial, type SeedMode } from "../fixtures/seed-contract.ts";

const API_KEY = "sim-contract-key-41d2";
const MODEL = "wan2.7-image-to-video";

type Material = SeedMaterial;
type Mode = SeedMode;

const MATERIAL_VALUE: Record<Material, unknown> = {
  image_start: "https://example.com/first.png",
  image_end: "https://example.com/last.png",
  video_urls: ["https://example.com/clip.mp4"],
  audio_urls: ["https://example.com/voice.mp3"],
};
const ALL_MATERIALS: Material[] = SEED_MATERIALS;

/** The seed's table. */
const MODE_TABLE = SEED_MODE_TABLE;
const AUTO = SEED_AUTO_SELECTION;

let sim: Simulator;

const materials = (list: Material[]) => Object.fromEntries(list.map((m) => [m, MATERIAL_VALUE[m]]));
const body = (extra: Record<string, unknown> = {}) => ({ model: MODEL, prompt: "A cat playing piano", image_start: MATERIAL_VALUE.image_start, ...extra });

async function post(payload: unknown, key: string | null = API_KEY, raw = false) {
  const res = await fetch(`${sim.url}/v1/videos/generations`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(key !== null && { Authorization: `Bearer ${key}` }) },
    body: raw ? String(payload) : JSON.stringify(payload),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** Expects the provider's 400 error body naming `param`. */
async function expectRefused(payload: unknown, param: string | undefined, code = "invalid_parameters") {
  const { status, json } = await post(payload);
  expect(status, JSON.stringify(json)).toBe(400);
  expect(json.error).toMatchObject({ code, type: "invalid_request_error" });
  expect(json.error.message).toBeTypeOf("string");
  if (param !== undefined) expect(json.error.param).toBe(param);
  else expect(json.error.param).toBeUndefined();
}

/** Expects a created task; returns the simulator's record of it. */
async function expectAccepted(payload: unknown) {
  const { status, json } = await post(payload);
  expect(status, JSON.stringify(json)).toBe(200);
  expect(json).toMatchObject({ object: "video.generation.task", status: "pending", model: MODEL });
  const task = sim.getTask(json.id as string);
  expect(task).toBeDefined();
  return task!;
}

beforeAll(async () => {
  // Tasks never advance: no timers firing, no callbacks.
  sim = await startSimulator({ port: 0, apiKey: API_KEY, stepMs: 600_000 });
});

afterAll(async () => {
  await sim?.close();
});

describe("modes with an explicit generation_mode", () => {
  const cases: Array<{ name: string; mode: Mode; present: Material[]; expect: "ok" | Material }> = [];
  for (const [mode, rule] of Object.entries(MODE_TABLE) as Array<[Mode, (typeof MODE_TABLE)[Mode]]>) {
    cases.push({ name: "required only", mode, present: rule.required, expect: "ok" });
    for (const opt of rule.optional) cases.push({ name: `required + optional ${opt}`, mode, present: [...rule.required, opt], expect: "ok" });
    for (const req of rule.required) {
      cases.push({ name: `missing required ${req}`, mode, present: [...rule.required.filter((m) => m !== req), ...rule.optional], expect: req });
    }
    for (const refused of rule.refused) {
      cases.push({ name: `refused ${refused}`, mode, present: [...rule.required, refused], expect: refused });
      cases.push({ name: `refused ${refused} with optionals`, mode, present: [...rule.required, ...rule.optional, refused], expect: refused });
    }
  }

  it.each(cases)("$mode: $name", async ({ mode, present, expect: outcome }) => {
    const payload = { model: MODEL, prompt: "p", generation_mode: mode, ...materials(present) };
    if (outcome === "ok") {
      const task = await expectAccepted(payload);
      expect(task.mode).toBe(mode);
      expect(task.modeDerived).toBe(false);
    } else {
      await expectRefused(payload, outcome);
    }
  });

  it("video_continuation needs a non-empty video_urls", async () => {
    await expectRefused({ model: MODEL, prompt: "p", generation_mode: "video_continuation", video_urls: [] }, "video_urls");
  });

  it("refuses an unknown generation_mode", async () => {
    await expectRefused(body({ generation_mode: "text_to_video" }), "generation_mode");
    await expectRefused(body({ generation_mode: "" }), "generation_mode");
  });
});

describe("automatic mode selection (no generation_mode)", () => {
  const subsets: Material[][] = [];
  for (let mask = 0; mask < 16; mask++) subsets.push(ALL_MATERIALS.filter((_, i) => mask & (1 << i)));
  const key = (list: Material[]) => [...list].sort().join("+");
  const auto = new Map(AUTO.map(([list, mode]) => [key(list), mode]));

  it("covers the six documented combinations", () => {
    expect(subsets.filter((s) => auto.has(key(s)))).toHaveLength(6);
  });

  it.each(subsets.map((present) => ({ present, label: present.join(" + ") || "(no material)", mode: auto.get(key(present)) })))(
    "$label -> $mode",
    async ({ present, mode }) => {
      const payload = { model: MODEL, prompt: "p", ...materials(present) };
      if (mode !== undefined) {
        const task = await expectAccepted(payload);
        expect(task.mode).toBe(mode);
        expect(task.modeDerived).toBe(true);
      } else {
        await expectRefused(payload, "generation_mode");
      }
    },
  );
});

describe("limits", () => {
  const chars = (n: number, ch = "a") => ch.repeat(n);
  // at, just inside, just outside each bound
  const ok: Array<[string, Record<string, unknown>]> = [
    ["prompt 5000 chars", { prompt: chars(5000) }],
    ["prompt 4999 chars", { prompt: chars(4999) }],
    ["prompt 5000 CJK characters", { prompt: chars(5000, "猫") }],
    ["prompt 5000 astral characters (10000 UTF-16 units)", { prompt: chars(5000, "🎹") }],
    ["negative_prompt 500 chars", { negative_prompt: chars(500) }],
    ["negative_prompt 499 chars", { negative_prompt: chars(499) }],
    ["negative_prompt empty", { negative_prompt: "" }],
    ["duration 2", { duration: 2 }],
    ["duration 3", { duration: 3 }],
    ["duration 14", { duration: 14 }],
    ["duration 15", { duration: 15 }],
    ["seed 1", { seed: 1 }],
    ["seed 2", { seed: 2 }],
    ["seed 2147483646", { seed: 2147483646 }],
    ["seed 2147483647", { seed: 2147483647 }],
    ["quality 720p", { quality: "720p" }],
    ["quality 1080p", { quality: "1080p" }],
    ["prompt_extend true", { prompt_extend: true }],
    ["prompt_extend false", { prompt_extend: false }],
    ["audio_urls with 1 element", { audio_urls: ["https://example.com/a.wav"] }],
    ["callback_url of 2048 chars", { callback_url: `https://hooks.example.com/${chars(2048 - "https://hooks.example.com/".length)}` }],
    ["callback_url over http", { callback_url: "http://127.0.0.1:9/hook?token=t" }],
    ["image_start over http on loopback", { image_start: "http://127.0.0.1:4010/samples/first-frame.png" }],
    ["image_start over http on localhost", { image_start: "http://localhost:4010/samples/first-frame.png" }],
    ["every optional field at once", { generation_mode: "first_frame", negative_prompt: "blur", quality: "1080p", duration: 10, seed: 42, prompt_extend: true, audio_urls: ["https://example.com/a.mp3"], callback_url: "https://hooks.example.com/x" }],
  ];
  it.each(ok)("accepts %s", async (_name, extra) => {
    await expectAccepted(body(extra));
  });

  const refused: Array<[string, Record<string, unknown>, string]> = [
    ["prompt 5001 chars", { prompt: chars(5001) }, "prompt"],
    ["prompt 5001 CJK characters", { prompt: chars(5001, "猫") }, "prompt"],
    ["prompt 5001 astral characters", { prompt: chars(5001, "🎹") }, "prompt"],
    ["an empty prompt", { prompt: "" }, "prompt"],
    ["a blank prompt", { prompt: "   " }, "prompt"],
    ["a prompt that is not a string", { prompt: 42 }, "prompt"],
    ["negative_prompt 501 chars", { negative_prompt: chars(501) }, "negative_prompt"],
    ["duration 1", { duration: 1 }, "duration"],
    ["duration 16", { duration: 16 }, "duration"],
    ["duration 5.5", { duration: 5.5 }, "duration"],
    ['duration "5"', { duration: "5" }, "duration"],
    ["seed 0", { seed: 0 }, "seed"],
    ["seed 2147483648", { seed: 2147483648 }, "seed"],
    ["seed 1.5", { seed: 1.5 }, "seed"],
    ["quality 480p", { quality: "480p" }, "quality"],
    ["quality 1080P", { quality: "1080P" }, "quality"],
    ['prompt_extend "true"', { prompt_extend: "true" }, "prompt_extend"],
    ["audio_urls with 2 elements", { audio_urls: ["https://example.com/a.mp3", "https://example.com/b.mp3"] }, "audio_urls"],
    ["audio_urls not an array", { audio_urls: "https://example.com/a.mp3" }, "audio_urls"],
    ["callback_url of 2049 chars", { callback_url: `https://hooks.example.com/${chars(2049 - "https://hooks.example.com/".length)}` }, "callback_url"],
    ["callback_url over ftp", { callback_url: "ftp://hooks.example.com/x" }, "callback_url"],
    ["callback_url not a URL", { callback_url: "hooks" }, "callback_url"],
    ["image_start over http on a public host", { image_start: "http://example.com/a.png" }, "image_start"],
    ["image_start not a URL", { image_start: "first.png" }, "image_start"],
    ["image_start over ftp", { image_start: "ftp://example.com/a.png" }, "image_start"],
    ["an audio URL over http on a public host", { audio_urls: ["http://example.com/a.mp3"] }, "audio_urls"],
    ["an unknown field", { resolution: "720p" }, "resolution"],
    ["a user-style field the provider does not know", { aspect_ratio: "16:9" }, "aspect_ratio"],
    ["a null optional field", { seed: null }, "seed"],
    ["the wrong model", { model: "wan2.6-image-to-video" }, "model"],
    ["a missing model", { model: undefined }, "model"],
  ];
  it.each(refused)("refuses %s", async (_name, extra, param) => {
    await expectRefused(body(extra), param);
  });

  it("video_urls with 2 elements is refused", async () => {
    await expectRefused({ model: MODEL, prompt: "p", video_urls: ["https://example.com/a.mp4", "https://example.com/b.mp4"] }, "video_urls");
  });

  it("refuses a body that is not a JSON object", async () => {
    for (const payload of [[1, 2], "text", 42]) await expectRefused(payload, undefined);
    const { status, json } = await post("{not json", API_KEY, true);
    expect(status).toBe(400);
    expect(json.error.code).toBe("invalid_json");
  });

  it("records every refusal, and counts nothing as created", async () => {
    sim.reset();
    await expectRefused(body({ duration: 99 }), "duration");
    await expectRefused(body({ model: "x" }), "model");
    expect(sim.refusals.map((r) => [r.status, r.code, r.param])).toEqual([
      [400, "invalid_parameters", "duration"],
      [400, "invalid_parameters", "model"],
    ]);
    expect(sim.stats).toMatchObject({ created: 0, refused: 2 });
    expect(sim.requests.map((r) => r.response?.status)).toEqual([400, 400]);
  });
});

describe("authentication and task ids", () => {
  it("answers 401 without a valid key, before looking at the body", async () => {
    for (const key of [null, "wrong-key", `${API_KEY}x`]) {
      const create = await post(body({ model: "wrong" }), key);
      expect(create.status).toBe(401);
      expect(create.json.error).toMatchObject({ code: "unauthorized" });
      const query = await fetch(`${sim.url}/v1/tasks/task-unified-1757169743-abcdefgh`, key === null ? {} : { headers: { Authorization: `Bearer ${key}` } });
      expect(query.status).toBe(401);
      expect(((await query.json()) as any).error.code).toBe("unauthorized");
    }
    const basic = await fetch(`${sim.url}/v1/tasks/task-unified-1757169743-abcdefgh`, { headers: { Authorization: `Basic ${API_KEY}` } });
    expect(basic.status).toBe(401);
  });

  it.each(["abc", "task-123", "task-unified-", "task-unified-abc-def", "task-unified-1757169743-", "TASK-UNIFIED-1-ABC", "task-unified-1-abc%2F..", " task-unified-1-abc"])(
    "answers 400 invalid_task_id for %j",
    async (id) => {
      const res = await fetch(`${sim.url}/v1/tasks/${id.includes("%") ? id : encodeURIComponent(id)}`, { headers: { Authorization: `Bearer ${API_KEY}` } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error).toMatchObject({ code: "invalid_task_id", param: "task_id" });
    },
  );

  it("answers 404 task_not_found for a well-formed unknown id and 200 for a known one", async () => {
    const unknown = await fetch(`${sim.url}/v1/tasks/task-unified-1757169743-zzzzzzzz`, { headers: { Authorization: `Bearer ${API_KEY}` } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe("task_not_found");
    const task = await expectAccepted(body());
    const known = await fetch(`${sim.url}/v1/tasks/${task.task.id}`, { headers: { Authorization: `Bearer ${API_KEY}` } });
    expect(known.status).toBe(200);
    expect(await known.json()).toEqual(task.task);
  });
});

describe('overlongText: "truncate" (as the provider)', () => {
  it("accepts over-long text, records the truncation and counts it", async () => {
    const lenient = await startSimulator({ port: 0, apiKey: API_KEY, stepMs: 600_000, overlongText: "truncate" });
    try {
      const res = await fetch(`${lenient.url}/v1/videos/generations`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify(body({ prompt: "a".repeat(5001), negative_prompt: "b".repeat(501) })),
      });
      expect(res.status).toBe(200);
      const { id } = (await res.json()) as { id: string };
      expect(lenient.getTask(id)?.truncated).toEqual(["prompt", "negative_prompt"]);
      expect(lenient.stats.truncated).toBe(1);
    } finally {
      await lenient.close();
    }
  });
});
