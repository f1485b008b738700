/**
 * Prometheus metrics (prom-client), one registry per process: each web
 * instance and each worker exposes its own, and Prometheus scrapes each.
 *
 * Counters and histograms count what this process did (provider calls,
 * callbacks, archive failures, budget refusals, jobs). Gauges of shared
 * state (tasks by status, queue depth) are read from the database at scrape
 * time, so every instance reports the same truth and none keeps a copy.
 *
 * The production build bundles each route separately, so this module (and
 * prom-client) can exist several times in one process: the metrics live on
 * `globalThis` under a `Symbol.for` key, so every copy counts into the same
 * registry.
 */
import crypto from "node:crypto";
import client from "prom-client";

export interface PortalMetrics {
  registry: client.Registry;
  providerRequests: client.Counter<"operation" | "outcome">;
  providerDuration: client.Histogram<"operation">;
  callbacks: client.Counter<"outcome">;
  archiveFailures: client.Counter<"final">;
  budgetRefusals: client.Counter<"scope">;
  jobs: client.Counter<"queue" | "outcome">;
  jobDuration: client.Histogram<"queue">;
}

/** Reads the shared gauges (tasks by status, queue depth) from the database at scrape time. */
export interface GaugeSource {
  tasksByStatus(): Promise<Array<{ status: string; count: number }>>;
  queueDepth(): Promise<Array<{ queue: string; state: string; count: number }>>;
}

const KEY = Symbol.for("wan-video-portal.metrics");
type Holder = { [KEY]?: PortalMetrics & { setGaugeSource(source: GaugeSource | null): void } };

function create(): PortalMetrics & { setGaugeSource(source: GaugeSource | null): void } {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "portal_" });
  let source: GaugeSource | null = null;
  const registers = [registry];

  new client.Gauge({
    name: "portal_tasks",
    help: "Tasks in the database, by status (read from the database at scrape time)",
    labelNames: ["status"],
    registers,
    async collect() {
      this.reset();
      if (!source) return;
      for (const { status, count } of await source.tasksByStatus().catch(() => [])) this.set({ status }, count);
    },
  });
  new client.Gauge({
    name: "portal_queue_jobs",
    help: "Background jobs in the queue, by queue and state (read from the database at scrape time)",
    labelNames: ["queue", "state"],
    registers,
    async collect() {
      this.reset();
      if (!source) return;
      for (const { queue, state, count } of await source.queueDepth().catch(() => [])) this.set({ queue, state }, count);
    },
  });

  return {
    registry,
    setGaugeSource: (s) => {
      source = s;
    },
    providerRequests: new client.Counter({
      name: "portal_provider_requests_total",
      help: "HTTP exchanges with the provider, by operation (create, query) and outcome (ok, or the error kind)",
      labelNames: ["operation", "outcome"],
      registers,
    }),
    providerDuration: new client.Histogram({
      name: "portal_provider_request_duration_seconds",
      help: "Time of one HTTP exchange with the provider, by operation",
      labelNames: ["operation"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    callbacks: new client.Counter({
      name: "portal_callbacks_total",
      help: "Provider callbacks received, by outcome (applied, duplicate, deferred, rejected, error, …)",
      labelNames: ["outcome"],
      registers,
    }),
    archiveFailures: new client.Counter({
      name: "portal_archive_failures_total",
      help: "Failed copies of a result to the portal's storage (final: no attempt left)",
      labelNames: ["final"],
      registers,
    }),
    budgetRefusals: new client.Counter({
      name: "portal_budget_refusals_total",
      help: "Submits refused because a monthly budget could not pay for them, by budget (personal, team)",
      labelNames: ["scope"],
      registers,
    }),
    jobs: new client.Counter({
      name: "portal_jobs_total",
      help: "Background jobs run by this worker, by queue and outcome",
      labelNames: ["queue", "outcome"],
      registers,
    }),
    jobDuration: new client.Histogram({
      name: "portal_job_duration_seconds",
      help: "Time of one background job, by queue",
      labelNames: ["queue"],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    }),
  };
}

/** This process's metrics (created on first use). */
export function metrics(): PortalMetrics {
  const holder = globalThis as Holder;
  return (holder[KEY] ??= create());
}

/** Where the database-derived gauges come from; set once per process by whoever holds the database. */
export function setGaugeSource(source: GaugeSource | null): void {
  metrics();
  (globalThis as Holder)[KEY]!.setGaugeSource(source);
}

/** The text exposition of this process's metrics. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  const { registry } = metrics();
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/**
 * Whether a scrape may read the metrics: `Authorization: Bearer <METRICS_TOKEN>`.
 * Without a configured token the endpoint is off (404), so a forgotten
 * setting never publishes them.
 */
export function metricsAccess(token: string | undefined, authorization: string | null): "ok" | "off" | "denied" {
  if (!token) return "off";
  const given = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  if (!given) return "denied";
  // Constant-time comparison of equal-length buffers.
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && crypto.timingSafeEqual(a, b) ? "ok" : "denied";
}
