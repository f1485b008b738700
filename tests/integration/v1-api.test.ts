/**
 * The portal's Evolink-compatible API (/v1) over real HTTP, with personal API
 * keys, against a real PostgreSQL and the provider simulator:
 * - the contract table (tests/fixtures/contract-cases.ts) that the simulator
 *   runs too: what the provider refuses the portal refuses with the same
 *   status and param, what it accepts the portal accepts;
 * - a client's flow: create, poll to completion, the result link (redirect to
 *   the provider's file, then the archived copy), list, balance;
 * - callback_url delivered with a signature the receiver can verify, to a
 *   local https receiver (a self-signed certificate the test trusts);
 * - Idempotency-Key replay and conflict; revoked and expired keys, a
 *   deactivated person, another person's task, an exhausted budget, the
 *   per-key rate limit; the OpenAPI document.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, revokeMyApiKey, type NewApiKey } from "@/server/apikeys/apikeys.ts";
import { setBudget } from "@/server/budgets/budgets.ts";
import { createGuardedPoster } from "@/server/media/fetch.ts";
import { archiveResult } from "@/server/storage/archive.ts";
import { deactivateUser } from "@/server/team/people.ts";
import { saveUpload } from "@/server/uploads/uploads.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { deliverClientCallback, findPendingClientCallbacks } from "@/server/v1/client-callbacks.ts";
import { v1BalanceSchema, v1ErrorSchema, v1ListSchema, v1TaskSchema } from "@/server/v1/openapi.ts";
import { v1Route } from "@/server/v1/routes.ts";
import { contractCases, NOT_AN_OBJECT } from "../fixtures/contract-cases.ts";
import { serveFetch, type FetchServer } from "../helpers/http.ts";
import { startTestPortal, waitFor, type TestPortal } from "../helpers/services.ts";

const TLS = path.resolve(import.meta.dirname, "../fixtures/tls");
let portal: TestPortal;
let api: FetchServer;
let limited: FetchServer;
let admin: SessionUser;
let mia: SessionUser;
let noah: SessionUser;
let miaKey: NewApiKey;
let noahKey: NewApiKey;
let voiceUrl: string;

const v1 = (server: FetchServer) => v1Route(() => (server === limited ? { ...portal.services.v1, rateLimit: { limit: 3, windowSeconds: 3600 } } : portal.services.v1));

async function call(method: string, url: string, opts: { key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string>; server?: FetchServer } = {}) {
  const key = opts.key === undefined ? miaKey.secret : opts.key;
  const res = await fetch(url.startsWith("http") ? url : `${(opts.server ?? api).url}${url}`, {
    method,
    redirect: "manual",
    headers: {
      ...(key !== null && { Authorization: `Bearer ${key}` }),
      ...((opts.body !== undefined || opts.raw !== undefined) && { "Content-Type": "application/json" }),
      ...opts.headers,
    },
    body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (a video)
  }
  return { status: res.status, headers: res.headers, json, text };
}

beforeAll(async () => {
  portal = await startTestPortal({ stepMs: 40 });
  // The v1 handler served as Next.js serves app/v1/[...path]/route.ts.
  const serve = (server: () => FetchServer) => (req: Request) => v1(server())(req, new URL(req.url).pathname.replace(/^\/v1\//, ""));
  api = await serveFetch(serve(() => api));
  limited = await serveFetch(serve(() => limited));
  const db = portal.services.db;
  admin = await createUser(db, { email: "admin@v1.test", password: "admin-password-1", role: "admin" });
  mia = await createUser(db, { email: "mia@v1.test", password: "mia-password-1" });
  noah = await createUser(db, { email: "noah@v1.test", password: "noah-password-1" });
  miaKey = await createApiKey(portal.services.apiKeyDeps, mia, { name: "Mia's notebook" }, mia);
  noahKey = await createApiKey(portal.services.apiKeyDeps, noah, { name: "Noah's agent" }, noah);
  const voice = readFileSync(path.resolve(import.meta.dirname, "../fixtures/media/audio-3s.wav"));
  voiceUrl = (await saveUpload(portal.services.uploadDeps, mia, { field: "audio_urls", filename: "voice.wav", bytes: voice })).url;
});
afterAll(async () => {
  await api?.close();
  await limited?.close();
  await portal?.close();
});

const sample = () => ({
  image_start: `${portal.simulator.url}/samples/first-frame.png`,
  image_end: `${portal.simulator.url}/samples/first-frame.png`,
  video_urls: `${portal.simulator.url}/files/clip.mp4`,
  audio_urls: voiceUrl,
});

describe("the contract table, as the simulator runs it", () => {
  // Real media, which pass the portal's file checks: the simulator's sample image and clip, and an uploaded voice.
  const cases = () => contractCases(sample());

  it("refuses what the provider refuses, with the same status and param, and accepts what it accepts", async () => {
    const mismatches: string[] = [];
    for (const c of cases()) {
      const res = await call("POST", "/v1/videos/generations", { body: c.body });
      const got = res.status === 200 ? "ok" : res.status === 400 ? { param: res.json?.error?.param ?? null } : `HTTP ${res.status}: ${res.text.slice(0, 200)}`;
      if (JSON.stringify(got) !== JSON.stringify(c.expect)) mismatches.push(`${c.name}: expected ${JSON.stringify(c.expect)}, got ${JSON.stringify(got)}`);
      if (res.status === 400) expect(v1ErrorSchema.parse(res.json).error).toMatchObject({ code: "invalid_parameters", type: "invalid_request_error" });
    }
    expect(mismatches).toEqual([]);
  });

  it("refuses a body that is not a JSON object, and one that is not JSON", async () => {
    for (const body of NOT_AN_OBJECT) {
      const res = await call("POST", "/v1/videos/generations", { body });
      expect(res.status).toBe(400);
      expect(res.json.error.param).toBeUndefined();
    }
    const bad = await call("POST", "/v1/videos/generations", { raw: "{not json" });
    expect([bad.status, bad.json.error.code]).toEqual([400, "invalid_json"]);
  });
});

describe("a client's flow with a personal key", () => {
  it("creates, polls to completion, follows the result link (the provider's file, then the archived copy), lists and reads the balance", async () => {
    const created = await call("POST", "/v1/videos/generations", { body: { model: "wan2.7-image-to-video", prompt: "a flow", image_start: sample().image_start, duration: 5 } });
    expect(created.status).toBe(200);
    expect(created.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/);
    const task = v1TaskSchema.parse(created.json);
    expect(task).toMatchObject({ status: "pending", object: "video.generation.task", model: "wan2.7-image-to-video" });
    // The portal's id, not the provider's; the task is the form's in every other way, with its key as source.
    const row = await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } });
    expect(row.providerTaskId).not.toBe(task.id);
    expect(row.apiKeyId).toBe(miaKey.key.id);

    const done = await waitFor(
      () => call("GET", `/v1/tasks/${task.id}`),
      (r) => r.json?.status === "completed",
    );
    const final = v1TaskSchema.parse(done.json);
    expect(final.usage).toMatchObject({ billed_seconds: 5, currency: "USD" });
    const link = final.results![0]!;
    const local = (u: string) => `${api.url}${new URL(u).pathname}${new URL(u).search}`;
    // Not archived yet: a redirect to the provider's link, with the link's token and no key.
    const early = await call("GET", local(link), { key: null });
    expect(early.status).toBe(302);
    expect(early.headers.get("location")).toBe(row.resultUrls[0] ?? (await portal.services.db.task.findUniqueOrThrow({ where: { id: task.id } })).resultUrls[0]);
    await archiveResult({ db: portal.services.db, storage: portal.services.storage, maxAttempts: 3, timeoutMs: 10_000 }, task.id);
    const archived = await fetch(local(link));
    expect(archived.status).toBe(200);
    expect(archived.headers.get("content-type")).toBe("video/mp4");
    expect((await archived.arrayBuffer()).byteLength).toBeGreaterThan(100);
    // Without the token: the owner's key works, another person's does not, nor no key.
    const withoutToken = `/v1/results/${task.id}`;
    expect((await call("GET", withoutToken, { headers: { Range: "bytes=0-9" } })).status).toBe(206);
    expect((await call("GET", withoutToken, { key: noahKey.secret })).status).toBe(404);
    expect((await call("GET", withoutToken, { key: null })).status).toBe(401);

    const list = v1ListSchema.parse((await call("GET", "/v1/tasks?status=completed&limit=1")).json);
    expect(list.data[0]!.id).toBe(task.id);
    expect(list.data.every((t) => t.status === "completed")).toBe(true);
    const page2 = await call("GET", `/v1/tasks?limit=1&after=${encodeURIComponent(list.next_cursor ?? "")}`);
    expect(page2.status).toBe(200);
    expect((await call("GET", "/v1/tasks?status=done")).json.error.param).toBe("status");

    const balance = v1BalanceSchema.parse((await call("GET", "/v1/balance")).json);
    expect(balance).toMatchObject({ currency: "USD", budget: null, remaining: null });
    expect(balance.spent).toBeGreaterThan(0);
  });

  it("answers 404 for another person's task and an unknown one alike, and 400 for a malformed id", async () => {
    const theirs = await call("POST", "/v1/videos/generations", { key: noahKey.secret, body: { model: "wan2.7-image-to-video", prompt: "noah's", image_start: sample().image_start } });
    expect(theirs.status).toBe(200);
    const other = await call("GET", `/v1/tasks/${theirs.json.id}`);
    const unknown = await call("GET", "/v1/tasks/00000000-0000-4000-8000-000000000000");
    expect([other.status, unknown.status]).toEqual([404, 404]);
    expect(other.json).toEqual({ ...unknown.json });
    const malformed = await call("GET", "/v1/tasks/a%20b");
    expect([malformed.status, malformed.json.error.code, malformed.json.error.param]).toEqual([400, "invalid_task_id", "task_id"]);
  });
});

describe("Idempotency-Key, per key for 24 hours", () => {
  it("answers the same task for the same body (Idempotency-Replayed), 409 for another body", async () => {
    const body = { model: "wan2.7-image-to-video", prompt: "once only", image_start: sample().image_start };
    const headers = { "Idempotency-Key": "order-7781" };
    const [a, b] = await Promise.all([call("POST", "/v1/videos/generations", { body, headers }), call("POST", "/v1/videos/generations", { body, headers })]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.json.id).toBe(b.json.id);
    const again = await call("POST", "/v1/videos/generations", { body: { prompt: "once only", image_start: sample().image_start, model: "wan2.7-image-to-video" }, headers });
    expect([again.status, again.json.id, again.headers.get("idempotency-replayed")]).toEqual([200, a.json.id, "true"]);
    expect(await portal.services.db.task.count({ where: { prompt: "once only" } })).toBe(1);
    const conflict = await call("POST", "/v1/videos/generations", { body: { ...body, prompt: "something else" }, headers });
    expect([conflict.status, conflict.json.error.code]).toEqual([409, "idempotency_conflict"]);
    // Another key may use the same Idempotency-Key for its own request.
    const noahs = await call("POST", "/v1/videos/generations", { key: noahKey.secret, body, headers });
    expect(noahs.status).toBe(200);
    expect(noahs.json.id).not.toBe(a.json.id);
  });
});

describe("who may call", () => {
  it("refuses a missing, unknown, revoked or expired key and a deactivated person's, alike (401)", async () => {
    const revoked = await createApiKey(portal.services.apiKeyDeps, mia, { name: "to revoke" }, mia);
    await revokeMyApiKey(portal.services.apiKeyDeps, mia, revoked.key.id);
    const expiring = await createApiKey(portal.services.apiKeyDeps, mia, { name: "expiring", expiresInDays: 1 }, mia);
    await portal.services.db.apiKey.update({ where: { id: expiring.key.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const leaver = await createUser(portal.services.db, { email: "leaver@v1.test", password: "leaver-password-1" });
    const leaversKey = await createApiKey(portal.services.apiKeyDeps, leaver, { name: "leaver's" }, leaver);
    expect((await call("GET", "/v1/balance", { key: leaversKey.secret })).status).toBe(200);
    await deactivateUser({ db: portal.services.db, publicBaseUrl: "https://portal.example", mailer: null, invitationTtlHours: 72, passwordResetTtlHours: 24 }, admin, leaver.id);
    const answers = await Promise.all(
      [null, "wvp_unknownunknownunknownunknownunknown1234", revoked.secret, expiring.secret, leaversKey.secret].map((key) => call("GET", "/v1/tasks", { key })),
    );
    for (const a of answers) expect([a.status, a.json.error.code, a.json.error.type]).toEqual([401, "unauthorized", "authentication_error"]);
    expect(new Set(answers.map((a) => a.json.error.message)).size).toBe(1);
  });

  it("refuses a task the budget cannot hold: 402, nothing stored or sent", async () => {
    const before = await portal.services.db.task.count();
    await setBudget(portal.services.db, admin, { scope: "user", userId: noah.id, monthlyLimit: 0.01 });
    const refused = await call("POST", "/v1/videos/generations", { key: noahKey.secret, body: { model: "wan2.7-image-to-video", prompt: "too dear", image_start: sample().image_start } });
    expect([refused.status, refused.json.error.code, refused.json.error.type]).toEqual([402, "quota_exceeded", "insufficient_quota"]);
    expect(await portal.services.db.task.count()).toBe(before);
    const balance = (await call("GET", "/v1/balance", { key: noahKey.secret })).json;
    expect(balance.budget).toBe(0.01);
    await setBudget(portal.services.db, admin, { scope: "user", userId: noah.id, monthlyLimit: null });
  });

  it("limits each key's requests, across instances, with Retry-After", async () => {
    const own = await createApiKey(portal.services.apiKeyDeps, noah, { name: "limited" }, noah);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await call("GET", "/v1/balance", { key: own.secret, server: limited }));
    expect(statuses.map((s) => s.status)).toEqual([200, 200, 200, 429]);
    expect(statuses[3]!.json.error).toMatchObject({ code: "rate_limit_exceeded", type: "rate_limit_error" });
    expect(Number(statuses[3]!.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another key is counted on its own.
    const second = await createApiKey(portal.services.apiKeyDeps, noah, { name: "limited too" }, noah);
    expect((await call("GET", "/v1/balance", { key: second.secret, server: limited })).status).toBe(200);
  });
});

describe("callback_url", () => {
  it("sends the ended task, signed with the key's signing secret, to an https receiver; retries a failing one", async () => {
    const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
    let failFirst = 1;
    const receiver = https.createServer({ key: readFileSync(path.join(TLS, "receiver-key.pem")), cert: readFileSync(path.join(TLS, "receiver-cert.pem")) }, (req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(failFirst-- > 0 ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const origin = `https://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    try {
      const created = await call("POST", "/v1/videos/generations", {
        body: { model: "wan2.7-image-to-video", prompt: "tell me when done", image_start: sample().image_start, callback_url: `${origin}/hooks/video?order=7` },
      });
      expect(created.status).toBe(200);
      await waitFor(
        () => portal.services.db.task.findUniqueOrThrow({ where: { id: created.json.id } }),
        (t) => t.clientCallbackStatus === "pending",
      );
      expect(await findPendingClientCallbacks(portal.services.db)).toContain(created.json.id);
      // The worker's job, with the guard letting this one local receiver through (tests only) and trusting its certificate.
      const post = createGuardedPoster({ timeoutMs: 10_000, allowedOrigins: [origin], ca: readFileSync(path.join(TLS, "receiver-cert.pem")) });
      const deps = { ...portal.services.clientCallbacks, post, retryDelaysMs: [1, 1, 1] };
      expect(await deliverClientCallback(deps, created.json.id)).toBe("delivered");
      expect(received).toHaveLength(2);
      const last = received[1]!;
      const task = v1TaskSchema.parse(JSON.parse(last.body));
      expect(task).toMatchObject({ id: created.json.id, status: "completed" });
      const timestamp = String(last.headers["x-portal-timestamp"]);
      const expected = `v1=${createHmac("sha256", miaKey.signingSecret).update(`${timestamp}.${last.body}`).digest("hex")}`;
      expect(last.headers["x-portal-signature"]).toBe(expected);
      const row = await portal.services.db.task.findUniqueOrThrow({ where: { id: created.json.id } });
      expect([row.clientCallbackStatus, row.clientCallbackAttempts]).toEqual(["delivered", 2]);
      // Sent once: a second run finds nothing to send.
      expect(await deliverClientCallback(deps, created.json.id)).toBe("skipped");
      // Without the test's exemption, the guard refuses this computer's address.
      const guarded = createGuardedPoster({ timeoutMs: 2_000, ca: readFileSync(path.join(TLS, "receiver-cert.pem")) });
      expect(await guarded(`${origin}/hooks/video`, "{}", {})).toMatchObject({ error: expect.stringMatching(/not a public address/) });
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });
});

describe("the OpenAPI document", () => {
  it("describes the create request from the portal's contract, without a key", async () => {
    const doc = await call("GET", "/v1/openapi.json", { key: null });
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toBe("3.1.0");
    const create = doc.json.components.schemas.CreateRequest;
    expect(create.required).toEqual(expect.arrayContaining(["model", "prompt"]));
    expect(create.properties.duration).toMatchObject({ type: "integer", minimum: 2, maximum: 15 });
    expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(["/v1/videos/generations", "/v1/tasks/{id}", "/v1/tasks", "/v1/balance"]));
  });
});
