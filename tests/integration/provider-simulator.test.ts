/**
 * The Evolink adapter against the local simulator, over real HTTP: the happy
 * path, failed tasks, error mapping, result files with Range, callbacks, and
 * that the key never shows in errors or logs. Contract: simulator-contract;
 * faults and retries: simulator-faults.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvolinkProvider } from "../../server/provider/evolink.ts";
import {
  MODEL_ID,
  ProviderError,
  type GenerationRequestBody,
  type ProviderTask,
  type VideoProvider,
} from "../../server/provider/types.ts";
import { startSimulator, type Simulator } from "../../server/simulator/simulator.ts";
import { providerError } from "../helpers/provider.ts";

const API_KEY = "sim-test-key-6b1f2c";
const STEP_MS = 50;
/** Tiny retry budgets so failures surface in milliseconds. */
const FAST_RETRY = {
  getTask: { baseMs: 5, capMs: 20, deadlineMs: 150 },
  createGeneration: { baseMs: 5, capMs: 20, deadlineMs: 150 },
};

let sim: Simulator;
let provider: VideoProvider;

const request = (extra: Partial<GenerationRequestBody> = {}): GenerationRequestBody => ({
  model: MODEL_ID,
  prompt: "A cat playing piano",
  image_start: `${sim.url}/samples/first-frame.png`,
  ...extra,
});


async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const untilEnded = (id: string) =>
  waitFor(async () => {
    const task = await provider.getTask(id);
    return task.status === "completed" || task.status === "failed" ? task : undefined;
  }, 5_000);

/** Listens on a free port; the handler may be async. */
async function listen(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: API_KEY, stepMs: STEP_MS, callbackRetryDelaysMs: [100, 200, 400] });
  provider = createEvolinkProvider({ baseUrl: sim.url, apiKey: API_KEY, timeoutMs: 5_000, retry: FAST_RETRY });
});

afterAll(async () => {
  await sim?.close();
});

describe("Evolink provider against the simulator", () => {
  it("creates a pending task shaped like the provider's", async () => {
    const task = await provider.createGeneration(request());
    expect(task.id).toMatch(/^task-unified-\d{10}-[a-z0-9]{8}$/);
    expect(task).toMatchObject({
      model: MODEL_ID,
      object: "video.generation.task",
      status: "pending",
      progress: 0,
      type: "video",
      task_info: { can_cancel: true, video_duration: 5 },
      usage: { billing_rule: "per_second", credits_reserved: 5, user_group: "default" },
    });
    expect(task.created).toBeTypeOf("number");
    expect(sim.requests.at(-1)).toMatchObject({ method: "POST", path: "/v1/videos/generations", body: request() });
  });

  it("sends the Idempotency-Key header given, or a fresh one per call", async () => {
    const seen: Array<string | null> = [];
    const spying = createEvolinkProvider({
      baseUrl: sim.url,
      apiKey: API_KEY,
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers).get("idempotency-key"));
        return fetch(input, init);
      },
    });
    await spying.createGeneration(request(), { idempotencyKey: "idem-123" });
    await spying.createGeneration(request());
    await spying.createGeneration(request());
    expect(seen[0]).toBe("idem-123");
    expect(seen[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[2]).not.toBe(seen[1]);
    expect(sim.requests.at(-3)?.idempotencyKey).toBe("idem-123");
  });

  it("polls a task to completed, with a result that serves an MP4 and honours Range", async () => {
    const created = await provider.createGeneration(request({ duration: 8 }));
    const progress = new Set<number>();
    const task = await waitFor(async () => {
      const t: ProviderTask = await provider.getTask(created.id);
      progress.add(t.progress);
      return t.status === "completed" ? t : undefined;
    }, 5_000, 10);
    expect(task.progress).toBe(100);
    expect(task.usage).toMatchObject({ credits_reserved: 8 });
    expect(progress.size).toBeGreaterThan(2); // it went through processing steps
    expect(task.results).toHaveLength(1);
    const resultUrl = task.results![0]!;
    expect(resultUrl).toBe(`${sim.url}/files/${created.id}.mp4`);

    const whole = await fetch(resultUrl);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("video/mp4");
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");

    const part = await fetch(resultUrl, { headers: { Range: "bytes=0-99" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-99/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(0, 100));
  });

  it('ends a "[sim:fail]" prompt as failed with an error code', async () => {
    const created = await provider.createGeneration(request({ prompt: "explode [sim:fail]" }));
    const task = await untilEnded(created.id);
    expect(task.status).toBe("failed");
    expect(task.error).toMatchObject({ code: "content_policy_violation", type: "task_error" });
    expect(task.results).toBeUndefined();
  });

  it("maps a wrong key to unauthenticated without leaking the key", async () => {
    const wrongKey = "wrong-key-9f8e7d6c";
    const wrong = createEvolinkProvider({ baseUrl: sim.url, apiKey: wrongKey, retry: FAST_RETRY });
    for (const call of [() => wrong.createGeneration(request()), () => wrong.getTask("task-unified-1-abcdefgh")]) {
      const err = await providerError(call());
      expect(err.kind).toBe("unauthenticated");
      expect(err.details).toMatchObject({ status: 401, code: "unauthorized" });
      expect(err.message).not.toContain(wrongKey);
      expect(err.retryable).toBe(false);
    }
  });

  it("maps a malformed task id to bad_request / invalid_task_id", async () => {
    const err = await providerError(provider.getTask("not-a-task/../x"));
    expect(err.kind).toBe("bad_request");
    expect(err.details.code).toBe("invalid_task_id");
  });

  it("maps an unknown well-formed id to not_found", async () => {
    const err = await providerError(provider.getTask("task-unified-1757169743-zzzzzzzz"));
    expect(err.kind).toBe("not_found");
    expect(err.details).toMatchObject({ status: 404, code: "task_not_found" });
  });

  it("maps a wrong model to bad_request naming the parameter", async () => {
    const body = { ...request(), model: "wan2.6-image-to-video" } as unknown as GenerationRequestBody;
    const err = await providerError(provider.createGeneration(body));
    expect(err.kind).toBe("bad_request");
    expect(err.details.param).toBe("model");
    expect(err.message).toContain("model must be");
  });

  it("maps a closed port to network", async () => {
    // Port 2 on loopback: nothing listens there, no test server can be given it (only
    // ephemeral ports are), and fetch does not block it (unlike port 1).
    const offline = createEvolinkProvider({ baseUrl: "http://127.0.0.1:2", apiKey: API_KEY, timeoutMs: 2_000, retry: FAST_RETRY });
    const err = await providerError(offline.getTask("task-unified-1-abcdefgh"));
    expect(err.kind).toBe("network");
    expect(err.retryable).toBe(true);
    expect(err.details.attempts).toBeGreaterThan(1); // retried until the deadline
    // Nothing reached the provider, so even the paid call is retried and not "unknown".
    const created = await providerError(offline.createGeneration(request()));
    expect(created.kind).toBe("network");
    expect(created.outcomeUnknown).toBe(false);
    expect(created.details.attempts).toBeGreaterThan(1);
  });

  it("delivers the final task to callback_url, retrying failed deliveries", async () => {
    const deliveries: unknown[] = [];
    const receiver = await listen((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString("utf8")));
      req.on("end", () => {
        deliveries.push(JSON.parse(text));
        res.writeHead(deliveries.length <= 2 ? 500 : 200).end();
      });
    });
    try {
      const created = await provider.createGeneration(request({ callback_url: `${receiver.url}/hook?token=abc` }));
      // Task ends after ~5 steps, then deliveries at +0, +100 ms, +300 ms.
      await waitFor(() => (deliveries.length >= 3 ? true : undefined), 6_000);
      const final = await provider.getTask(created.id);
      expect(final.status).toBe("completed");
      expect(deliveries).toHaveLength(3);
      for (const body of deliveries) expect(body).toEqual(sim.tasks.get(created.id)!.task);
      expect(sim.tasks.get(created.id)!.callbackAttempts.map((a) => a.status)).toEqual([500, 500, 200]);
    } finally {
      await new Promise((r) => receiver.server.close(r));
    }
  }, 10_000);
});

describe("Evolink provider error mapping (stubbed fetch)", () => {
  const stub = (res: () => Response | Promise<Response>, timeoutMs?: number) =>
    createEvolinkProvider({ baseUrl: "https://api.example.test/", apiKey: "secret-key-123", fetch: async () => res(), timeoutMs, retry: FAST_RETRY });

  it("reads Retry-After on 429 and a numeric error code", async () => {
    const p = stub(() => Response.json({ error: { code: 429, message: "Slow down." } }, { status: 429, headers: { "Retry-After": "60" } }));
    const err = await providerError(p.getTask("task-unified-1-abcdefgh"));
    expect(err.kind).toBe("rate_limited");
    expect(err.details).toMatchObject({ status: 429, code: "429", retryAfterSeconds: 60 });
    expect(err.message).toContain("Slow down");
  });

  it.each([
    [402, "insufficient_quota"],
    [403, "forbidden"],
    [413, "too_large"],
    [418, "bad_request"],
    [500, "internal"],
    [502, "upstream"],
    [503, "unavailable"],
    [504, "internal"],
  ] as const)("maps HTTP %i to %s, even with a non-JSON body", async (status, kind) => {
    const err = await providerError(stub(() => new Response("<html>oops</html>", { status })).getTask("task-unified-1-a"));
    expect(err.kind).toBe(kind);
    expect(err.details.status).toBe(status);
  });

  it("treats an unparseable 2xx body as invalid_response", async () => {
    for (const body of ["not json", JSON.stringify({ id: "x", status: "weird" })]) {
      const err = await providerError(stub(() => new Response(body, { status: 200 })).getTask("task-unified-1-a"));
      expect(err.kind).toBe("invalid_response");
    }
  });

  it("redacts the key even when the provider echoes it", async () => {
    const p = stub(() => Response.json({ error: { code: "unauthorized", message: "Bad key secret-key-123" } }, { status: 401 }));
    const err = await providerError(p.getTask("task-unified-1-a"));
    expect(err.message).not.toContain("secret-key-123");
    expect(err.message).toContain("[redacted]");
  });

  it("keeps the key out of errors and retry logs, even when the provider echoes it", async () => {
    const logs: string[] = [];
    const p = createEvolinkProvider({
      baseUrl: "https://api.example.test",
      apiKey: "secret-key-123",
      retry: FAST_RETRY,
      log: (m) => logs.push(m),
      fetch: async () => Response.json({ error: { code: "service_unavailable", message: "Busy; key secret-key-123 is fine" } }, { status: 503 }),
    });
    for (const call of [() => p.getTask("task-unified-1-a"), () => p.createGeneration(request())]) {
      const err = await providerError(call());
      expect(err.kind).toBe("unavailable");
      expect(err.details.attempts).toBeGreaterThan(1);
      for (const text of [err.message, String(err.stack), JSON.stringify(err), JSON.stringify(err.details)]) {
        expect(text).not.toContain("secret-key-123");
      }
    }
    expect(logs.length).toBeGreaterThan(2);
    expect(logs.some((l) => l.includes("[redacted]"))).toBe(true);
    for (const line of logs) expect(line).not.toContain("secret-key-123");
  });

  it("turns a timeout into network", async () => {
    const { url, server } = await listen(() => {}); // accepts, never answers
    try {
      const slow = createEvolinkProvider({ baseUrl: url, apiKey: API_KEY, timeoutMs: 200, retry: { getTask: { maxAttempts: 1 } } });
      const err = await providerError(slow.getTask("task-unified-1-abcdefgh"));
      expect(err.kind).toBe("network");
      expect(err.message).toContain("200 ms");
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
