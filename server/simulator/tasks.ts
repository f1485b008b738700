/**
 * A simulated task's life: created pending, then one timer step at a time
 * through processing (10..90 %) to completed or failed, and then its callbacks.
 */
import { randomBytes } from "node:crypto";
import { callBack, deliver } from "./callbacks.ts";
import { SIM_MODEL_ID, type SimMode } from "./contract.ts";
import { later, persist, PROCESSING_PROGRESS, type SimTaskObject, type SimulatedTask, type SimulatorState } from "./state.ts";

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
  if (state.tasks.get(task.id) !== sim) return; // forgotten
  const progress = PROCESSING_PROGRESS[index];
  if (progress !== undefined) {
    task.status = "processing";
    task.progress = progress;
    persist(state, sim);
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
  persist(state, sim);
  state.log(`task ${task.id} ${task.status}`);
  void endCallbacks(state, sim);
}

/** The end callbacks, then a note in the store that they are done (a restart would otherwise send them again). */
async function endCallbacks(state: SimulatorState, sim: SimulatedTask): Promise<void> {
  await callBack(state, sim);
  if (state.closed) return; // cut short by close(): a restart sends them
  sim.callbacksDone = true;
  persist(state, sim);
}

/** The next step of a task read back from the store: where its timeline stopped. */
export function nextStepIndex(task: Pick<SimTaskObject, "status" | "progress">): number | undefined {
  if (task.status === "pending") return 0;
  if (task.status !== "processing") return undefined;
  const at = PROCESSING_PROGRESS.indexOf(task.progress);
  return at < 0 ? PROCESSING_PROGRESS.length : at + 1;
}

/**
 * Picks up the tasks read back from the store: running ones continue their
 * timeline one step from where it stopped; ended ones whose callbacks were not
 * all delivered send them again (the receiver must accept repeats anyway).
 */
export function resumeTasks(state: SimulatorState, stored: Iterable<Omit<SimulatedTask, "callbackAttempts">>): void {
  for (const record of stored) {
    const sim: SimulatedTask = { ...record, callbackAttempts: [] };
    state.tasks.set(sim.task.id, sim);
    const next = nextStepIndex(sim.task);
    if (next !== undefined) later(state, sim.stepMs ?? state.options.stepMs, () => step(state, sim, next));
    else if (!sim.callbacksDone && sim.callbackUrl !== undefined) void endCallbacks(state, sim);
  }
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
  persist(state, sim);
  state.stats.created += 1;
  if (contract.truncated.length > 0) state.stats.truncated += 1;
  later(state, stepMs, () => step(state, sim, 0));
  return task;
}
