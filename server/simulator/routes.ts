/**
 * The simulator's HTTP routes: the provider API (create, query), the result
 * and sample files, health, and the hand-off to the control API. Every
 * request the provider API gets is recorded in the request log with what it
 * was answered; fault rules are applied here, before authentication, as from a
 * gateway in front of the API.
 */
import { readFileSync } from "node:fs";
import type http from "node:http";
import { checkGenerationRequest } from "./contract.ts";
import { CONTROL_PREFIX, controlApiServes, handleControl } from "./control.ts";
import { HTTP_FAULT_DEFAULTS, type HttpFault } from "./faults.ts";
import { BodyTooLarge, hasBearerKey, MAX_BODY_BYTES, readBody, sendError, sendFile, sendJson, UNAUTHORIZED, type SimError } from "./http.ts";
import { later, type SimulatorRequestRecord, type SimulatorState } from "./state.ts";
import { createTask, TASK_ID_PATTERN, TASK_ID_PREFIX } from "./tasks.ts";

const SAMPLE_MP4 = readFileSync(new URL("./assets/sample.mp4", import.meta.url));
const FIRST_FRAME_PNG = readFileSync(new URL("./assets/first-frame.png", import.meta.url));

const isAuthorized = (state: SimulatorState, req: http.IncomingMessage) => hasBearerKey(req, state.options.apiKey);

export function answer(res: http.ServerResponse, record: SimulatorRequestRecord | undefined, status: number, body: unknown): void {
  if (record) record.response = { status };
  sendJson(res, status, body);
}

export function answerError(res: http.ServerResponse, record: SimulatorRequestRecord | undefined, err: SimError, headers: http.OutgoingHttpHeaders = {}): void {
  if (record) record.response = { status: err.status, code: err.code, ...(err.param !== undefined && { param: err.param }) };
  sendError(res, err, headers);
}

/** Answers with a fault rule: its status and error body, or nothing at all. */
export function answerFault(state: SimulatorState, req: http.IncomingMessage, res: http.ServerResponse, record: SimulatorRequestRecord, fault: HttpFault): void {
  if (fault.hang) {
    record.fault = "hang";
    state.hanging.add(res);
    const cut = () => {
      state.hanging.delete(res);
      if (!res.writableEnded) res.destroy();
    };
    req.socket.once("close", () => state.hanging.delete(res));
    if (fault.hangMs !== undefined) later(state, fault.hangMs, cut);
    state.log(`${record.method} ${record.path}: hanging (fault)`);
    return;
  }
  const status = fault.status!;
  const defaults = HTTP_FAULT_DEFAULTS[status];
  record.fault = "status";
  const headers = status === 429 && fault.retryAfterSeconds !== null ? { "Retry-After": String(fault.retryAfterSeconds) } : {};
  state.log(`${record.method} ${record.path}: HTTP ${status} (fault)`);
  answerError(res, record, { status, code: fault.code ?? defaults.code, type: defaults.type, message: fault.message ?? defaults.message }, headers);
}

/** POST /v1/videos/generations */
export async function handleCreate(state: SimulatorState, req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string): Promise<void> {
  if (method !== "POST") return sendError(res, { status: 405, code: "method_not_allowed", message: "Use POST." });
  const { refusals, stats, log } = state;
  const overlongText = state.options.overlongText;
  const idempotencyHeader = req.headers["idempotency-key"];
  const idempotencyKey = typeof idempotencyHeader === "string" ? idempotencyHeader : undefined;
  const record: SimulatorRequestRecord = { method, path, body: undefined, at: Date.now(), ...(idempotencyKey !== undefined && { idempotencyKey }) };
  state.requests.push(record);
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
  const fault = state.faults.takeHttpFault("create");
  if (fault) {
    // The task may be created even though the client will not learn of it.
    if (fault.createTask && isAuthorized(state, req) && isJson) {
      const checked = checkGenerationRequest(body, { overlongText });
      if (checked.ok) {
        const task = createTask(state, body as Record<string, unknown>, checked, idempotencyKey);
        log(`task ${task.id} created behind a fault`);
      }
    }
    return answerFault(state, req, res, record, fault);
  }

  if (!isAuthorized(state, req)) return answerError(res, record, UNAUTHORIZED);
  const refuse = (error: SimError) => {
    refusals.push({ at: Date.now(), status: error.status, code: error.code, ...(error.param !== undefined && { param: error.param }), message: error.message, body });
    stats.refused += 1;
    log(`create refused: ${error.message}`);
    return answerError(res, record, error);
  };
  if (!isJson) return refuse({ status: 400, code: "invalid_json", message: "The request body is not valid JSON." });
  const checked = checkGenerationRequest(body, { overlongText });
  if (!checked.ok) return refuse(checked.error);
  const task = createTask(state, body as Record<string, unknown>, checked, idempotencyKey);
  log(`task ${task.id} created (${checked.mode}${checked.modeDerived ? ", derived" : ""})`);
  return answer(res, record, 200, task);
}

/** GET /v1/tasks/{id} */
export function handleQuery(state: SimulatorState, req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string, rawId: string): void {
  const record: SimulatorRequestRecord = { method, path, body: undefined, at: Date.now() };
  state.requests.push(record);
  if (method !== "GET") return answerError(res, record, { status: 405, code: "method_not_allowed", message: "Use GET." });
  const fault = state.faults.takeHttpFault("query");
  if (fault) return answerFault(state, req, res, record, fault);
  if (!isAuthorized(state, req)) return answerError(res, record, UNAUTHORIZED);
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    id = "";
  }
  if (!TASK_ID_PATTERN.test(id)) {
    return answerError(res, record, { status: 400, code: "invalid_task_id", message: `Invalid task id; task ids look like "${TASK_ID_PREFIX}<digits>-<letters>".`, param: "task_id" });
  }
  const sim = state.faults.takeHidden(id) ? undefined : state.tasks.get(id);
  if (!sim) return answerError(res, record, { status: 404, code: "task_not_found", type: "not_found_error", message: `Task ${id} was not found.` });
  return answer(res, record, 200, sim.task);
}

/** Routes one request by its path (without the query string). */
export async function handle(state: SimulatorState, req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
  const method = req.method ?? "GET";
  if (path === "/v1/videos/generations") return handleCreate(state, req, res, method, path);
  const taskMatch = /^\/v1\/tasks\/([^/]*)$/.exec(path);
  if (taskMatch) return handleQuery(state, req, res, method, path, taskMatch[1] ?? "");
  if (path.startsWith(CONTROL_PREFIX) && controlApiServes(state, req)) return handleControl(state, req, res, method, path);

  const isRead = method === "GET" || method === "HEAD";
  if (isRead && /^\/files\/[^/]+\.mp4$/.test(path)) {
    const fault = state.faults.takeHttpFault("file");
    if (fault) {
      const record: SimulatorRequestRecord = { method, path, body: undefined, at: Date.now() };
      state.requests.push(record);
      return answerFault(state, req, res, record, fault);
    }
    return sendFile(req, res, SAMPLE_MP4, "video/mp4");
  }
  if (isRead && path === "/samples/first-frame.png") return sendFile(req, res, FIRST_FRAME_PNG, "image/png");
  if (isRead && path === "/health") return sendJson(res, 200, { ok: true });

  return sendError(res, { status: 404, code: "not_found", type: "not_found_error", message: `No route for ${method} ${path}.` });
}
