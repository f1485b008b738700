/**
 * The simulator's callbacks: POSTing the task object to the task's
 * callback_url with the provider's retries, shaped by the callback fault bound
 * to the task (drop, delay, duplicate, stale "processing" snapshots).
 */
import { describeFetchError } from "./http.ts";
import { pause, PROCESSING_PROGRESS, type CallbackAttempt, type SimTaskObject, type SimulatedTask, type SimulatorState } from "./state.ts";

/**
 * One logical callback: the first POST, then a retry after each configured
 * delay while the receiver does not answer 2xx in time. True when delivered.
 */
export async function deliver(state: SimulatorState, sim: SimulatedTask, body: SimTaskObject, kind: CallbackAttempt["kind"], copy: number): Promise<boolean> {
  const url = sim.callbackUrl;
  if (url === undefined) return false;
  const { callbackTimeoutMs, callbackRetryDelaysMs } = state.options;
  const { shutdown, log } = state;
  const payload = JSON.stringify(body);
  for (let attempt = 0; ; attempt++) {
    if (state.closed) return false;
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
      if (state.closed) return false; // aborted by close(): nothing to report
      record.error = describeFetchError(err);
    } finally {
      clearTimeout(timer);
      shutdown.signal.removeEventListener("abort", onShutdown);
    }
    const delay = callbackRetryDelaysMs[attempt];
    log(`callback ${sim.task.id} attempt ${attempt + 1} failed (${record.error ?? `HTTP ${record.status}`})${delay !== undefined ? `; retrying in ${delay} ms` : "; giving up"}`);
    if (delay === undefined) return false;
    await pause(state, delay);
  }
}

/** A copy of the task as it looked while processing (for stale callbacks). */
export function processingSnapshot(task: SimTaskObject): SimTaskObject {
  const snapshot = structuredClone(task);
  delete snapshot.results;
  delete snapshot.error;
  return { ...snapshot, status: "processing", progress: PROCESSING_PROGRESS.at(-1) ?? 90 };
}

/** The callbacks of an ended task, shaped by its callback fault. */
export async function callBack(state: SimulatorState, sim: SimulatedTask): Promise<void> {
  if (sim.callbackUrl === undefined) return;
  const fault = sim.callbackFault;
  if (fault?.drop) {
    sim.callbackDropped = true;
    state.log(`callback ${sim.task.id} dropped (fault)`);
    return;
  }
  if (fault && fault.delayMs > 0) await pause(state, fault.delayMs);
  const stale = fault?.staleProcessing;
  const final = structuredClone(sim.task);
  if (stale === "before_final" || stale === "both") await deliver(state, sim, processingSnapshot(final), "stale", 0);
  const copies = fault?.duplicate ?? 1;
  await Promise.all(Array.from({ length: copies }, (_, copy) => deliver(state, sim, final, "final", copy)));
  if (stale === "after_final" || stale === "both") await deliver(state, sim, processingSnapshot(final), "stale", 0);
}
