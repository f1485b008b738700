/**
 * Who may use the simulator: it has no default key (each data folder has its
 * own, see local-secrets.ts), it listens on loopback unless told otherwise,
 * and its `/__sim/` control API (which shows every request's prompt and
 * callback URL) answers only loopback peers holding the key.
 */
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLoopbackPeer } from "../../server/simulator/control.ts";
import { startSimulator, type Simulator } from "../../server/simulator/simulator.ts";

const API_KEY = "access-key-7c1e";

describe("the API key", () => {
  it("is required: the simulator refuses to start without one", async () => {
    // @ts-expect-error apiKey is a required option
    await expect(startSimulator({ port: 0 })).rejects.toThrow(/API key/);
    await expect(startSimulator({ port: 0, apiKey: "" })).rejects.toThrow(/API key/);
    await expect(startSimulator({ port: 0, apiKey: "   " })).rejects.toThrow(/API key/);
  });

  it("listens on 127.0.0.1 by default", async () => {
    const sim = await startSimulator({ port: 0, apiKey: API_KEY });
    try {
      expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
    } finally {
      await sim.close();
    }
  });
});

describe("isLoopbackPeer", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.0.0.2", true],
    ["127.255.255.254", true],
    ["::1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["::FFFF:127.1.2.3", true],
    ["::ffff:7f00:1", true],
    ["126.255.255.255", false],
    ["128.0.0.1", false],
    ["10.0.0.1", false],
    ["192.168.1.20", false],
    ["0.0.0.0", false],
    ["::", false],
    ["::2", false],
    ["fe80::1", false],
    ["fe80::1%eth0", false],
    ["::ffff:10.0.0.1", false],
    ["::ffff:128.0.0.1", false],
    ["2001:db8::1", false],
    ["localhost", false],
    ["127.1", false],
    ["", false],
    [undefined, false],
  ] as const)("%s -> %s", (address, expected) => {
    expect(isLoopbackPeer(address)).toBe(expected);
  });
});

/** GET a path with an optional bearer key; the status and the error code, if any. */
async function get(base: string, path: string, key: string | null): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${base}${path}`, { headers: key !== null ? { Authorization: `Bearer ${key}` } : {} });
  const type = res.headers.get("content-type") ?? "";
  const body = type.includes("json") ? ((await res.json()) as { error?: { code?: string } }) : (await res.arrayBuffer(), {});
  return { status: res.status, ...(body.error?.code !== undefined && { code: body.error.code }) };
}

describe("the control API", () => {
  let sim: Simulator;
  beforeAll(async () => {
    // Listening on every interface, as with SIMULATOR_HOST=0.0.0.0.
    sim = await startSimulator({ port: 0, host: "0.0.0.0", apiKey: API_KEY });
  });
  afterAll(async () => {
    await sim.close();
  });

  it("answers a loopback peer with the key, and 401 without it or with a wrong one", async () => {
    await expectControlForLoopback(`http://127.0.0.1:${sim.port}`);
  });

  const external = nonLoopbackIpv4();
  it.skipIf(external === undefined)("is not there for any other peer, even with the key; the provider API and files are", async () => {
    const base = `http://${external}:${sim.port}`;
    const notFound = { status: 404, code: "not_found" };
    expect(await get(base, "/__sim/faults", API_KEY)).toEqual(notFound);
    expect(await get(base, "/__sim/requests", API_KEY)).toEqual(notFound);
    expect(await get(base, "/__sim/tasks/task-unified-1-nope", API_KEY)).toEqual(notFound);
    expect(await get(base, "/__sim/requests", null)).toEqual(notFound);
    const reset = await fetch(`${base}/__sim/reset`, { method: "POST", headers: { Authorization: `Bearer ${API_KEY}` } });
    expect(reset.status).toBe(404);
    await reset.arrayBuffer();

    expect(await get(base, "/v1/tasks/task-unified-1-nope", API_KEY)).toEqual({ status: 404, code: "task_not_found" });
    expect(await get(base, "/v1/tasks/task-unified-1-nope", null)).toEqual({ status: 401, code: "unauthorized" });
    expect(await get(base, "/samples/first-frame.png", null)).toEqual({ status: 200 });
    expect(await get(base, "/files/task-unified-1-x.mp4", null)).toEqual({ status: 200 });
    expect(await get(base, "/health", null)).toEqual({ status: 200 });
  });
});

// On a dual-stack socket an IPv4 peer is seen as ::ffff:127.0.0.1.
it.skipIf(!hasIpv6Loopback())("answers ::1 and IPv4-mapped loopback peers on a dual-stack socket", async () => {
  const dual = await startSimulator({ port: 0, host: "::", apiKey: API_KEY });
  try {
    await expectControlForLoopback(`http://[::1]:${dual.port}`);
    await expectControlForLoopback(`http://127.0.0.1:${dual.port}`);
  } finally {
    await dual.close();
  }
});

async function expectControlForLoopback(base: string): Promise<void> {
  expect(await get(base, "/__sim/faults", API_KEY)).toEqual({ status: 200 });
  expect(await get(base, "/__sim/requests", API_KEY)).toEqual({ status: 200 });
  expect(await get(base, "/__sim/tasks/task-unified-1-nope", API_KEY)).toEqual({ status: 404, code: "task_not_found" });
  expect(await get(base, "/__sim/faults", null)).toEqual({ status: 401, code: "unauthorized" });
  expect(await get(base, "/__sim/requests", "wrong-key")).toEqual({ status: 401, code: "unauthorized" });
}

function hasIpv6Loopback(): boolean {
  return Object.values(os.networkInterfaces()).some((addresses) => addresses?.some((a) => a.family === "IPv6" && a.address === "::1"));
}

/** An IPv4 address of this machine that is not loopback, to reach the simulator as another peer would. */
function nonLoopbackIpv4(): string | undefined {
  for (const addresses of Object.values(os.networkInterfaces())) {
    const found = addresses?.find((a) => a.family === "IPv4" && !a.internal && !isLoopbackPeer(a.address));
    if (found) return found.address;
  }
  return undefined;
}
