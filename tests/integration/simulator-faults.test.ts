/**
 * Each fault control of the simulator, exercised with the real provider
 * client: HTTP faults (429 with Retry-After, 500, 502, 503, hang) and the
 * client's retry rules (what it retries, with which idempotency key, within
 * which deadline), failed tasks with every documented code, and callback
 * faults (drop, delay, duplicate, reorder, retries on 500 and on silence).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createEvolinkProvider, type EvolinkProviderOptions } from "../../server/provider/evolink.ts";
import { MODEL_ID, ProviderError, type GenerationRequestBody } from "../../server/provider/types.ts";
import { FAILED_TASK_CODES, FAILED_TASK_MESSAGES, startSimulator, type SimTaskObject, type Simulator } from "../../server/simulator/simulator.ts";
import { providerError } from "../helpers/provider.ts";

const API_KEY = "sim-faults-key-7c3a9e";
const STEP_MS = 20;
const RETRY_DELAYS_MS = [100, 200, 400];
const CALLBACK_TIMEOUT_MS = 150;

let sim: Simulator;

const request = (extra: Partial<GenerationRequestBody> = {}): GenerationRequestBody => ({
  model: MODEL_ID,
  generation_mode: "first_frame",
  prompt: "A cat playing piano",
  image_start: `${sim.url}/samples/first-frame.png`,
  ...extra,
});

const client = (extra: Partial<EvolinkProviderOptions> = {}) =>
  createEvolinkProvider({
    baseUrl: sim.url,
    apiKey: API_KEY,
    timeoutMs: 2_000,
    retry: { getTask: { baseMs: 5, capMs: 40, deadlineMs: 2_500 }, createGeneration: { baseMs: 5, capMs: 40, deadlineMs: 2_500 } },
    ...extra,
  });


async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ended = (id: string) => waitFor(() => {
  const t = sim.getTask(id);
  return t?.task.status === "completed" || t?.task.status === "failed" ? t : undefined;
}, 10_000);

const statuses = () => sim.requests.map((r) => r.response?.status ?? "none");

interface Receiver {
  url: string;
  calls: Array<{ at: number; body: SimTaskObject }>;
  close(): Promise<void>;
}

/** A callback receiver; `answer(n)` (n = 0-based call number) gives the status, or "hang" to never answer. */
async function receiver(answer: (n: number) => number | "hang" = () => 200): Promise<Receiver> {
  const calls: Receiver["calls"] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const n = calls.length;
    calls.push({ at: Date.now(), body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as SimTaskObject });
    const status = answer(n);
    if (status !== "hang") res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=t`,
    calls,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: API_KEY, stepMs: STEP_MS, callbackRetryDelaysMs: RETRY_DELAYS_MS, callbackTimeoutMs: CALLBACK_TIMEOUT_MS });
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(() => {
  sim.reset();
});

describe("HTTP faults and the client's retries", () => {
  it("retries a create answered 429, no sooner than Retry-After, with the same Idempotency-Key", async () => {
    sim.faults.http({ endpoint: "create", status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const task = await client().createGeneration(request(), { idempotencyKey: "portal-task-1" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(task.status).toBe("pending");
    expect(statuses()).toEqual([429, 200]);
    expect(sim.requests.map((r) => r.idempotencyKey)).toEqual(["portal-task-1", "portal-task-1"]);
    expect(sim.requests[1]!.at - sim.requests[0]!.at).toBeGreaterThanOrEqual(1_000);
    expect(sim.stats.created).toBe(1);
  });

  it("retries a query answered 429, no sooner than Retry-After", async () => {
    const created = await client().createGeneration(request());
    sim.reset();
    sim.faults.http({ endpoint: "query", status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    expect((await client().getTask(created.id)).id).toBe(created.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(statuses()).toEqual([429, 200]);
  });

  it("gives up at once on a 429 whose Retry-After ends past the deadline", async () => {
    sim.faults.http({ endpoint: "create", status: 429, retryAfterSeconds: 60 });
    const err = await providerError(client().createGeneration(request()));
    expect(err).toMatchObject({ kind: "rate_limited", details: { status: 429, code: "rate_limit_exceeded", retryAfterSeconds: 60, attempts: 1 } });
    expect(err.outcomeUnknown).toBe(false);
    expect(statuses()).toEqual([429]);
  });

  it("retries a create answered 503 (and 429 without Retry-After), keeping one Idempotency-Key, then succeeds", async () => {
    sim.faults.http({ endpoint: "create", status: 503, count: 2 });
    sim.faults.http({ endpoint: "create", status: 429, retryAfterSeconds: null });
    const task = await client().createGeneration(request());
    expect(task.status).toBe("pending");
    expect(statuses()).toEqual([503, 503, 429, 200]);
    const keys = new Set(sim.requests.map((r) => r.idempotencyKey));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(sim.stats.created).toBe(1);
  });

  it.each([502, 503] as const)("retries a query answered %i, then succeeds", async (status) => {
    const created = await client().createGeneration(request());
    sim.reset();
    sim.faults.http({ endpoint: "query", status, count: 2 });
    expect((await client().getTask(created.id)).id).toBe(created.id);
    expect(statuses()).toEqual([status, status, 200]);
  });

  it("does not retry a create answered 502 and reports the outcome as unknown", async () => {
    // The provider's gateway did pass the request on: the task exists.
    sim.faults.http({ endpoint: "create", status: 502, createTask: true });
    const err = await providerError(client().createGeneration(request()));
    expect(err.kind).toBe("upstream");
    expect(err.outcomeUnknown).toBe(true);
    expect(err.details).toMatchObject({ status: 502, outcomeUnknown: true, attempts: 1 });
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("may have been created");
    expect(statuses()).toEqual([502]);
    expect(sim.stats.created).toBe(1);
  });

  it("does not retry a 500, on create or on query", async () => {
    sim.faults.http({ endpoint: "any", status: 500, count: 2 });
    const create = await providerError(client().createGeneration(request()));
    expect(create).toMatchObject({ kind: "internal", details: { status: 500, code: "internal_error", attempts: 1 } });
    expect(create.outcomeUnknown).toBe(false);
    const query = await providerError(client().getTask("task-unified-1757169743-abcdefgh"));
    expect(query).toMatchObject({ kind: "internal", details: { status: 500, attempts: 1 } });
    expect(statuses()).toEqual([500, 500]);
  });

  it("turns a hung query into a network error within the client's timeout", async () => {
    sim.faults.http({ endpoint: "query", hang: true });
    const started = Date.now();
    const err = await providerError(client({ timeoutMs: 200, retry: { getTask: { maxAttempts: 1 } } }).getTask("task-unified-1757169743-abcdefgh"));
    const elapsed = Date.now() - started;
    expect(err.kind).toBe("network");
    expect(err.message).toContain("200 ms");
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(3_000);
    expect(sim.requests[0]).toMatchObject({ fault: "hang" });
    expect(sim.requests[0]!.response).toBeUndefined();
  });

  it("retries a hung query within its deadline, then succeeds", async () => {
    const created = await client().createGeneration(request());
    sim.reset();
    sim.faults.http({ endpoint: "query", hang: true });
    const task = await client({ timeoutMs: 600 }).getTask(created.id);
    expect(task.id).toBe(created.id);
    expect(statuses()).toEqual(["none", 200]);
  });

  it("does not retry a hung create and reports the outcome as unknown", async () => {
    sim.faults.http({ endpoint: "create", hang: true, count: 5 });
    const err = await providerError(client({ timeoutMs: 150 }).createGeneration(request()));
    expect(err.kind).toBe("network");
    expect(err.outcomeUnknown).toBe(true);
    expect(err.retryable).toBe(false);
    expect(sim.requests).toHaveLength(1);
  });

  it("cuts a hung connection after hangMs", async () => {
    sim.faults.http({ endpoint: "query", hang: true, hangMs: 100 });
    const started = Date.now();
    const err = await providerError(client({ retry: { getTask: { maxAttempts: 1 } } }).getTask("task-unified-1757169743-abcdefgh"));
    expect(err.kind).toBe("network");
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("respects the total deadline, whether the provider answers 503 or hangs", async () => {
    sim.faults.http({ endpoint: "query", status: 503, count: 1_000 });
    const fast = client({ retry: { getTask: { baseMs: 20, capMs: 50, deadlineMs: 400 } } });
    let started = Date.now();
    const unavailable = await providerError(fast.getTask("task-unified-1757169743-abcdefgh"));
    let elapsed = Date.now() - started;
    // The last attempt may be the one the deadline cuts short (then "network").
    expect(["unavailable", "network"]).toContain(unavailable.kind);
    expect(unavailable.details.attempts).toBeGreaterThan(2);
    expect(sim.requests.filter((r) => r.response?.status === 503).length).toBeGreaterThan(1);
    expect(elapsed).toBeLessThan(400 + 1000);

    sim.reset();
    sim.faults.http({ endpoint: "query", hang: true, count: 1_000 });
    const patient = client({ timeoutMs: 5_000, retry: { getTask: { deadlineMs: 300 } } });
    started = Date.now();
    const hung = await providerError(patient.getTask("task-unified-1757169743-abcdefgh"));
    elapsed = Date.now() - started;
    expect(hung.kind).toBe("network");
    // The attempt's own timeout (5 s) is cut to what is left of the deadline.
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + 1000);
  });

  it("answers faults only to the endpoint and for the count asked", async () => {
    sim.faults.http({ endpoint: "query", status: 403, count: 2 });
    const created = await client().createGeneration(request());
    const p = client();
    await expect(p.getTask(created.id)).rejects.toMatchObject({ kind: "forbidden", details: { code: "permission_denied" } });
    await expect(p.getTask(created.id)).rejects.toMatchObject({ kind: "forbidden" });
    await expect(p.getTask(created.id)).resolves.toMatchObject({ id: created.id });
    expect(sim.faults.list().http).toEqual([]);
  });

  it("can fault a result download", async () => {
    const created = await client().createGeneration(request());
    const done = await ended(created.id);
    sim.faults.http({ endpoint: "file", status: 503 });
    const url = done.task.results![0]!;
    expect((await fetch(url)).status).toBe(503);
    expect((await fetch(url)).status).toBe(200);
  });

  it("refuses an invalid rule", () => {
    expect(() => sim.faults.http({ status: 503, hang: true })).toThrow(/either status or hang/);
    expect(() => sim.faults.http({ status: 418 as 500 })).toThrow(/Invalid simulator fault rule/);
    expect(() => sim.faults.callbacks({ duplicate: 0 })).toThrow(/duplicate/);
  });
});

describe("failed tasks", () => {
  it("fails the next created tasks with each documented code and its message", async () => {
    for (const code of FAILED_TASK_CODES) sim.faults.failTask({ code });
    const p = client();
    const ids: string[] = [];
    for (let i = 0; i < FAILED_TASK_CODES.length; i++) ids.push((await p.createGeneration(request())).id);
    const extra = await p.createGeneration(request()); // rules used up: completes
    await Promise.all(ids.map((id) => ended(id)));
    for (const [i, id] of ids.entries()) {
      const task = await p.getTask(id);
      const code = FAILED_TASK_CODES[i]!;
      expect(task.status).toBe("failed");
      expect(task.error).toEqual({ code, message: FAILED_TASK_MESSAGES[code], type: "task_error" });
      expect(task.results).toBeUndefined();
    }
    expect((await ended(extra.id)).task.status).toBe("completed");
    expect(FAILED_TASK_CODES).toHaveLength(13);
  });

  it("fails tasks by prompt marker, by rule or by the [sim:fail:<code>] marker", async () => {
    sim.faults.failTask({ marker: "#boom", code: "generation_timeout", message: "Took too long." });
    const p = client();
    const a = await p.createGeneration(request({ prompt: "one #boom" }));
    const b = await p.createGeneration(request({ prompt: "two #boom" }));
    const c = await p.createGeneration(request({ prompt: "three" }));
    const d = await p.createGeneration(request({ prompt: "four [sim:fail:resource_exhausted]" }));
    const e = await p.createGeneration(request({ prompt: "five [sim:fail:brand_new_code]" }));
    const [ta, tb, tc, td, te] = await Promise.all([a, b, c, d, e].map((t) => ended(t.id)));
    expect(ta!.task.error).toMatchObject({ code: "generation_timeout", message: "Took too long." });
    expect(tb!.task.error).toMatchObject({ code: "generation_timeout" });
    expect(tc!.task.status).toBe("completed");
    expect(td!.task.error).toMatchObject({ code: "resource_exhausted", message: FAILED_TASK_MESSAGES.resource_exhausted });
    expect(te!.task.error).toMatchObject({ code: "brand_new_code" });
  });
});

describe("pace", () => {
  it("runs tasks picked by marker at their own pace, the others at the simulator's", async () => {
    sim.faults.pace({ marker: "#slow", stepMs: 300 });
    const p = client();
    const before = Date.now();
    const slow = await p.createGeneration(request({ prompt: "a #slow one" }));
    const quick = await p.createGeneration(request({ prompt: "a quick one" }));
    const [s, q] = await Promise.all([ended(slow.id), ended(quick.id)]);
    // Five steps each: the slow task took at least 5 × 300 ms from its creation.
    expect(s.endedAt! - before).toBeGreaterThanOrEqual(5 * 300);
    expect(s.endedAt!).toBeGreaterThan(q.endedAt!);
    expect(s.stepMs).toBe(300);
    expect(q.stepMs).toBeUndefined();
    expect(sim.faults.list().pace).toEqual([{ marker: "#slow", stepMs: 300 }]);
  });
});

describe("callbacks", () => {
  async function withReceiver(answer: ((n: number) => number | "hang") | undefined, body: (r: Receiver) => Promise<void>) {
    const r = await receiver(answer);
    try {
      await body(r);
    } finally {
      await r.close();
    }
  }

  it("sends one callback when the task ends, and none for progress by default", async () => {
    await withReceiver(undefined, async (r) => {
      const created = await client().createGeneration(request({ callback_url: r.url }));
      const done = await ended(created.id);
      await waitFor(() => (r.calls.length >= 1 ? true : undefined), 10_000);
      await new Promise((res) => setTimeout(res, 100));
      expect(r.calls.map((c) => c.body.status)).toEqual(["completed"]);
      expect(r.calls[0]!.body).toEqual(done.task);
    });
  });

  it("drops callbacks", async () => {
    await withReceiver(undefined, async (r) => {
      sim.faults.callbacks({ drop: true });
      const created = await client().createGeneration(request({ callback_url: r.url }));
      const done = await ended(created.id);
      await new Promise((res) => setTimeout(res, 150));
      expect(r.calls).toEqual([]);
      expect(done.callbackDropped).toBe(true);
      expect(done.callbackAttempts).toEqual([]);
    });
  });

  it("delays a callback", async () => {
    await withReceiver(undefined, async (r) => {
      sim.faults.callbacks({ delayMs: 300 });
      const created = await client().createGeneration(request({ callback_url: r.url }));
      const done = await ended(created.id);
      await waitFor(() => (r.calls.length >= 1 ? true : undefined), 10_000);
      expect(r.calls[0]!.at - done.endedAt!).toBeGreaterThanOrEqual(295);
    });
  });

  it("duplicates the final callback K times", async () => {
    await withReceiver(undefined, async (r) => {
      sim.faults.callbacks({ duplicate: 3 });
      const created = await client().createGeneration(request({ callback_url: r.url }));
      const done = await ended(created.id);
      await waitFor(() => (r.calls.length >= 3 ? true : undefined), 10_000);
      await new Promise((res) => setTimeout(res, 100));
      expect(r.calls).toHaveLength(3);
      for (const call of r.calls) expect(call.body).toEqual(done.task);
      expect(done.callbackAttempts.map((a) => a.copy).sort()).toEqual([0, 1, 2]);
    });
  });

  it.each([
    ["after_final", ["completed", "processing"]],
    ["before_final", ["processing", "completed"]],
    ["both", ["processing", "completed", "processing"]],
  ] as const)("reorders with a stale processing callback (%s)", async (staleProcessing, expected) => {
    await withReceiver(undefined, async (r) => {
      sim.faults.callbacks({ staleProcessing });
      const created = await client().createGeneration(request({ callback_url: r.url }));
      const done = await ended(created.id);
      await waitFor(() => (r.calls.length >= expected.length ? true : undefined), 10_000);
      expect(r.calls.map((c) => c.body.status)).toEqual(expected);
      const stale = r.calls.find((c) => c.body.status === "processing")!.body;
      expect(stale.id).toBe(created.id);
      expect(stale.results).toBeUndefined();
      expect(stale.progress).toBeLessThan(100);
      expect(done.callbackAttempts.map((a) => a.kind)).toEqual(expected.map((s) => (s === "processing" ? "stale" : "final")));
    });
  });

  it("binds callback rules by prompt marker", async () => {
    await withReceiver(undefined, async (r) => {
      sim.faults.callbacks({ marker: "#quiet", drop: true });
      const quiet = await client().createGeneration(request({ prompt: "a #quiet one", callback_url: r.url }));
      const loud = await client().createGeneration(request({ prompt: "a loud one", callback_url: r.url }));
      await Promise.all([ended(quiet.id), ended(loud.id)]);
      await waitFor(() => (r.calls.length >= 1 ? true : undefined), 10_000);
      await new Promise((res) => setTimeout(res, 100));
      expect(r.calls.map((c) => c.body.id)).toEqual([loud.id]);
    });
  });

  /**
   * Each retry comes no sooner than its configured delay after the previous attempt ended. The lower bound is read on
   * the simulator's own clock (when it started each attempt): a time the receiver took also holds how long that request
   * took to reach it, and under load an earlier request can be slower to arrive than the next, so a gap between two
   * arrivals can be shorter than the delay kept. The upper bound is read on the receiver's clock: each attempt reached
   * it, not much later than scheduled.
   */
  function expectRetrySchedule(startedAt: number[], receivedAt: number[], attemptCostMs: number) {
    expect(startedAt).toHaveLength(1 + RETRY_DELAYS_MS.length);
    expect(receivedAt).toHaveLength(1 + RETRY_DELAYS_MS.length);
    for (const [i, delay] of RETRY_DELAYS_MS.entries()) {
      // Timers never fire early (a millisecond of rounding each aside).
      expect(startedAt[i + 1]! - startedAt[i]!).toBeGreaterThanOrEqual(delay + attemptCostMs - 5);
      // Upper bound generous: on a loaded 2-core machine timers fire late.
      expect(receivedAt[i + 1]! - receivedAt[i]!).toBeLessThan(delay + attemptCostMs + 1500);
    }
  }

  it("retries 3 times at the configured delays when the receiver answers 500", async () => {
    await withReceiver(() => 500, async (r) => {
      const created = await client().createGeneration(request({ callback_url: r.url }));
      const done = await ended(created.id);
      await waitFor(() => (done.callbackAttempts.length >= 4 && done.callbackAttempts[3]!.status !== undefined ? true : undefined), 10_000);
      await new Promise((res) => setTimeout(res, 150));
      expect(r.calls).toHaveLength(4);
      expect(done.callbackAttempts.map((a) => [a.attempt, a.status])).toEqual([[0, 500], [1, 500], [2, 500], [3, 500]]);
      expectRetrySchedule(done.callbackAttempts.map((a) => a.at), r.calls.map((c) => c.at), 0);
    });
  });

  it("retries 3 times when the receiver does not answer within the configured timeout", async () => {
    await withReceiver(() => "hang", async (r) => {
      const created = await client().createGeneration(request({ callback_url: r.url }));
      const done = await ended(created.id);
      await waitFor(() => (done.callbackAttempts.length >= 4 && done.callbackAttempts[3]!.error !== undefined ? true : undefined), 12_000);
      expect(r.calls).toHaveLength(4);
      for (const a of done.callbackAttempts) {
        expect(a.status).toBeUndefined();
        expect(a.error).toMatch(/Timeout/i);
      }
      // Each attempt waits the receiver's timeout, then the retry delay.
      expectRetrySchedule(done.callbackAttempts.map((a) => a.at), r.calls.map((c) => c.at), CALLBACK_TIMEOUT_MS);
    });
  });

  it("stops retrying once the receiver answers 2xx", async () => {
    await withReceiver((n) => (n === 0 ? 503 : 204), async (r) => {
      const created = await client().createGeneration(request({ callback_url: r.url }));
      const done = await ended(created.id);
      await waitFor(() => (r.calls.length >= 2 ? true : undefined), 10_000);
      await new Promise((res) => setTimeout(res, 300));
      expect(done.callbackAttempts.map((a) => a.status)).toEqual([503, 204]);
    });
  });

  it("calls back for a task created behind a 502 the client never learned of", async () => {
    await withReceiver(undefined, async (r) => {
      sim.faults.http({ endpoint: "create", status: 502, createTask: true });
      const err = await providerError(client().createGeneration(request({ callback_url: r.url })));
      expect(err.outcomeUnknown).toBe(true);
      await waitFor(() => (r.calls.length >= 1 ? true : undefined), 10_000);
      expect(r.calls[0]!.body.status).toBe("completed");
      expect(sim.getTask(r.calls[0]!.body.id)).toBeDefined();
    });
  });

  it("calls back at each progress step when asked to (progressCallbacks)", async () => {
    const chatty = await startSimulator({ port: 0, apiKey: API_KEY, stepMs: STEP_MS, progressCallbacks: true });
    try {
      await withReceiver(undefined, async (r) => {
        const p = createEvolinkProvider({ baseUrl: chatty.url, apiKey: API_KEY });
        await p.createGeneration({ ...request(), image_start: `${chatty.url}/samples/first-frame.png`, callback_url: r.url });
        await waitFor(() => (r.calls.some((c) => c.body.status === "completed") ? true : undefined), 10_000);
        expect(r.calls.filter((c) => c.body.status === "processing").length).toBeGreaterThanOrEqual(3);
      });
    } finally {
      await chatty.close();
    }
  });
});

describe("control API over HTTP (for browser tests)", () => {
  const control = (path: string, init: { method?: string; body?: unknown; key?: string | null } = {}) =>
    fetch(`${sim.url}/__sim/${path}`, {
      method: init.method ?? (init.body !== undefined ? "POST" : "GET"),
      headers: {
        "Content-Type": "application/json",
        ...(init.key !== null && { Authorization: `Bearer ${init.key ?? API_KEY}` }),
      },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
    });

  it("needs the API key", async () => {
    expect((await control("faults", { key: null })).status).toBe(401);
    expect((await control("faults", { body: { http: { status: 503 } }, key: "nope" })).status).toBe(401);
    expect((await control("reset", { method: "POST", key: "nope" })).status).toBe(401);
    expect(sim.faults.list().http).toEqual([]);
  });

  it("sets, lists and resets faults", async () => {
    const res = await control("faults", {
      body: {
        http: [{ endpoint: "create", status: 503, count: 2 }],
        failTask: { code: "service_error" },
        callbacks: { duplicate: 2 },
      },
    });
    expect(res.status).toBe(200);
    const listed = (await (await control("faults")).json()) as ReturnType<Simulator["faults"]["list"]>;
    expect(listed.http).toMatchObject([{ endpoint: "create", status: 503, remaining: 2 }]);
    expect(listed.failTask).toMatchObject([{ code: "service_error", message: FAILED_TASK_MESSAGES.service_error, remaining: 1 }]);
    expect(listed.callbacks).toMatchObject([{ duplicate: 2, remaining: 1 }]);

    const task = await client().createGeneration(request());
    expect(statuses()).toEqual([503, 503, 200]);
    const done = await ended(task.id);
    expect(done.task.error?.code).toBe("service_error");

    const seen = (await (await control(`tasks/${task.id}`)).json()) as { task: SimTaskObject; mode: string; request: unknown };
    expect(seen).toMatchObject({ task: { id: task.id, status: "failed" }, mode: "first_frame", request: request() });
    expect((await control("tasks/task-unified-1-nope")).status).toBe(404);

    const log = (await (await control("requests")).json()) as { requests: unknown[]; refusals: unknown[]; stats: { created: number } };
    expect(log.requests).toHaveLength(3);
    expect(log.stats.created).toBe(1);

    sim.faults.http({ status: 500, count: 9 });
    expect((await control("reset", { method: "POST" })).status).toBe(200);
    expect(sim.faults.list()).toEqual({ http: [], failTask: [], callbacks: [], pace: [], forget: [] });
    expect(sim.requests).toEqual([]);
  });

  it("refuses an invalid rule with 400 and the reason", async () => {
    const res = await control("faults", { body: { http: { status: 418 } } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toMatch(/status/);
    const unknown = await control("faults", { body: { explode: true } });
    expect(unknown.status).toBe(400);
  });
});
