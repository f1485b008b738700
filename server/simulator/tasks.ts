/**
 * A simulated task's life: created pending, then one timer step at a time
 * through processing (10..90 %) to completed or failed, and then its callbacks.
 */
import { randomBytes } from "node:crypto";
import { callBack, deliver } from "./callbacks.ts";
import { SIM_MODEL_ID, type SimMode } from "./contract.ts";
import { later, PROCESSING_PROGRESS, type SimTaskObject, type SimulatedTask, type SimulatorState } from "./state.ts";

export const TASK_ID_PREFIX = "task-unified-";
export const TASK_ID_PATTERN = /^task-unified-\d+-[a-z0-9]+$/;
const DEFAULT_DURATION = 5;

function newTaskId(nowSeconds: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const suffix = Array.from(randomBytes(8), (b) => alphabet[b % alphabet.length]).join("");
  return `${TASK_ID_PREFIX}${nowSeconds}-${suffix}`;
}

/** Advances a task one step: pending -> processing(10..90) -> completed | failed. */
export function step(state: SimulatorState, sim: SimulatedTask, index: number): void {
  const { task } = sim;
  const progress = PROCESSING_PROGRESS[index];
  if (progress !== undefined) {
    task.status = "processing";
    task.progress = progress;
    if (state.options.progressCallbacks) void deliver(state, sim, structuredClone(task), "progress", 0);
    later(state, sim.stepMs ?? state.options.stepMs, () => step(state, sim, index + 1));
    return;
  }
  if (sim.failure) {
    task.status = "failed";
    task.error = { code: sim.failure.code, message: sim.failure.message, type: "task_error" };
  } else {
    task.status = "completed";
    task.progress = 100;
    task.results = [`${state.publicUrl}/files/${task.id}.mp4`];
  }
  sim.endedAt = Date.now();
  state.log(`task ${task.id} ${task.status}`);
  void callBack(state, sim);
}

/** Records a new pending task (binding the fault rules that pick it) and starts its timeline. */
export function createTask(
  state: SimulatorState,
  body: Record<string, unknown>,
  contract: { mode: SimMode; modeDerived: boolean; truncated: string[] },
  idempotencyKey?: string,
): SimTaskObject {
  const bound = state.faults.bindTask(String(body.prompt ?? ""));
  const stepMs = bound.stepMs ?? state.options.stepMs;
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
    ...(bound.stepMs !== undefined && { stepMs: bound.stepMs }),
    callbackAttempts: [],
    callbackDropped: false,
  };
  state.tasks.set(task.id, sim);
  state.stats.created += 1;
  if (contract.truncated.length > 0) state.stats.truncated += 1;
  later(state, stepMs, () => step(state, sim, 0));
  return task;
}
