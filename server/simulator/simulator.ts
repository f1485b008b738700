/**
 * A local stand-in for Evolink's HTTP API (see /work/shared/evolink/API-NOTES.md),
 * so the portal can be developed and tested without a paid key: same endpoints,
 * same task object, same error bodies, same callback behaviour. Tasks walk
 * pending -> processing -> completed (or failed) on timers, and results point
 * at a real small MP4 it serves.
 *
 * - simulator.ts (this file): startSimulator, which builds the state and the
 *   server and returns the public `Simulator` object.
 * - state.ts: the one state object the other modules share, and its types.
 * - routes.ts: the provider API (create, query) and the files it serves.
 * - tasks.ts: a task's timeline (pending -> processing -> completed | failed).
 * - callbacks.ts: POSTing the task to its callback_url, with retries and faults.
 * - control.ts: the `/__sim/` control API below.
 * - contract.ts: the create request contract (modes, limits, fields).
 * - faults.ts: what a test can make it do wrong (HTTP faults, failed tasks,
 *   callback faults, forgotten tasks), from code (`sim.faults`) or over HTTP
 *   under `/__sim/`.
 * - store.ts: the tasks kept in a folder across restarts (option `dataDir`).
 * - http.ts: small HTTP helpers.
 *
 * Control API, for browser tests: same bearer key as the provider API, and
 * only from a loopback peer (127.0.0.0/8, ::1); any other peer gets 404, as if
 * these routes did not exist, even with the key. The provider API, the files
 * and the samples answer every peer.
 *   POST /__sim/faults     body {http?, failTask?, callbacks?, pace?, forget?}: one rule or a list each (see faults.ts)
 *   GET  /__sim/faults     the active rules
 *   POST /__sim/reset      clears all rules and the request log (tasks keep running)
 *   GET  /__sim/tasks/{id} a task as the simulator sees it (request, mode, callback attempts)
 *   GET  /__sim/requests   the request log and the contract refusals
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { forgetRuleSchema, type FaultsSnapshot, type ForgetRule, type HttpFaultRule, type PaceRule, type TaskFailureRule, type CallbackFaultRule } from "./faults.ts";
import { sendError } from "./http.ts";
import { handle } from "./routes.ts";
import { openTaskStore } from "./store.ts";
import { resumeTasks } from "./tasks.ts";
import { closeState, createState, forgetTask, resetState, type SimulatedTask, type SimulatorOptions, type SimulatorRefusal, type SimulatorRequestRecord, type SimulatorStats } from "./state.ts";

export { validateGenerationRequest, checkGenerationRequest, CONTRACT_LIMITS, MODE_RULES, SIM_MODEL_ID, type SimMode } from "./contract.ts";
export { FAIL_MARKER, FAILED_TASK_CODES, FAILED_TASK_MESSAGES, type CallbackFaultRule, type HttpFaultRule, type TaskFailureRule } from "./faults.ts";
export type { SimError } from "./http.ts";
export type { CallbackAttempt, SimTaskObject, SimulatedTask, SimulatorOptions, SimulatorRefusal, SimulatorRequestRecord } from "./state.ts";

export interface SimulatorFaults {
  /** The next `count` (default 1) requests to `endpoint` (default "any") answer `status`, or hang. */
  http(rule: HttpFaultRule): void;
  /** Tasks picked by prompt `marker`, or the next `count` (default 1) created tasks, end failed with `code`. */
  failTask(rule: TaskFailureRule): void;
  /** Callback behaviour (drop, delayMs, duplicate, staleProcessing) for tasks picked likewise. */
  callbacks(rule: CallbackFaultRule): void;
  /** Tasks picked likewise take `stepMs` per step (a slow task to watch). */
  pace(rule: PaceRule): void;
  /** Loses the task `taskId` (queries answer 404 from now on), or with `count` answers 404 for its next `count` queries only. */
  forget(rule: ForgetRule): void;
  clear(): void;
  list(): FaultsSnapshot;
}

export interface Simulator {
  url: string;
  port: number;
  close(): Promise<void>;
  requests: SimulatorRequestRecord[];
  tasks: Map<string, SimulatedTask>;
  /** Create requests the contract refused. */
  refusals: SimulatorRefusal[];
  /** Counters: `truncated` = accepted requests with an over-long text (with `overlongText: "truncate"`). */
  stats: SimulatorStats;
  faults: SimulatorFaults;
  getTask(id: string): SimulatedTask | undefined;
  /** Clears fault rules, the request log, refusals and counters; tasks keep running. */
  reset(): void;
}

function formatHost(host: string): string {
  // A wildcard address is not something a browser can open.
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

/** Starts the simulator; refuses (throws) without an API key. */
export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const state = createState(opts);
  const { log } = state;
  // Read before listening (a broken file fails the start, not a request); resumed once result links can be made.
  if (opts.dataDir) state.store = openTaskStore(opts.dataDir);
  const { host } = state.options;

  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    handle(state, req, res, path).catch((err: unknown) => {
      // Last line of defence: the simulator must survive anything a client sends.
      log(`error handling ${req.method} ${path}: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) sendError(res, { status: 500, code: "internal_error", type: "api_error", message: "Simulator error." });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${formatHost(host)}:${port}`;
  state.publicUrl = (opts.publicUrl ?? url).replace(/\/+$/, "");
  log(`listening on ${url}`);
  if (state.store) {
    resumeTasks(state, state.store.loaded);
    if (state.store.loaded.length > 0) log(`${state.store.loaded.length} task(s) read back from ${state.store.file}`);
  }

  const { faults, tasks } = state;
  return {
    url,
    port,
    requests: state.requests,
    tasks,
    refusals: state.refusals,
    stats: state.stats,
    faults: {
      http: (rule) => faults.http(rule),
      failTask: (rule) => faults.failTask(rule),
      callbacks: (rule) => faults.callbacks(rule),
      pace: (rule) => faults.pace(rule),
      forget: (rule) => {
        const r = forgetRuleSchema.parse(rule);
        if (r.count !== undefined) faults.hide(r.taskId, r.count);
        else forgetTask(state, r.taskId);
      },
      clear: () => faults.clear(),
      list: () => faults.list(),
    },
    getTask: (id) => tasks.get(id),
    reset: () => resetState(state),
    close() {
      closeState(state);
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still in flight (e.g. a long download) get a moment, then are cut.
        setTimeout(() => server.closeAllConnections(), 500).unref();
      });
    },
  };
}
