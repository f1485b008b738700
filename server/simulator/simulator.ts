/**
 * A local stand-in for Evolink's HTTP API (see /work/shared/evolink/API-NOTES.md),
 * so the portal can be developed and tested without a paid key: same endpoints,
 * same task object, same error bodies, same callback behaviour. Tasks walk
 * pending -> processing -> completed (or failed) on timers, and results point
 * at a real small MP4 it serves.
 *
 * - contract.ts: the create request contract (modes, limits, fields).
 * - faults.ts: what a test can make it do wrong (HTTP faults, failed tasks,
 *   callback faults), from code (`sim.faults`) or over HTTP under `/__sim/`.
 * - http.ts: small HTTP helpers.
 *
 * Control API (same bearer key as the provider API; for browser tests):
 *   POST /__sim/faults     body {http?, failTask?, callbacks?}: one rule or a list each (see faults.ts)
 *   GET  /__sim/faults     the active rules
 *   POST /__sim/reset      clears all rules and the request log (tasks keep running)
 *   GET  /__sim/tasks/{id} a task as the simulator sees it (request, mode, callback attempts)
 *   GET  /__sim/requests   the request log and the contract refusals
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { checkGenerationRequest, SIM_MODEL_ID, type SimMode } from "./contract.ts";
import {
  describeIssues,
  FaultState,
  faultsBodySchema,
  HTTP_FAULT_DEFAULTS,
  type CallbackFault,
  type CallbackFaultRule,
  type FaultsSnapshot,
  type HttpFault,
  type HttpFaultRule,
  type TaskFailure,
  type TaskFailureRule,
} from "./faults.ts";
import { BodyTooLarge, MAX_BODY_BYTES, describeFetchError, readBody, sendError, sendFile, sendJson, type SimError } from "./http.ts";

export { validateGenerationRequest, checkGenerationRequest, CONTRACT_LIMITS, MODE_RULES, SIM_MODEL_ID, type SimMode } from "./contract.ts";
export { FAIL_MARKER, FAILED_TASK_CODES, FAILED_TASK_MESSAGES, type CallbackFaultRule, type HttpFaultRule, type TaskFailureRule } from "./faults.ts";
export type { SimError } from "./http.ts";

export interface SimulatorOptions {
  /** 0 = any free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The key clients must send as `Authorization: Bearer <key>`. Default "sim-local-key". */
  apiKey?: string;
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
  /** One entry per callback POST attempt. */
  callbackAttempts: CallbackAttempt[];
  /** True when a drop rule suppressed the callbacks. */
  callbackDropped: boolean;
  /** When the task reached completed / failed (ms since epoch). */
  endedAt?: number;
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

export interface SimulatorFaults {
  /** The next `count` (default 1) requests to `endpoint` (default "any") answer `status`, or hang. */
  http(rule: HttpFaultRule): void;
  /** Tasks picked by prompt `marker`, or the next `count` (default 1) created tasks, end failed with `code`. */
  failTask(rule: TaskFailureRule): void;
  /** Callback behaviour (drop, delayMs, duplicate, staleProcessing) for tasks picked likewise. */
  callbacks(rule: CallbackFaultRule): void;
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
  stats: { created: number; refused: number; truncated: number };
  faults: SimulatorFaults;
  getTask(id: string): SimulatedTask | undefined;
  /** Clears fault rules, the request log, refusals and counters; tasks keep running. */
  reset(): void;
}

const TASK_ID_PREFIX = "task-unified-";
const TASK_ID_PATTERN = /^task-unified-\d+-[a-z0-9]+$/;
const DEFAULT_DURATION = 5;
const DEFAULT_CALLBACK_TIMEOUT_MS = 10_000;
/** The provider retries a failed callback 3 times, after 1, 2 and 4 seconds. */
const DEFAULT_CALLBACK_RETRY_DELAYS_MS = [1000, 2000, 4000];
/** Progress reported at each processing step; one more step then ends the task. */
const PROCESSING_PROGRESS = [10, 40, 70, 90];
const CONTROL_PREFIX = "/__sim/";

const SAMPLE_MP4 = readFileSync(new URL("./assets/sample.mp4", import.meta.url));
const FIRST_FRAME_PNG = readFileSync(new URL("./assets/first-frame.png", import.meta.url));

function newTaskId(nowSeconds: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const suffix = Array.from(randomBytes(8), (b) => alphabet[b % alphabet.length]).join("");
  return `${TASK_ID_PREFIX}${nowSeconds}-${suffix}`;
}

function formatHost(host: string): string {
  // A wildcard address is not something a browser can open.
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? "127.0.0.1";
  const apiKey = opts.apiKey ?? "sim-local-key";
  const stepMs = opts.stepMs ?? 1500;
  const log = opts.log ?? (() => {});
  const callbackRetryDelaysMs = [...(opts.callbackRetryDelaysMs ?? DEFAULT_CALLBACK_RETRY_DELAYS_MS)];
  const callbackTimeoutMs = opts.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS;
  const controlApi = opts.controlApi ?? true;

  const requests: SimulatorRequestRecord[] = [];
  const refusals: SimulatorRefusal[] = [];
  const stats = { created: 0, refused: 0, truncated: 0 };
  const tasks = new Map<string, SimulatedTask>();
  const faults = new FaultState();
  const timers = new Set<NodeJS.Timeout>();
  /** Requests held open by a hang fault; cut on close. */
  const hanging = new Set<http.ServerResponse>();
  // Aborts in-flight callback deliveries on close.
  const shutdown = new AbortController();
  let closed = false;
  let publicUrl = ""; // known once listening

  /** setTimeout that close() can cancel. */
  function later(ms: number, fn: () => void) {
    if (closed) return;
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  /** Resolves after `ms`; never resolves once the simulator is closed (the caller is abandoned). */
  const pause = (ms: number) => new Promise<void>((resolve) => later(ms, resolve));

  /**
   * One logical callback: the first POST, then a retry after each configured
   * delay while the receiver does not answer 2xx in time. True when delivered.
   */
  async function deliver(sim: SimulatedTask, body: SimTaskObject, kind: CallbackAttempt["kind"], copy: number): Promise<boolean> {
    const url = sim.callbackUrl;
    if (url === undefined) return false;
    const payload = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      if (closed) return false;
      const record: CallbackAttempt = { at: Date.now(), kind, taskStatus: body.status, copy, attempt };
      sim.callbackAttempts.push(record);
      // A plain controller and timer rather than AbortSignal.any([AbortSignal.timeout(…), …]):
      // on Node 20 the timeout signal inside AbortSignal.any can be garbage-collected
      // before it fires, leaving the request hanging for ever.
      const attemptAbort = new AbortController();
      const timer = setTimeout(() => attemptAbort.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")), callbackTimeoutMs);
      const onShutdown = () => attemptAbort.abort(shutdown.signal.reason);
      shutdown.signal.addEventListener("abort", onShutdown, { once: true });
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: payload,
          signal: attemptAbort.signal,
        });
        record.status = res.status;
        await res.body?.cancel();
        if (res.ok) {
          log(`callback ${sim.task.id} (${kind} ${body.status}) -> ${res.status}`);
          return true;
        }
      } catch (err) {
        if (closed) return false; // aborted by close(): nothing to report
        record.error = describeFetchError(err);
      } finally {
        clearTimeout(timer);
        shutdown.signal.removeEventListener("abort", onShutdown);
      }
      const delay = callbackRetryDelaysMs[attempt];
      log(`callback ${sim.task.id} attempt ${attempt + 1} failed (${record.error ?? `HTTP ${record.status}`})${delay !== undefined ? `; retrying in ${delay} ms` : "; giving up"}`);
      if (delay === undefined) return false;
      await pause(delay);
    }
  }

  /** A copy of the task as it looked while processing (for stale callbacks). */
  function processingSnapshot(task: SimTaskObject): SimTaskObject {
    const snapshot = structuredClone(task);
    delete snapshot.results;
    delete snapshot.error;
    return { ...snapshot, status: "processing", progress: PROCESSING_PROGRESS.at(-1) ?? 90 };
  }

  /** The callbacks of an ended task, shaped by its callback fault. */
  async function callBack(sim: SimulatedTask): Promise<void> {
    if (sim.callbackUrl === undefined) return;
    const fault = sim.callbackFault;
    if (fault?.drop) {
      sim.callbackDropped = true;
      log(`callback ${sim.task.id} dropped (fault)`);
      return;
    }
    if (fault && fault.delayMs > 0) await pause(fault.delayMs);
    const stale = fault?.staleProcessing;
    const final = structuredClone(sim.task);
    if (stale === "before_final" || stale === "both") await deliver(sim, processingSnapshot(final), "stale", 0);
    const copies = fault?.duplicate ?? 1;
    await Promise.all(Array.from({ length: copies }, (_, copy) => deliver(sim, final, "final", copy)));
    if (stale === "after_final" || stale === "both") await deliver(sim, processingSnapshot(final), "stale", 0);
  }

  /** Advances a task one step: pending -> processing(10..90) -> completed | failed. */
  function step(sim: SimulatedTask, index: number) {
    const { task } = sim;
    const progress = PROCESSING_PROGRESS[index];
    if (progress !== undefined) {
      task.status = "processing";
      task.progress = progress;
      if (opts.progressCallbacks) void deliver(sim, structuredClone(task), "progress", 0);
      later(stepMs, () => step(sim, index + 1));
      return;
    }
    if (sim.failure) {
      task.status = "failed";
      task.error = { code: sim.failure.code, message: sim.failure.message, type: "task_error" };
    } else {
      task.status = "completed";
      task.progress = 100;
      task.results = [`${publicUrl}/files/${task.id}.mp4`];
    }
    sim.endedAt = Date.now();
    log(`task ${task.id} ${task.status}`);
    void callBack(sim);
  }

  function createTask(body: Record<string, unknown>, contract: { mode: SimMode; modeDerived: boolean; truncated: string[] }, idempotencyKey?: string): SimTaskObject {
    const created = Math.floor(Date.now() / 1000);
    const duration = typeof body.duration === "number" && Number.isInteger(body.duration) ? body.duration : DEFAULT_DURATION;
    const task: SimTaskObject = {
      created,
      id: newTaskId(created),
      model: SIM_MODEL_ID,
      object: "video.generation.task",
      progress: 0,
      status: "pending",
      task_info: {
        can_cancel: true,
        // The simulated timeline, in whole seconds.
        estimated_time: Math.max(1, Math.ceil(((PROCESSING_PROGRESS.length + 1) * stepMs) / 1000)),
        video_duration: duration,
      },
      type: "video",
      usage: { billing_rule: "per_second", credits_reserved: duration, user_group: "default" },
    };
    const bound = faults.bindTask(String(body.prompt ?? ""));
    const sim: SimulatedTask = {
      task,
      request: body,
      mode: contract.mode,
      modeDerived: contract.modeDerived,
      truncated: contract.truncated,
      ...(idempotencyKey !== undefined && { idempotencyKey }),
      ...(typeof body.callback_url === "string" && { callbackUrl: body.callback_url }),
      ...(bound.failure && { failure: bound.failure }),
      ...(bound.callback && { callbackFault: bound.callback }),
      callbackAttempts: [],
      callbackDropped: false,
    };
    tasks.set(task.id, sim);
    stats.created += 1;
    if (contract.truncated.length > 0) stats.truncated += 1;
    later(stepMs, () => step(sim, 0));
    return task;
  }

  const unauthorized: SimError = { status: 401, code: "unauthorized", type: "authentication_error", message: "Invalid or missing API key." };
  const isAuthorized = (req: http.IncomingMessage) => req.headers.authorization === `Bearer ${apiKey}`;

  function answer(res: http.ServerResponse, record: SimulatorRequestRecord | undefined, status: number, body: unknown) {
    if (record) record.response = { status };
    sendJson(res, status, body);
  }

  function answerError(res: http.ServerResponse, record: SimulatorRequestRecord | undefined, err: SimError, headers: http.OutgoingHttpHeaders = {}) {
    if (record) record.response = { status: err.status, code: err.code, ...(err.param !== undefined && { param: err.param }) };
    sendError(res, err, headers);
  }

  /** Answers with a fault rule: its status and error body, or nothing at all. */
  function answerFault(req: http.IncomingMessage, res: http.ServerResponse, record: SimulatorRequestRecord, fault: HttpFault) {
    if (fault.hang) {
      record.fault = "hang";
      hanging.add(res);
      const cut = () => {
        hanging.delete(res);
        if (!res.writableEnded) res.destroy();
      };
      req.socket.once("close", () => hanging.delete(res));
      if (fault.hangMs !== undefined) later(fault.hangMs, cut);
      log(`${record.method} ${record.path}: hanging (fault)`);
      return;
    }
    const status = fault.status!;
    const defaults = HTTP_FAULT_DEFAULTS[status];
    record.fault = "status";
    const headers = status === 429 && fault.retryAfterSeconds !== null ? { "Retry-After": String(fault.retryAfterSeconds) } : {};
    log(`${record.method} ${record.path}: HTTP ${status} (fault)`);
    answerError(res, record, { status, code: fault.code ?? defaults.code, type: defaults.type, message: fault.message ?? defaults.message }, headers);
  }

  async function handleCreate(req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string) {
    if (method !== "POST") return sendError(res, { status: 405, code: "method_not_allowed", message: "Use POST." });
    const idempotencyHeader = req.headers["idempotency-key"];
    const idempotencyKey = typeof idempotencyHeader === "string" ? idempotencyHeader : undefined;
    const record: SimulatorRequestRecord = { method, path, body: undefined, at: Date.now(), ...(idempotencyKey !== undefined && { idempotencyKey }) };
    requests.push(record);
    let text: string;
    try {
      text = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        const error: SimError = { status: 413, code: "request_too_large", message: `The request body exceeds ${MAX_BODY_BYTES} bytes.` };
        refusals.push({ at: Date.now(), status: 413, code: error.code, message: error.message, body: undefined });
        stats.refused += 1;
        return answerError(res, record, error);
      }
      throw err;
    }
    let body: unknown = text;
    let isJson = true;
    try {
      body = JSON.parse(text);
    } catch {
      isJson = false;
    }
    record.body = body;

    // Faults come before authentication, as from a gateway in front of the API.
    const fault = faults.takeHttpFault("create");
    if (fault) {
      // The task may be created even though the client will not learn of it.
      if (fault.createTask && isAuthorized(req) && isJson) {
        const checked = checkGenerationRequest(body, { overlongText: opts.overlongText ?? "refuse" });
        if (checked.ok) {
          const task = createTask(body as Record<string, unknown>, checked, idempotencyKey);
          log(`task ${task.id} created behind a fault`);
        }
      }
      return answerFault(req, res, record, fault);
    }

    if (!isAuthorized(req)) return answerError(res, record, unauthorized);
    const refuse = (error: SimError) => {
      refusals.push({ at: Date.now(), status: error.status, code: error.code, ...(error.param !== undefined && { param: error.param }), message: error.message, body });
      stats.refused += 1;
      log(`create refused: ${error.message}`);
      return answerError(res, record, error);
    };
    if (!isJson) return refuse({ status: 400, code: "invalid_json", message: "The request body is not valid JSON." });
    const checked = checkGenerationRequest(body, { overlongText: opts.overlongText ?? "refuse" });
    if (!checked.ok) return refuse(checked.error);
    const task = createTask(body as Record<string, unknown>, checked, idempotencyKey);
    log(`task ${task.id} created (${checked.mode}${checked.modeDerived ? ", derived" : ""})`);
    return answer(res, record, 200, task);
  }

  function handleQuery(req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string, rawId: string) {
    const record: SimulatorRequestRecord = { method, path, body: undefined, at: Date.now() };
    requests.push(record);
    if (method !== "GET") return answerError(res, record, { status: 405, code: "method_not_allowed", message: "Use GET." });
    const fault = faults.takeHttpFault("query");
    if (fault) return answerFault(req, res, record, fault);
    if (!isAuthorized(req)) return answerError(res, record, unauthorized);
    let id: string;
    try {
      id = decodeURIComponent(rawId);
    } catch {
      id = "";
    }
    if (!TASK_ID_PATTERN.test(id)) {
      return answerError(res, record, { status: 400, code: "invalid_task_id", message: `Invalid task id; task ids look like "${TASK_ID_PREFIX}<digits>-<letters>".`, param: "task_id" });
    }
    const sim = tasks.get(id);
    if (!sim) return answerError(res, record, { status: 404, code: "task_not_found", type: "not_found_error", message: `Task ${id} was not found.` });
    return answer(res, record, 200, sim.task);
  }

  async function handleControl(req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string) {
    if (!isAuthorized(req)) return sendError(res, unauthorized);
    const route = path.slice(CONTROL_PREFIX.length);
    if (route === "faults" && method === "GET") return sendJson(res, 200, faults.list());
    if (route === "faults" && method === "POST") {
      let json: unknown;
      try {
        json = JSON.parse(await readBody(req));
      } catch {
        return sendError(res, { status: 400, code: "invalid_json", message: "The body must be JSON." });
      }
      const parsed = faultsBodySchema.safeParse(json);
      if (!parsed.success) return sendError(res, { status: 400, code: "invalid_parameters", message: describeIssues(parsed.error) });
      faults.apply(parsed.data);
      return sendJson(res, 200, faults.list());
    }
    if (route === "reset" && method === "POST") {
      reset();
      return sendJson(res, 200, { ok: true });
    }
    if (route === "requests" && method === "GET") return sendJson(res, 200, { requests, refusals, stats });
    const taskMatch = /^tasks\/([^/]+)$/.exec(route);
    if (taskMatch && method === "GET") {
      const sim = tasks.get(decodeURIComponent(taskMatch[1] ?? ""));
      if (!sim) return sendError(res, { status: 404, code: "task_not_found", type: "not_found_error", message: "No such task." });
      return sendJson(res, 200, sim);
    }
    return sendError(res, { status: 404, code: "not_found", type: "not_found_error", message: `No control route for ${method} ${path}.` });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, path: string) {
    const method = req.method ?? "GET";
    if (path === "/v1/videos/generations") return handleCreate(req, res, method, path);
    const taskMatch = /^\/v1\/tasks\/([^/]*)$/.exec(path);
    if (taskMatch) return handleQuery(req, res, method, path, taskMatch[1] ?? "");
    if (controlApi && path.startsWith(CONTROL_PREFIX)) return handleControl(req, res, method, path);

    const isRead = method === "GET" || method === "HEAD";
    if (isRead && /^\/files\/[^/]+\.mp4$/.test(path)) {
      const fault = faults.takeHttpFault("file");
      if (fault) {
        const record: SimulatorRequestRecord = { method, path, body: undefined, at: Date.now() };
        requests.push(record);
        return answerFault(req, res, record, fault);
      }
      return sendFile(req, res, SAMPLE_MP4, "video/mp4");
    }
    if (isRead && path === "/samples/first-frame.png") return sendFile(req, res, FIRST_FRAME_PNG, "image/png");
    if (isRead && path === "/health") return sendJson(res, 200, { ok: true });

    return sendError(res, { status: 404, code: "not_found", type: "not_found_error", message: `No route for ${method} ${path}.` });
  }

  function reset() {
    faults.clear();
    requests.length = 0;
    refusals.length = 0;
    stats.created = 0;
    stats.refused = 0;
    stats.truncated = 0;
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    handle(req, res, path).catch((err: unknown) => {
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
  publicUrl = (opts.publicUrl ?? url).replace(/\/+$/, "");
  log(`listening on ${url}`);

  return {
    url,
    port,
    requests,
    tasks,
    refusals,
    stats,
    faults: {
      http: (rule) => faults.http(rule),
      failTask: (rule) => faults.failTask(rule),
      callbacks: (rule) => faults.callbacks(rule),
      clear: () => faults.clear(),
      list: () => faults.list(),
    },
    getTask: (id) => tasks.get(id),
    reset,
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      shutdown.abort();
      for (const res of hanging) res.destroy();
      hanging.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still in flight (e.g. a long download) get a moment, then are cut.
        setTimeout(() => server.closeAllConnections(), 500).unref();
      });
    },
  };
}
