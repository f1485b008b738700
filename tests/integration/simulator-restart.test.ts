/**
 * The simulator keeps its tasks in a folder across restarts, as the provider
 * would: an accepted task still answers after a restart, a running one
 * continues and completes, and its callback is still delivered. The `forget`
 * fault (over the control API) loses a task, for good or for a few queries.
 */
import http from "node:http";
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvolinkProvider } from "../../server/provider/evolink.ts";
import { MODEL_ID, ProviderError, type GenerationRequestBody } from "../../server/provider/types.ts";
import { startSimulator, type SimTaskObject, type Simulator } from "../../server/simulator/simulator.ts";

const API_KEY = "sim-restart-key-4b1d";
const STEP_MS = 30;

let dir: string;
let receiver: { url: string; calls: SimTaskObject[]; close(): Promise<void> };
const open: Simulator[] = [];

async function start(dataDir?: string): Promise<Simulator> {
  const sim = await startSimulator({ apiKey: API_KEY, stepMs: STEP_MS, callbackRetryDelaysMs: [50, 50, 50], ...(dataDir && { dataDir }) });
  open.push(sim);
  return sim;
}
async function stop(sim: Simulator): Promise<void> {
  await sim.close();
  open.splice(open.indexOf(sim), 1);
}

const client = (sim: Simulator) =>
  createEvolinkProvider({
    baseUrl: sim.url,
    apiKey: API_KEY,
    timeoutMs: 2_000,
    retry: { getTask: { baseMs: 5, capMs: 20, deadlineMs: 500 }, createGeneration: { baseMs: 5, capMs: 20, deadlineMs: 500 } },
  });

const request = (sim: Simulator, prompt: string): GenerationRequestBody => ({
  model: MODEL_ID,
  generation_mode: "first_frame",
  prompt,
  image_start: `${sim.url}/samples/first-frame.png`,
  callback_url: `${receiver.url}/cb/${encodeURIComponent(prompt)}`,
});

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const control = (sim: Simulator, body: unknown) =>
  fetch(`${sim.url}/__sim/faults`, { method: "POST", headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" }, body: JSON.stringify(body) });

async function queryStatus(sim: Simulator, id: string): Promise<number> {
  try {
    await client(sim).getTask(id);
    return 200;
  } catch (err) {
    if (err instanceof ProviderError && err.details.status) return err.details.status;
    throw err;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "wan-sim-restart-"));
  const calls: SimTaskObject[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      calls.push(JSON.parse(body) as SimTaskObject);
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
});

afterAll(async () => {
  for (const sim of [...open]) await sim.close();
  await receiver?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("with a data folder", () => {
  it("still knows the tasks it accepted after a restart: ended ones answer, running ones finish and call back", async () => {
    const folder = path.join(dir, "keep");
    const first = await start(folder);
    const done = await client(first).createGeneration(request(first, "ended before the restart"));
    await until(() => receiver.calls.find((c) => c.id === done.id && c.status === "completed"), "the first task's callback");
    // A slow task: still running when the simulator stops.
    first.faults.pace({ marker: "slow", stepMs: 400 });
    const running = await client(first).createGeneration(request(first, "slow, across the restart"));
    await until(() => (first.getTask(running.id)?.task.status === "processing" ? true : undefined), "the slow task processing");
    await stop(first);
    expect(receiver.calls.some((c) => c.id === running.id)).toBe(false);

    const second = await start(folder);
    const ended = await client(second).getTask(done.id);
    expect(ended).toMatchObject({ id: done.id, status: "completed", progress: 100 });
    expect(ended.results?.[0]).toMatch(/\.mp4$/);
    const resumed = await client(second).getTask(running.id);
    expect(resumed.id).toBe(running.id);
    expect(["pending", "processing", "completed"]).toContain(resumed.status);
    await until(async () => ((await client(second).getTask(running.id)).status === "completed" ? true : undefined), "the slow task completed after the restart");
    const callback = await until(() => receiver.calls.find((c) => c.id === running.id), "the slow task's callback after the restart");
    expect(callback.status).toBe("completed");
    // The first task's callback was delivered before the restart and is not sent again.
    expect(receiver.calls.filter((c) => c.id === done.id)).toHaveLength(1);
    // And the task keeps its pace rule and request across the restart.
    expect(second.getTask(running.id)?.request.prompt).toBe("slow, across the restart");
    await stop(second);
  });

  it("reads the file back when its last line was cut short by a crash", async () => {
    const folder = path.join(dir, "cut");
    const first = await start(folder);
    const task = await client(first).createGeneration(request(first, "before the crash"));
    await stop(first);
    await appendFile(path.join(folder, "tasks.jsonl"), '{"task":{"id":"task-unified-1-abc","sta');
    const second = await start(folder);
    expect((await client(second).getTask(task.id)).id).toBe(task.id);
    await stop(second);
  });

  it("forgets a task for good with the forget fault, across restarts too", async () => {
    const folder = path.join(dir, "forget");
    const first = await start(folder);
    const task = await client(first).createGeneration(request(first, "to be forgotten"));
    const res = await control(first, { forget: { taskId: task.id } });
    expect(res.status).toBe(200);
    expect(await queryStatus(first, task.id)).toBe(404);
    await stop(first);
    const second = await start(folder);
    expect(await queryStatus(second, task.id)).toBe(404);
    expect(receiver.calls.some((c) => c.id === task.id)).toBe(false);
    await stop(second);
  });
});

it("answers 404 for a task's next queries only with a counted forget fault", async () => {
  const sim = await start();
  const task = await client(sim).createGeneration(request(sim, "briefly unknown"));
  const res = await control(sim, { forget: { taskId: task.id, count: 2 } });
  expect(((await res.json()) as { forget: unknown[] }).forget).toEqual([{ taskId: task.id, remaining: 2 }]);
  expect(await queryStatus(sim, task.id)).toBe(404);
  expect(await queryStatus(sim, task.id)).toBe(404);
  expect(await queryStatus(sim, task.id)).toBe(200);
  await stop(sim);
});

it("without a data folder, keeps tasks in memory only (a restart forgets them)", async () => {
  const first = await start();
  const task = await client(first).createGeneration(request(first, "in memory"));
  await stop(first);
  const second = await start();
  expect(await queryStatus(second, task.id)).toBe(404);
  await stop(second);
});
