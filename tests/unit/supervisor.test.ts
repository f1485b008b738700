import { describe, expect, it } from "vitest";
import { decideRestart, supervise, DEFAULT_RESTART_POLICY, type ExitInfo, type Running, type SuperviseDeps } from "@/server/runtime/supervisor.ts";

const policy = DEFAULT_RESTART_POLICY;

describe("decideRestart", () => {
  it("backs off 1 s, 2 s, 4 s … capped, and gives up at the 5th failure within the window", () => {
    let history = { at: [] as number[], inARow: 0 };
    const waits: number[] = [];
    let t = 0;
    for (let i = 0; i < 4; i++) {
      const d = decideRestart(policy, history, (t += 100), 0);
      if (!("restartInMs" in d)) throw new Error("gave up too early");
      waits.push(d.restartInMs);
      history = d.history;
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
    const fifth = decideRestart(policy, history, (t += 100), 0);
    expect(fifth).toMatchObject({ giveUp: "it failed 5 times within 300 s" });
    const capped = decideRestart({ ...policy, maxFailures: 100 }, { at: [], inARow: 9 }, 0, 0);
    expect(capped).toMatchObject({ restartInMs: 30_000 });
  });

  it("forgets failures older than the window, and starts over after a healthy run", () => {
    const old = { at: [0, 1, 2, 3], inARow: 4 };
    const later = decideRestart(policy, old, policy.windowMs + 10, 5);
    expect(later).toMatchObject({ restartInMs: 16_000, history: { at: [policy.windowMs + 10] } });
    const healthy = decideRestart(policy, old, 10, policy.healthyAfterMs);
    expect(healthy).toMatchObject({ restartInMs: 1000, history: { at: [10], inARow: 1 } });
  });
});

/** A fake process: `exit()` ends it as a crash would; `stop()` as the launcher would. */
function fakeProcess() {
  let end!: (e: ExitInfo) => void;
  const exited = new Promise<ExitInfo>((r) => (end = r));
  let stops = 0;
  const p: Running & { exit(e?: Partial<ExitInfo>): void; stops(): number } = {
    exited,
    exit: (e = {}) => end({ code: e.code ?? null, signal: e.signal ?? "SIGKILL" }),
    stop: async () => {
      stops += 1;
      end({ code: 0, signal: null });
    },
    stops: () => stops,
  };
  return p;
}

/** A clock that sleeping advances, and a record of every sleep and log line. */
function harness(starts: Array<() => Promise<Running>>, extra: Partial<SuperviseDeps> = {}) {
  let now = 0;
  const sleeps: number[] = [];
  const lines: string[] = [];
  const started: Running[] = [];
  let wake: (() => void) | undefined;
  const deps: SuperviseDeps = {
    name: "The web server",
    start: async () => {
      const next = starts.shift();
      if (!next) throw new Error("no more starts scripted");
      const r = await next();
      started.push(r);
      return r;
    },
    log: (l) => lines.push(l),
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      wake?.();
    },
    ...extra,
  };
  return { deps, sleeps, lines, started, advance: (ms: number) => (now += ms) };
}

const settle = async (cond: () => boolean) => {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
};

describe("supervise", () => {
  it("logs an unexpected exit and restarts the process after the back-off", async () => {
    const first = fakeProcess();
    const second = fakeProcess();
    const h = harness([async () => second]);
    const s = supervise(h.deps, first);
    h.advance(5000);
    first.exit({ signal: "SIGKILL" });
    await settle(() => s.current() === second);
    expect(h.sleeps).toEqual([1000]);
    expect(h.lines[0]).toBe("The web server exited unexpectedly (killed by SIGKILL) after 5 s.");
    expect(h.lines.at(-1)).toBe("The web server is running again.");
    await s.stop();
    expect(second.stops()).toBe(1);
  });

  it("gives up with a reason when the process cannot be started again", async () => {
    const first = fakeProcess();
    const fail = () => Promise.reject(new Error("port 3000 is in use"));
    const h = harness([fail, fail, fail, fail, fail]);
    const s = supervise(h.deps, first);
    first.exit({ code: 1, signal: null });
    const reason = await s.gaveUp;
    expect(reason).toBe("The web server could not be kept running: it failed 5 times within 300 s.");
    expect(h.sleeps).toEqual([1000, 2000, 4000, 8000]);
    expect(h.lines.filter((l) => l.includes("did not start again: port 3000 is in use"))).toHaveLength(4);
    expect(s.current()).toBeUndefined();
  });

  it("resets the back-off after the process ran healthily", async () => {
    const procs = [fakeProcess(), fakeProcess(), fakeProcess(), fakeProcess()];
    const h = harness(procs.slice(1).map((p) => async () => p));
    const s = supervise(h.deps, procs[0]!);
    procs[0]!.exit();
    await settle(() => s.current() === procs[1]);
    procs[1]!.exit(); // at once: the back-off doubles
    await settle(() => s.current() === procs[2]);
    h.advance(DEFAULT_RESTART_POLICY.healthyAfterMs);
    procs[2]!.exit(); // after a healthy minute: it starts over
    await settle(() => s.current() === procs[3]);
    expect(h.sleeps).toEqual([1000, 2000, 1000]);
    await s.stop();
  });

  it("gives up at once when a restart cannot help (the database is gone)", async () => {
    const first = fakeProcess();
    const h = harness([async () => fakeProcess()], { cannotRestart: async () => "the database does not answer." });
    const s = supervise(h.deps, first);
    first.exit();
    expect(await s.gaveUp).toBe("The web server cannot be restarted: the database does not answer.");
  });

  it("does not restart or log after stop(): that exit is expected", async () => {
    const first = fakeProcess();
    const h = harness([async () => fakeProcess()]);
    const s = supervise(h.deps, first);
    await s.stop();
    expect(first.stops()).toBe(1);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(h.lines).toEqual([]);
    expect(h.started).toEqual([]);
  });
});
