/**
 * Keeps one process that `npm start` runs (the web server, the embedded
 * PostgreSQL) running: an unexpected exit is logged, the process is started
 * again after a back-off (1 s, 2 s, 4 s … capped; reset once it has run
 * healthily for a while), and when it keeps failing (too many exits within a
 * window, or a start that cannot succeed) the supervisor gives up with a
 * reason, for the launcher to stop everything and exit non-zero. Plain
 * functions over their dependencies (start, clock, sleep), so tests drive it
 * without wall-clock timers. See docs/decisions/0015-supervision-and-unknown-tasks.md.
 */

export interface RestartPolicy {
  /** First wait before a restart. Default 1 s. */
  baseMs: number;
  /** Longest wait. Default 30 s. */
  capMs: number;
  /** Give up after this many unexpected exits or failed starts within `windowMs`. Default 5. */
  maxFailures: number;
  windowMs: number;
  /** A process that ran this long was healthy: the back-off starts over. Default 60 s. */
  healthyAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  baseMs: 1000,
  capMs: 30_000,
  maxFailures: 5,
  windowMs: 5 * 60_000,
  healthyAfterMs: 60_000,
};

/** What the supervisor remembers between failures. */
export interface FailureHistory {
  /** When each recent failure happened (ms), oldest first. */
  at: number[];
  /** Failures since the process last ran healthily (drives the back-off). */
  inARow: number;
}

export type RestartDecision = { restartInMs: number; history: FailureHistory } | { giveUp: string; history: FailureHistory };

/**
 * The decision after a failure at `now` of a process that had run for
 * `ranForMs` (0 when it could not start): wait and restart, or give up.
 */
export function decideRestart(policy: RestartPolicy, history: FailureHistory, now: number, ranForMs: number): RestartDecision {
  const healthy = ranForMs >= policy.healthyAfterMs;
  const at = [...(healthy ? [] : history.at.filter((t) => now - t < policy.windowMs)), now];
  const inARow = healthy ? 1 : history.inARow + 1;
  const next = { at, inARow };
  if (at.length >= policy.maxFailures) {
    return { giveUp: `it failed ${at.length} times within ${Math.round(policy.windowMs / 1000)} s`, history: next };
  }
  return { restartInMs: Math.min(policy.capMs, policy.baseMs * 2 ** (inARow - 1)), history: next };
}

/** How a supervised process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function describeExit(exit: ExitInfo): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code ?? "unknown"}`;
}

/** A started process, as the supervisor sees it. */
export interface Running {
  /** Settles once when the process ends, however it ends. */
  exited: Promise<ExitInfo>;
  /** Stops it (idempotent); resolves once it has ended. */
  stop(): Promise<void>;
}

export interface SuperviseDeps {
  /** For messages: "The web server". */
  name: string;
  /** Starts the process and resolves once it is ready (rejects when it cannot start). */
  start: () => Promise<Running>;
  log: (line: string) => void;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  policy?: Partial<RestartPolicy>;
  /** Asked before each restart: a reason when a restart cannot help (e.g. the database is gone). */
  cannotRestart?: () => Promise<string | null>;
}

export interface Supervised {
  /** The process running now, if any. */
  current(): Running | undefined;
  /** Resolves with the reason when the supervisor gave up (the process is then not running). Never rejects. */
  gaveUp: Promise<string>;
  /** Stops supervising and stops the process; exits from now on are expected. */
  stop(): Promise<void>;
}

/** Supervises `first` (already started and ready) until stopped or given up. */
export function supervise(deps: SuperviseDeps, first: Running): Supervised {
  const policy = { ...DEFAULT_RESTART_POLICY, ...deps.policy };
  const stopping = new AbortController();
  let current: Running | undefined = first;
  let resolveGaveUp!: (reason: string) => void;
  const gaveUp = new Promise<string>((r) => (resolveGaveUp = r));

  const loop = async () => {
    let history: FailureHistory = { at: [], inARow: 0 };
    let running: Running = first;
    let startedAt = deps.now();
    for (;;) {
      const exit = await Promise.race([running.exited, new Promise<null>((r) => stopping.signal.addEventListener("abort", () => r(null), { once: true }))]);
      if (exit === null || stopping.signal.aborted) return;
      current = undefined;
      const ranForMs = deps.now() - startedAt;
      deps.log(`${deps.name} exited unexpectedly (${describeExit(exit)}) after ${Math.round(ranForMs / 1000)} s.`);
      let ranFor = ranForMs;
      // Restart, counting each start that fails as one more failure.
      for (;;) {
        const decision = decideRestart(policy, history, deps.now(), ranFor);
        history = decision.history;
        if ("giveUp" in decision) return resolveGaveUp(`${deps.name} could not be kept running: ${decision.giveUp}.`);
        deps.log(`${deps.name}: restarting in ${decision.restartInMs / 1000} s (failure ${history.at.length}; the launcher gives up at ${policy.maxFailures} within ${Math.round(policy.windowMs / 1000)} s).`);
        await deps.sleep(decision.restartInMs, stopping.signal).catch(() => undefined);
        if (stopping.signal.aborted) return;
        const blocked = await (deps.cannotRestart?.() ?? Promise.resolve(null)).catch((err: unknown) => String(err));
        if (blocked) return resolveGaveUp(`${deps.name} cannot be restarted: ${blocked}`);
        try {
          running = await deps.start();
        } catch (err) {
          deps.log(`${deps.name} did not start again: ${err instanceof Error ? err.message : String(err)}`);
          ranFor = 0;
          continue;
        }
        if (stopping.signal.aborted) {
          await running.stop();
          return;
        }
        current = running;
        startedAt = deps.now();
        deps.log(`${deps.name} is running again.`);
        break;
      }
    }
  };
  const done = loop().catch((err: unknown) => resolveGaveUp(`${deps.name}: supervision failed: ${err instanceof Error ? err.message : String(err)}`));

  return {
    current: () => current,
    gaveUp,
    async stop() {
      stopping.abort();
      await done;
      await current?.stop();
      current = undefined;
    },
  };
}

/** The real clock's sleep, cut short (rejected) when `signal` aborts. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("aborted"));
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new Error("aborted"));
      },
      { once: true },
    );
  });
}
