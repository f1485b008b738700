/**
 * The `/__sim/` control API, for browser tests that cannot reach the
 * simulator's objects: set and list fault rules, reset, and read what the
 * simulator saw (a task, the request log). Same bearer key as the provider API,
 * and only for a loopback peer: the request log holds every user's prompts and
 * callback tokens, and the simulator may listen on 0.0.0.0 (SIMULATOR_HOST)
 * for the provider API alone.
 */
import type http from "node:http";
import { isLoopbackAddress } from "../security/address.ts";
import { describeIssues, faultsBodySchema } from "./faults.ts";
import { hasBearerKey, readBody, sendError, sendJson, UNAUTHORIZED } from "./http.ts";
import { forgetTask, resetState, type SimulatorState } from "./state.ts";

export const CONTROL_PREFIX = "/__sim/";

/** True when a TCP peer address (`socket.remoteAddress`) is loopback: 127.0.0.0/8, ::1 or ::ffff:127.x.x.x. */
export function isLoopbackPeer(address: string | undefined): boolean {
  return address !== undefined && isLoopbackAddress(address);
}

/**
 * Whether a request may reach the control API at all; when not, the simulator
 * answers 404 as if the routes did not exist.
 */
export function controlApiServes(state: SimulatorState, req: http.IncomingMessage): boolean {
  return state.options.controlApi && isLoopbackPeer(req.socket.remoteAddress);
}

export async function handleControl(state: SimulatorState, req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string): Promise<void> {
  if (!hasBearerKey(req, state.options.apiKey)) return sendError(res, UNAUTHORIZED);
  const { faults, tasks } = state;
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
    for (const r of parsed.data.forget ?? []) if (r.count === undefined) forgetTask(state, r.taskId);
    return sendJson(res, 200, faults.list());
  }
  if (route === "reset" && method === "POST") {
    resetState(state);
    return sendJson(res, 200, { ok: true });
  }
  if (route === "requests" && method === "GET") return sendJson(res, 200, { requests: state.requests, refusals: state.refusals, stats: state.stats });
  const taskMatch = /^tasks\/([^/]+)$/.exec(route);
  if (taskMatch && method === "GET") {
    const sim = tasks.get(decodeURIComponent(taskMatch[1] ?? ""));
    if (!sim) return sendError(res, { status: 404, code: "task_not_found", type: "not_found_error", message: "No such task." });
    return sendJson(res, 200, sim);
  }
  return sendError(res, { status: 404, code: "not_found", type: "not_found_error", message: `No control route for ${method} ${path}.` });
}
