/**
 * A local stand-in for Evolink's HTTP API (see /work/shared/evolink/API-NOTES.md),
 * so the portal can be developed and tested without a paid key: same endpoints,
 * same task object, same error bodies, same callback behaviour. Tasks walk
 * pending -> processing -> completed (or failed when the prompt contains
 * "[sim:fail]") on timers, and results point at a real small MP4 it serves.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { MODEL_ID } from "../provider/types.ts";

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

export interface SimulatedTask {
  /** Mutated in place as the task progresses; the current state is what GET answers. */
  task: SimTaskObject;
  request: Record<string, unknown>;
  callbackUrl?: string;
  /** One entry per callback POST attempt. */
  callbackAttempts: Array<{ at: number; status?: number; error?: string }>;
}

export interface SimulatorRequestRecord {
  method: string;
  path: string;
  body: unknown;
  at: number;
}

export interface Simulator {
  url: string;
  port: number;
  close(): Promise<void>;
  requests: SimulatorRequestRecord[];
  tasks: Map<string, SimulatedTask>;
}

/** An HTTP error answered with the provider's error body. */
export interface SimError {
  status: number;
  code: string;
  message: string;
  type?: string;
  param?: string;
}

export const FAIL_MARKER = "[sim:fail]";
const TASK_ID_PREFIX = "task-unified-";
const DEFAULT_DURATION = 5;
const MAX_BODY_BYTES = 1024 * 1024;
const CALLBACK_TIMEOUT_MS = 10_000;
/** The provider retries a failed callback 3 times, after 1, 2 and 4 seconds. */
const CALLBACK_RETRY_DELAYS_MS = [1000, 2000, 4000];
/** Progress reported at each processing step; one more step then ends the task. */
const PROCESSING_PROGRESS = [10, 40, 70, 90];

const SAMPLE_MP4 = readFileSync(new URL("./assets/sample.mp4", import.meta.url));
const FIRST_FRAME_PNG = readFileSync(new URL("./assets/first-frame.png", import.meta.url));

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === "string" && v.trim() !== "";

/**
 * Checks a create request body. Returns the error to answer, or null when the
 * request is accepted. Only the basics for now; full contract enforcement
 * (modes, limits) grows here.
 */
export function validateGenerationRequest(body: unknown): SimError | null {
  const invalid = (message: string, param?: string): SimError => ({
    status: 400,
    code: "invalid_parameters",
    type: "invalid_request_error",
    message,
    ...(param !== undefined && { param }),
  });
  if (!isObject(body)) return invalid("The request body must be a JSON object.");
  if (body.model !== MODEL_ID) return invalid(`model must be "${MODEL_ID}".`, "model");
  if (!isNonEmptyString(body.prompt)) return invalid("prompt must be a non-empty string.", "prompt");
  const hasImageStart = isNonEmptyString(body.image_start);
  const hasVideo = Array.isArray(body.video_urls) && body.video_urls.length > 0;
  if (!hasImageStart && !hasVideo) {
    return invalid("Either image_start or video_urls is required.", "image_start");
  }
  // The real provider demands HTTPS and public addresses; the simulator has
  // to accept http://localhost so local receivers and tests can use it.
  if (body.callback_url !== undefined && !isHttpUrl(body.callback_url)) {
    return invalid("callback_url must be an http(s) URL.", "callback_url");
  }
  return null;
}

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== "string") return false;
  try {
    const { protocol } = new URL(v);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

function newTaskId(nowSeconds: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const suffix = Array.from(randomBytes(8), (b) => alphabet[b % alphabet.length]).join("");
  return `${TASK_ID_PREFIX}${nowSeconds}-${suffix}`;
}

/** Parses a single `bytes=` range; null = unsatisfiable, undefined = ignore the header. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // multiple or malformed ranges: serving the whole file is allowed
  const [, from = "", to = ""] = m;
  if (from === "" && to === "") return undefined;
  if (from === "") {
    const suffix = Number(to);
    if (suffix === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  const end = to === "" ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

function sendError(res: http.ServerResponse, err: SimError) {
  sendJson(res, err.status, {
    error: { code: err.code, message: err.message, type: err.type ?? "invalid_request_error", ...(err.param !== undefined && { param: err.param }) },
  });
}

/** Serves an in-memory file, honouring a single Range (what <video> needs). */
function sendFile(req: http.IncomingMessage, res: http.ServerResponse, data: Buffer, contentType: string) {
  const size = data.length;
  const range = parseRange(req.headers.range, size);
  const common = { "Content-Type": contentType, "Accept-Ranges": "bytes", "Cache-Control": "no-cache" };
  if (range === null) {
    res.writeHead(416, { ...common, "Content-Range": `bytes */${size}` });
    res.end();
  } else if (range === undefined) {
    res.writeHead(200, { ...common, "Content-Length": size });
    res.end(data); // Node drops the body itself for HEAD
  } else {
    res.writeHead(206, { ...common, "Content-Length": range.end - range.start + 1, "Content-Range": `bytes ${range.start}-${range.end}/${size}` });
    res.end(data.subarray(range.start, range.end + 1));
  }
}

class BodyTooLarge extends Error {}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** undici says only "fetch failed"; the reason (ECONNREFUSED, timeout...) is in `cause`. */
function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return [err.message, typeof code === "string" ? code : cause?.message].filter(Boolean).join(": ");
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

  const requests: SimulatorRequestRecord[] = [];
  const tasks = new Map<string, SimulatedTask>();
  const timers = new Set<NodeJS.Timeout>();
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

  async function deliverCallback(sim: SimulatedTask, attempt: number): Promise<void> {
    const url = sim.callbackUrl;
    if (url === undefined || closed) return;
    const record: SimulatedTask["callbackAttempts"][number] = { at: Date.now() };
    sim.callbackAttempts.push(record);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(sim.task),
        signal: AbortSignal.any([AbortSignal.timeout(CALLBACK_TIMEOUT_MS), shutdown.signal]),
      });
      await res.body?.cancel();
      record.status = res.status;
      if (res.ok) {
        log(`callback ${sim.task.id} -> ${res.status}`);
        return;
      }
    } catch (err) {
      if (closed) return; // aborted by close(): nothing to report
      record.error = describeFetchError(err);
    }
    const delay = CALLBACK_RETRY_DELAYS_MS[attempt];
    log(`callback ${sim.task.id} attempt ${attempt + 1} failed (${record.error ?? `HTTP ${record.status}`})${delay !== undefined ? `; retrying in ${delay} ms` : "; giving up"}`);
    if (delay !== undefined) later(delay, () => void deliverCallback(sim, attempt + 1));
  }

  /** Advances a task one step: pending -> processing(10..90) -> completed | failed. */
  function step(sim: SimulatedTask, index: number) {
    const { task } = sim;
    const progress = PROCESSING_PROGRESS[index];
    if (progress !== undefined) {
      task.status = "processing";
      task.progress = progress;
      later(stepMs, () => step(sim, index + 1));
      return;
    }
    if (String(sim.request.prompt).includes(FAIL_MARKER)) {
      task.status = "failed";
      task.error = {
        code: "content_policy_violation",
        message: `The simulator failed this task because its prompt contains "${FAIL_MARKER}".`,
        type: "task_error",
      };
    } else {
      task.status = "completed";
      task.progress = 100;
      task.results = [`${publicUrl}/files/${task.id}.mp4`];
    }
    log(`task ${task.id} ${task.status}`);
    void deliverCallback(sim, 0);
  }

  function createTask(body: Record<string, unknown>): SimTaskObject {
    const created = Math.floor(Date.now() / 1000);
    const duration = typeof body.duration === "number" && Number.isInteger(body.duration) ? body.duration : DEFAULT_DURATION;
    const task: SimTaskObject = {
      created,
      id: newTaskId(created),
      model: MODEL_ID,
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
    const sim: SimulatedTask = {
      task,
      request: body,
      ...(typeof body.callback_url === "string" && { callbackUrl: body.callback_url }),
      callbackAttempts: [],
    };
    tasks.set(task.id, sim);
    later(stepMs, () => step(sim, 0));
    return task;
  }

  const unauthorized: SimError = {
    status: 401,
    code: "unauthorized",
    type: "authentication_error",
    message: "Invalid or missing API key.",
  };
  const isAuthorized = (req: http.IncomingMessage) => req.headers.authorization === `Bearer ${apiKey}`;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, path: string) {
    const method = req.method ?? "GET";

    if (path === "/v1/videos/generations") {
      if (method !== "POST") return sendError(res, { status: 405, code: "method_not_allowed", message: "Use POST." });
      let text: string;
      try {
        text = await readBody(req);
      } catch (err) {
        if (err instanceof BodyTooLarge) return sendError(res, { status: 413, code: "request_too_large", message: `The request body exceeds ${MAX_BODY_BYTES} bytes.` });
        throw err;
      }
      let body: unknown = text;
      let isJson = true;
      try {
        body = JSON.parse(text);
      } catch {
        isJson = false;
      }
      requests.push({ method, path, body, at: Date.now() });
      if (!isAuthorized(req)) return sendError(res, unauthorized);
      if (!isJson) return sendError(res, { status: 400, code: "invalid_json", message: "The request body is not valid JSON." });
      const invalid = validateGenerationRequest(body);
      if (invalid) return sendError(res, invalid);
      const task = createTask(body as Record<string, unknown>);
      log(`task ${task.id} created`);
      return sendJson(res, 200, task);
    }

    requests.push({ method, path, body: undefined, at: Date.now() });

    const taskMatch = /^\/v1\/tasks\/([^/]*)$/.exec(path);
    if (taskMatch) {
      if (method !== "GET") return sendError(res, { status: 405, code: "method_not_allowed", message: "Use GET." });
      if (!isAuthorized(req)) return sendError(res, unauthorized);
      let id: string;
      try {
        id = decodeURIComponent(taskMatch[1] ?? "");
      } catch {
        id = "";
      }
      if (!id.startsWith(TASK_ID_PREFIX)) {
        return sendError(res, { status: 400, code: "invalid_task_id", message: `Task ids start with "${TASK_ID_PREFIX}".`, param: "task_id" });
      }
      const sim = tasks.get(id);
      if (!sim) return sendError(res, { status: 404, code: "task_not_found", type: "not_found_error", message: `Task ${id} was not found.` });
      return sendJson(res, 200, sim.task);
    }

    const isRead = method === "GET" || method === "HEAD";
    if (isRead && /^\/files\/[^/]+\.mp4$/.test(path)) return sendFile(req, res, SAMPLE_MP4, "video/mp4");
    if (isRead && path === "/samples/first-frame.png") return sendFile(req, res, FIRST_FRAME_PNG, "image/png");
    if (isRead && path === "/health") return sendJson(res, 200, { ok: true });

    return sendError(res, { status: 404, code: "not_found", type: "not_found_error", message: `No route for ${method} ${path}.` });
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
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      shutdown.abort();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still in flight (e.g. a long download) get a moment, then are cut.
        setTimeout(() => server.closeAllConnections(), 500).unref();
      });
    },
  };
}
