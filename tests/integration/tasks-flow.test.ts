import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root.ts";
import { callbackToken } from "@/server/callbacks/token.ts";
import { handleProviderCallback } from "@/server/callbacks/callbacks.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { startTestPortal, TEST_SECRET, waitFor, type TestPortal } from "../helpers/services.ts";

let portal: TestPortal;
let alice: SessionUser;
let bob: SessionUser;
const image = "https://example.com/first-frame.png";

beforeAll(async () => {
  portal = await startTestPortal();
  alice = await createUser(portal.services.db, { email: "alice@example.test", password: "alice-password" });
  bob = await createUser(portal.services.db, { email: "bob@example.test", password: "bob-password" });
});
afterAll(() => portal?.close());

const callerFor = (user: SessionUser | null) => createCaller({ services: portal.services, user });
const generations = () => portal.simulator.requests.filter((r) => r.method === "POST" && r.path === "/v1/videos/generations");

describe("a first_frame task from submission to completion", () => {
  it("is stored, submitted, called back, confirmed and billed once", async () => {
    const created = await callerFor(alice).tasks.create({ prompt: "A cat playing piano", image_start: image });
    expect(created.status).toBe("pending");
    expect(created.providerTaskId).toMatch(/^task-unified-/);
    expect(created).not.toHaveProperty("request"); // the callback token stays server-side

    const stored = await portal.services.db.task.findUniqueOrThrow({ where: { id: created.id } });
    const sent = generations().at(-1)?.body as Record<string, unknown>;
    expect(stored.request).toEqual(sent);
    expect(sent).toMatchObject({ model: "wan2.7-image-to-video", generation_mode: "first_frame", duration: 5, quality: "720p" });
    expect(String(sent.callback_url)).toContain(`token=${callbackToken(TEST_SECRET, created.id)}`);

    const done = await waitFor(
      () => callerFor(alice).tasks.get({ id: created.id }),
      (t) => t.status === "completed",
    );
    expect(done.progress).toBe(100);
    expect(done.billedSeconds).toBe(5);
    expect(done.resultUrls).toHaveLength(1);
    expect(done.completedAt).not.toBeNull();
    // The callback's answer is logged just after its handler has recorded the state.
    await waitFor(
      async () => portal.callbacks.some((c) => c.path.endsWith(created.id) && c.status === 200),
      (seen) => seen,
    );

    const history = await callerFor(alice).tasks.mine();
    expect(history.map((t) => t.id)).toContain(created.id);
  });

  it("records a failed task as failed and unbilled, with the provider's reason", async () => {
    const created = await callerFor(alice).tasks.create({ prompt: "[sim:fail] a forbidden scene", image_start: image });
    const done = await waitFor(
      () => callerFor(alice).tasks.get({ id: created.id }),
      (t) => t.status === "failed",
    );
    expect(done.errorCode).toBe("content_policy_violation");
    expect(done.billedSeconds).toBe(0);
  });
});

describe("what the portal refuses", () => {
  it("refuses invalid input before any provider call", async () => {
    const before = generations().length;
    const err = await callerFor(alice)
      .tasks.create({ prompt: "x", image_start: image, duration: 16 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe("BAD_REQUEST");
    expect(generations().length).toBe(before);
    expect(await portal.services.db.task.count({ where: { prompt: "x" } })).toBe(0);
  });

  it("requires a signed-in user", async () => {
    await expect(callerFor(null).tasks.mine()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("does not show one member's task to another", async () => {
    const mine = await callerFor(alice).tasks.create({ prompt: "Alice's secret", image_start: image });
    await expect(callerFor(bob).tasks.get({ id: mine.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await callerFor(bob).tasks.mine()).map((t) => t.id)).not.toContain(mine.id);
  });

  it("ignores a callback with a wrong token", async () => {
    const task = await callerFor(bob).tasks.create({ prompt: "Bob's boat", image_start: image });
    const forged = JSON.stringify({ id: task.providerTaskId, status: "failed", error: { code: "x", message: "forged" } });
    await expect(
      handleProviderCallback(
        { db: portal.services.db, provider: portal.services.provider, serverSecret: TEST_SECRET },
        { taskId: task.id, token: callbackToken("another-secret-of-sufficient-length!!", task.id), rawBody: forged },
      ),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    const done = await waitFor(
      () => callerFor(bob).tasks.get({ id: task.id }),
      (t) => t.status === "completed",
    );
    expect(done.errorMessage).toBeNull();
  });
});
