/**
 * Prometheus metrics: what this process did (provider calls by operation and
 * outcome, callbacks by outcome, budget refusals) counted where it happens,
 * and the shared gauges (tasks by status, queue depth) read from the
 * database at scrape time; GET /metrics behind its token.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root.ts";
import { isMetricsRequest, serveMetrics } from "@/server/metrics/http.ts";
import { databaseGauges } from "@/server/metrics/gauges.ts";
import { metrics, metricsAccess, renderMetrics, setGaugeSource } from "@/server/metrics/metrics.ts";
import { createUser, type SessionUser } from "@/server/users/users.ts";
import { startTestPortal, waitFor, type TestPortal } from "../helpers/services.ts";

let portal: TestPortal;
let alice: SessionUser;

/** A counter's or gauge's value for exactly these labels (0 when never set). */
async function value(name: string, labels: Record<string, string>): Promise<number> {
  const metric = metrics().registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, l]) => String((v.labels as Record<string, unknown>)[k]) === l));
  return hit?.value ?? 0;
}

beforeAll(async () => {
  portal = await startTestPortal();
  alice = await createUser(portal.services.db, { email: "alice-metrics@example.test", password: "alice-password" });
  setGaugeSource(databaseGauges((sql) => portal.services.db.$queryRawUnsafe(sql)));
});
afterAll(async () => {
  setGaugeSource(null);
  await portal?.close();
});

describe("metrics", () => {
  it("count provider calls and callbacks where they happen, and read tasks by status from the database", async () => {
    const caller = createCaller({ services: portal.services, user: alice });
    const creates = await value("portal_provider_requests_total", { operation: "create", outcome: "ok" });
    const applied = await value("portal_callbacks_total", { outcome: "applied" });

    const task = await caller.tasks.create({ prompt: "A lighthouse at dusk", image_start: `${portal.simulator.url}/samples/first-frame.png` });
    await waitFor(() => caller.tasks.get({ id: task.id }), (t) => t.status === "completed");

    expect(await value("portal_provider_requests_total", { operation: "create", outcome: "ok" })).toBe(creates + 1);
    await waitFor(async () => value("portal_callbacks_total", { outcome: "applied" }), (n) => n > applied);
    const { body } = await renderMetrics();
    expect(body).toMatch(/^portal_tasks\{status="completed"\} 1$/m);
    expect(body).toMatch(/^portal_provider_request_duration_seconds_count\{operation="create"\} \d+$/m);
    expect(body).toContain("portal_process_cpu_user_seconds_total");
  });

  it("count a provider refusal by its kind", async () => {
    const caller = createCaller({ services: portal.services, user: alice });
    const before = await value("portal_provider_requests_total", { operation: "create", outcome: "bad_request" });
    portal.simulator.faults.http({ endpoint: "create", status: 400, count: 1 });
    await expect(caller.tasks.create({ prompt: "Refused by the provider", image_start: `${portal.simulator.url}/samples/first-frame.png` })).rejects.toThrow(
      "The video service refused this request",
    );
    expect(await value("portal_provider_requests_total", { operation: "create", outcome: "bad_request" })).toBe(before + 1);
    expect((await renderMetrics()).body).toMatch(/^portal_tasks\{status="failed"\} 1$/m);
  });
});

describe("GET /metrics", () => {
  it("is off without a token, refuses a wrong one, and answers the text exposition with the right one", async () => {
    expect(metricsAccess(undefined, "Bearer anything")).toBe("off");
    expect(metricsAccess("a-long-metrics-token", null)).toBe("denied");
    expect(metricsAccess("a-long-metrics-token", "Bearer a-long-metrics-tokeN")).toBe("denied");
    expect(metricsAccess("a-long-metrics-token", "Bearer a-long-metrics-token")).toBe("ok");

    const server = http.createServer((req, res) => {
      if (isMetricsRequest(req)) void serveMetrics(req, res, "a-long-metrics-token");
      else res.writeHead(418).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    try {
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: "Bearer wrong-token-of-some-length" } })).status).toBe(401);
      const ok = await fetch(url, { headers: { authorization: "Bearer a-long-metrics-token" } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("content-type")).toContain("text/plain");
      expect(await ok.text()).toContain("# TYPE portal_tasks gauge");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
