/**
 * The one state object every part of the simulator works on. `startSimulator`
 * builds it once; the callbacks, task, route and control modules are plain
 * functions that take it as their first argument, so what they share (and
 * what `close()` must stop) is written down here rather than hidden in a
 * closure.
 */
import type http from "node:http";
import type { SimMode } from "./contract.ts";
import { FaultState, type CallbackFault, type TaskFailure } from "./faults.ts";
import { needsCompaction, type TaskStore } from "./store.ts";

export interface SimulatorOptions {
  /** 0 = any free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * The key clients must send as `Authorization: Bearer <key>`; it also guards
   * the `/__sim/` control API. Required, and there is no default: a well-known
   * key would let anyone read every user's prompts and callback tokens.
   */
  apiKey: string;
  /** Time per state step. Default 1500 ms. */
  stepMs?: number;
  /** Base URL used in result links. Default http://<host>:<port>. */
  publicUrl?: string;
  log?: (msg: string) => void;
  /** Waits before callback retries; the provider's are 1, 2 and 4 s (3 retries). */
  callbackRetryDelaysMs?: number[];
  /** How long a callback receiver has to answer 2xx. Default 10 s, as the provider. */
  callbackTimeoutMs?: number;
  /** Also call back at each progress step. Default false: the provider calls back only when a task ends. */
  progressCallbacks?: boolean;
  /** Over-long prompt / negative_prompt: "refuse" (default, stricter than the provider) or "truncate" (as the provider). */
  overlongText?: "refuse" | "truncate";
  /** Serve the `/__sim/` control API. Default true. */
  controlApi?: boolean;
  /**
   * Keep the tasks in this folder across restarts (as the provider would):
   * running tasks continue, ended ones still answer, callbacks not yet
   * delivered are sent. Default: in memory only.
   */
  dataDir?: string;
}

/** The options with their defaults applied (port, publicUrl and log are used once, at start). */
export interface ResolvedOptions {
  host: string;
  apiKey: string;
  stepMs: number;
  callbackRetryDelaysMs: number[];
  callbackTimeoutMs: number;
  progressCallbacks: boolean;
  overlongText: "refuse" | "truncate";
  controlApi: boolean;
}

/** The task object on the wire, as in API-NOTES.md. */
export interface SimTaskObject {
  created: number;
  id: string;
  model: string;
  object: "video.generation.task";
  progress: number;
  status: "pending" | "processing" | "completed" | "failed";
  task_info: { can_cancel: boolean; estimated_time: number; video_duration: number };
  type: "video";
  usage: { billing_rule: "per_second"; credits_reserved: number; user_group: string };
  results?: string[];
  error?: { code: string; message: string; type: "task_error" };
}

export interface CallbackAttempt {
  at: number;
  /** HTTP status the receiver answered, if it answered. */
  status?: number;
  error?: string;
  /** final = the task's end state; stale = an injected old "processing" snapshot; progress = a progress step. */
  kind: "final" | "stale" | "progress";
  /** The task status in the body sent. */
  taskStatus: SimTaskObject["status"];
  /** Which copy (0..duplicate-1) of the final callback. */
  copy: number;
  /** 0 = first try, 1..3 = retries. */
  attempt: number;
}

export interface SimulatedTask {
  /** Mutated in place as the task progresses; the current state is what GET answers. */
  task: SimTaskObject;
  request: Record<string, unknown>;
  /** The generation mode used: the explicit one or the one derived from the materials. */
  mode: SimMode;
  modeDerived: boolean;
  /** Fields cut because they were over-long (only with `overlongText: "truncate"`). */
  truncated: string[];
  idempotencyKey?: string;
  callbackUrl?: string;
  /** How this task will fail, if it will. */
  failure?: TaskFailure;
  /** The callback fault bound to this task, if any. */
  callbackFault?: CallbackFault;
  /** This task's own pace (a pace rule), instead of the simulator's `stepMs`. */
  stepMs?: number;
  /** One entry per callback POST attempt. */
  callbackAttempts: CallbackAttempt[];
  /** True when a drop rule suppressed the callbacks. */
  callbackDropped: boolean;
  /** When the task reached completed / failed (ms since epoch). */
  endedAt?: number;
  /** True once its end callbacks were delivered or given up (a restart sends the others again). */
  callbacksDone?: boolean;
}

export interface SimulatorRequestRecord {
  method: string;
  path: string;
  body: unknown;
  at: number;
  idempotencyKey?: string;
  /** What the simulator answered; absent while a hung request is open, and after it is cut. */
  response?: { status: number; code?: string; param?: string };
  /** Set when a fault rule answered this request. */
  fault?: "status" | "hang";
}

/** A create request refused by the contract (400/413), i.e. a request the portal should not have sent. */
export interface SimulatorRefusal {
  at: number;
  status: number;
  code: string;
  param?: string;
  message: string;
  body: unknown;
}

export interface SimulatorStats {
  created: number;
  refused: number;
  truncated: number;
}

export interface SimulatorState {
  options: ResolvedOptions;
  tasks: Map<string, SimulatedTask>;
  /** The request log (create, query and faulted file requests). */
  requests: SimulatorRequestRecord[];
  refusals: SimulatorRefusal[];
  stats: SimulatorStats;
  faults: FaultState;
  /** Pending `later` timers; cancelled on close. */
  timers: Set<NodeJS.Timeout>;
  /** Requests held open by a hang fault; cut on close. */
  hanging: Set<http.ServerResponse>;
  /** Aborts in-flight callback deliveries on close. */
  shutdown: AbortController;
  closed: boolean;
  /** Base URL of result links; known once listening. */
  publicUrl: string;
  log: (msg: string) => void;
  /** Where tasks are kept across restarts; absent = in memory only. */
  store?: TaskStore;
}

/** The provider retries a failed callback 3 times, after 1, 2 and 4 seconds. */
const DEFAULT_CALLBACK_RETRY_DELAYS_MS = [1000, 2000, 4000];
const DEFAULT_CALLBACK_TIMEOUT_MS = 10_000;

/** Progress reported at each processing step; one more step then ends the task. */
export const PROCESSING_PROGRESS = [10, 40, 70, 90];

export function createState(opts: SimulatorOptions): SimulatorState {
  if (typeof opts.apiKey !== "string" || opts.apiKey.trim() === "") throw new Error("The simulator needs an API key (apiKey).");
  return {
    options: {
      host: opts.host ?? "127.0.0.1",
      apiKey: opts.apiKey,
      stepMs: opts.stepMs ?? 1500,
      callbackRetryDelaysMs: [...(opts.callbackRetryDelaysMs ?? DEFAULT_CALLBACK_RETRY_DELAYS_MS)],
      callbackTimeoutMs: opts.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS,
      progressCallbacks: opts.progressCallbacks ?? false,
      overlongText: opts.overlongText ?? "refuse",
      controlApi: opts.controlApi ?? true,
    },
    tasks: new Map(),
    requests: [],
    refusals: [],
    stats: { created: 0, refused: 0, truncated: 0 },
    faults: new FaultState(),
    timers: new Set(),
    hanging: new Set(),
    shutdown: new AbortController(),
    closed: false,
    publicUrl: "",
    log: opts.log ?? (() => {}),
  };
}

/** Writes a task's current record to the store (when there is one), compacting it now and then. */
export function persist(state: SimulatorState, sim: SimulatedTask): void {
  const { store } = state;
  if (!store || state.closed || state.tasks.get(sim.task.id) !== sim) return;
  try {
    store.save(sim);
    if (needsCompaction(store.lines(), state.tasks.size)) {
      for (const id of store.compact(state.tasks.values())) state.tasks.delete(id);
    }
  } catch (err) {
    // A full disk must not stop the simulator answering; the task stays in memory.
    state.log(`could not write task ${sim.task.id} to ${store.file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Forgets a task, as a provider that lost it would: queries answer 404, its timeline and callbacks stop. */
export function forgetTask(state: SimulatorState, id: string): boolean {
  if (!state.tasks.delete(id)) return false;
  try {
    state.store?.forget(id);
  } catch (err) {
    state.log(`could not write to ${state.store?.file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  state.log(`task ${id} forgotten (fault)`);
  return true;
}

/** setTimeout that close() can cancel. */
export function later(state: SimulatorState, ms: number, fn: () => void): void {
  if (state.closed) return;
  const t = setTimeout(() => {
    state.timers.delete(t);
    fn();
  }, ms);
  state.timers.add(t);
}

/** Resolves after `ms`; never resolves once the simulator is closed (the caller is abandoned). */
export function pause(state: SimulatorState, ms: number): Promise<void> {
  return new Promise<void>((resolve) => later(state, ms, resolve));
}

/** Clears fault rules, the request log, refusals and counters; tasks keep running. */
export function resetState(state: SimulatorState): void {
  state.faults.clear();
  state.requests.length = 0;
  state.refusals.length = 0;
  state.stats.created = 0;
  state.stats.refused = 0;
  state.stats.truncated = 0;
}

/** Stops timers, callback deliveries and hung requests; the server is closed by the caller. */
export function closeState(state: SimulatorState): void {
  state.closed = true;
  for (const t of state.timers) clearTimeout(t);
  state.timers.clear();
  state.shutdown.abort();
  for (const res of state.hanging) res.destroy();
  state.hanging.clear();
}
