/**
 * The simulator's request contract, table-driven from the provider's seed
 * reference (tests/fixtures/contract-cases.ts, written from the seed and not
 * from either implementation; the portal's /v1 API runs the same table): each
 * mode's required / optional / refused materials, every automatic mode
 * selection, each limit at, just inside and just outside its bound, unknown
 * fields, the wrong model; then 401 and malformed task ids. Raw HTTP, so
 * requests the portal's client could never build can be sent too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../server/simulator/simulator.ts";
import { contractCases, EXAMPLE_URLS, NOT_AN_OBJECT } from "../fixtures/contract-cases.ts";

const API_KEY = "sim-contract-key-41d2";
const MODEL = "wan2.7-image-to-video";

let sim: Simulator;

const body = (extra: Record<string, unknown> = {}) => ({ model: MODEL, prompt: "A cat playing piano", image_start: EXAMPLE_URLS.image_start, ...extra });

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

describe("the contract table (tests/fixtures/contract-cases.ts, run against the portal's /v1 too)", () => {
  it.each(contractCases(EXAMPLE_URLS))("$name", async (c) => {
    if (c.expect === "ok") {
      const task = await expectAccepted(c.body);
      if (c.mode) {
        expect(task.mode).toBe(c.mode);
        expect(task.modeDerived).toBe(c.derived);
      }
    } else {
      await expectRefused(c.body, c.expect.param ?? undefined);
    }
  });

  it("covers the six documented automatic combinations", () => {
    expect(contractCases(EXAMPLE_URLS).filter((c) => c.derived === true)).toHaveLength(6);
  });
});

describe("limits the simulator alone relaxes (for local runs and tests)", () => {
  it.each([
    ["callback_url over http", { callback_url: "http://127.0.0.1:9/hook?token=t" }],
    ["image_start over http on loopback", { image_start: "http://127.0.0.1:4010/samples/first-frame.png" }],
    ["image_start over http on localhost", { image_start: "http://localhost:4010/samples/first-frame.png" }],
  ])("accepts %s", async (_name, extra) => {
    await expectAccepted(body(extra));
  });

  it("refuses a body that is not a JSON object", async () => {
    for (const payload of NOT_AN_OBJECT) await expectRefused(payload, undefined);
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
