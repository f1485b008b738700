/**
 * A create the provider refuses, or cannot receive at all, ends the task at
 * once with a reason a person can act on, unbilled; bad input (NUL bytes)
 * is refused as such; callbacks with a wrong token cannot grow the log
 * without bound. Real Postgres, the simulator over HTTP.
 */
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "@/server/api/root.ts";
import { createCaller } from "@/server/api/root.ts";
import { handleProviderCallback, REJECTED_DETAIL_PER_HOUR } from "@/server/callbacks/callbacks.ts";
import { callbackToken } from "@/server/callbacks/token.ts";
import { freePort } from "@/server/db/embedded.ts";
import { AppError } from "@/server/errors.ts";
import { createGenerationInputSchema } from "@/server/generation/request-schema.ts";
import { createEvolinkProvider } from "@/server/provider/evolink.ts";
import { createTask, type TaskDeps } from "@/server/tasks/tasks.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { startTestPortal, TEST_SECRET, type TestPortal } from "../helpers/services.ts";

const input = (prompt: string) => createGenerationInputSchema().parse({ prompt, image_start: "https://example.com/first.png" });

let portal: TestPortal;
let user: SessionUser;
beforeAll(async () => {
  portal = await startTestPortal();
  user = await createUser(portal.services.db, { email: "refusals@example.test", password: "password-1" });
});
afterAll(() => portal?.close());

/** The task's row and its billing records, after a create that threw `err`. */
async function endedTask(prompt: string) {
  const task = await portal.services.db.task.findFirstOrThrow({ where: { prompt } });
  const billing = await portal.services.db.billingRecord.findMany({ where: { taskId: task.id } });
  return { task, billing };
}

describe("a create the provider refuses or cannot receive", () => {
  it("400: the task fails at once with the provider's own reason in plain words, unbilled", async () => {
    portal.simulator.faults.http({ endpoint: "create", status: 400, count: 1 });
    const err = (await createTask(portal.services.taskDeps, user, input("refused in plain words")).catch((e: unknown) => e)) as AppError;
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/^The video service refused this request/);
    expect(err.message).toContain("Nothing was charged");
    expect(err.message).not.toMatch(/HTTP|Evolink|127\.0\.0\.1/);
    const { task, billing } = await endedTask("refused in plain words");
    expect(task.status).toBe("failed");
    expect(task.errorMessage).toBe(err.message);
    expect(task.billedSeconds).toBe(0);
    expect(billing).toHaveLength(1);
    expect(billing[0]?.billedSeconds).toBe(0);
  });

  it.each([
    ["refused connection", async () => `http://127.0.0.1:${await freePort()}`],
    ["name that does not resolve", async () => "https://provider.invalid"],
  ])("%s: fails at once, nothing sent, unbilled", async (_what, baseUrl) => {
    const unreachable = createEvolinkProvider({ baseUrl: await baseUrl(), apiKey: "sk-unreachable-key", retry: { createGeneration: { baseMs: 10, capMs: 20 } } });
    const deps: TaskDeps = { ...portal.services.taskDeps, provider: unreachable };
    const prompt = `unreachable ${_what}`;
    const started = Date.now();
    const err = (await createTask(deps, user, input(prompt)).catch((e: unknown) => e)) as AppError;
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("PROVIDER_UNAVAILABLE");
    expect(err.message).toMatch(/could not be reached, so nothing was sent/);
    expect(err.message).not.toMatch(/127\.0\.0\.1|provider\.invalid|ECONNREFUSED|ENOTFOUND/);
    expect(Date.now() - started).toBeLessThan(10_000); // not the 20 s retry budget of a busy provider
    const { task, billing } = await endedTask(prompt);
    expect(task.status).toBe("failed");
    expect(task.errorCode).toBe("provider_unreachable");
    expect(task.billedSeconds).toBe(0);
    expect(billing).toHaveLength(1);
  });
});

describe("bad input is refused as bad input", () => {
  const caller = () => createCaller({ services: portal.services, user });

  it("a NUL byte in a task id or a prompt is a 400, and stores nothing", async () => {
    const before = await portal.services.db.task.count();
    await expect(caller().tasks.get({ id: "abc\u0000def" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(caller().tasks.create({ prompt: "A cat\u0000", image_start: "https://example.com/first.png" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(caller().tasks.create({ prompt: "A cat \ud800", image_start: "https://example.com/first.png" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await portal.services.db.task.count()).toBe(before);
  });

  it("a callback body with a NUL byte is refused and logged, not a database error", async () => {
    const task = await createTask(portal.services.taskDeps, user, input("nul callback"));
    const rawBody = JSON.stringify({ id: `${task.providerTaskId}\u0000`, status: "completed" });
    await expect(
      handleProviderCallback({ db: portal.services.db, provider: portal.services.provider, serverSecret: TEST_SECRET }, { taskId: task.id, token: callbackToken(TEST_SECRET, task.id), rawBody }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await portal.services.db.callbackEvent.count({ where: { taskId: task.id, outcome: "invalid" } })).toBe(1);
  });
});

describe("internal errors", () => {
  it("reach the person over HTTP as a generic message with a reference; the log has the details under it", async () => {
    // A database that fails the way a broken one does, behind the real tRPC endpoint and formatter.
    const failing = { ...portal.services.db, task: { findMany: () => Promise.reject(new Error('relation "Task" does not exist (42P01) at postgres://u:secret@db')) } };
    const logged: unknown[][] = [];
    const res = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request("http://portal.test/api/trpc/tasks.mine"),
      router: appRouter,
      createContext: () => ({ services: { ...portal.services, db: failing as never }, user }),
      onError: ({ error }) => logged.push([error.cause]),
    });
    const body = (await res.json()) as { error: { json: { message: string; data: { reference: string; code: string } } } };
    expect(res.status).toBe(500);
    const { message, data } = body.error.json;
    expect(message).toMatch(/^Something went wrong on our side/);
    expect(message).toContain(data.reference);
    expect(JSON.stringify(body)).not.toMatch(/42P01|secret|relation|postgres/);
    expect(String(logged[0]?.[0])).toContain("42P01");
  });
});

describe("callbacks with a wrong token", () => {
  it("are all counted, but only the first few of each hour are kept in detail", async () => {
    const deps = { db: portal.services.db, provider: portal.services.provider, serverSecret: TEST_SECRET };
    const rowsBefore = await portal.services.db.callbackEvent.count({ where: { taskId: null, outcome: "rejected" } });
    const countedBefore = (await portal.services.db.rejectedCallbackCount.aggregate({ _sum: { count: true } }))._sum.count ?? 0;
    const sent = REJECTED_DETAIL_PER_HOUR + 20;
    for (let i = 0; i < sent; i++) {
      await expect(handleProviderCallback(deps, { taskId: `probe-${i}\u0000`, token: "forged", rawBody: "{}" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    const counted = (await portal.services.db.rejectedCallbackCount.aggregate({ _sum: { count: true } }))._sum.count ?? 0;
    expect(counted - countedBefore).toBe(sent);
    const rows = await portal.services.db.callbackEvent.count({ where: { taskId: null, outcome: "rejected" } });
    // At most the quota per hour bucket touched (the run may straddle an hour).
    const hours = await portal.services.db.rejectedCallbackCount.count();
    expect(rows - rowsBefore).toBeLessThanOrEqual(REJECTED_DETAIL_PER_HOUR * hours);
    if (hours === 1) expect(rows - rowsBefore).toBe(REJECTED_DETAIL_PER_HOUR);
  });
});
