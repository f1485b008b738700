/**
 * The simulator's tasks on disk, so that a restart (of `npm start`, or of the
 * simulator alone) forgets nothing the provider would remember: an
 * append-only JSONL file, one line per change of a task (its whole record) or
 * a `{"forget": id}` line. On open, the last line of each id wins; the file is
 * then rewritten (atomically: a temporary file renamed over it) without the
 * oldest finished tasks, and again whenever it has grown well past the number
 * of tasks it holds. Appends are synchronous, so a change is in the file
 * before the simulator answers or calls back (a killed process loses nothing
 * it has said).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { SimulatedTask } from "./state.ts";

/** What is kept of a task: everything but the callback attempt log. */
export type StoredTask = Omit<SimulatedTask, "callbackAttempts">;

export interface TaskStoreOptions {
  /** Finished tasks kept at most (the newest). Default 10,000. */
  maxFinished?: number;
  /** Finished tasks older than this are dropped. Default 7 days (the provider's links last 24 h). */
  maxFinishedAgeMs?: number;
  now?: () => number;
}

export interface TaskStore {
  file: string;
  /** The tasks found on disk when the store was opened (already pruned). */
  loaded: StoredTask[];
  /** Lines in the file now (a rewrite leaves one per task). */
  lines(): number;
  save(sim: SimulatedTask): void;
  forget(id: string): void;
  /** Rewrites the file with `tasks` (pruned); returns the ids it dropped. */
  compact(tasks: Iterable<SimulatedTask>): string[];
}

const FILE_NAME = "tasks.jsonl";

function toStored(sim: SimulatedTask): StoredTask {
  const { callbackAttempts: _attempts, ...rest } = sim;
  return rest;
}

/** Which tasks to keep: every running task, and the newest finished ones within the age limit. */
export function pruneTasks<T extends Pick<SimulatedTask, "task" | "endedAt">>(tasks: T[], opts: Required<TaskStoreOptions>): { kept: T[]; dropped: T[] } {
  const cutoff = opts.now() - opts.maxFinishedAgeMs;
  const finished = tasks
    .filter((t) => t.task.status === "completed" || t.task.status === "failed")
    .sort((a, b) => (b.endedAt ?? b.task.created * 1000) - (a.endedAt ?? a.task.created * 1000));
  const keepFinished = new Set(finished.filter((t) => (t.endedAt ?? t.task.created * 1000) >= cutoff).slice(0, opts.maxFinished));
  const kept: T[] = [];
  const dropped: T[] = [];
  for (const t of tasks) {
    const done = t.task.status === "completed" || t.task.status === "failed";
    (!done || keepFinished.has(t) ? kept : dropped).push(t);
  }
  return { kept, dropped };
}

/** Opens (creating when missing) the store in `dir`, reading what it holds. */
export function openTaskStore(dir: string, options: TaskStoreOptions = {}): TaskStore {
  const opts: Required<TaskStoreOptions> = {
    maxFinished: options.maxFinished ?? 10_000,
    maxFinishedAgeMs: options.maxFinishedAgeMs ?? 7 * 24 * 3600_000,
    now: options.now ?? Date.now,
  };
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, FILE_NAME);
  const byId = new Map<string, StoredTask>();
  if (existsSync(file)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (line.trim() === "") continue;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a line cut short by a crash mid-append: the earlier lines still hold
      }
      if (entry && typeof entry === "object" && "forget" in entry && typeof entry.forget === "string") byId.delete(entry.forget);
      else if (entry && typeof entry === "object" && "task" in entry && typeof (entry as StoredTask).task?.id === "string") {
        const stored = entry as StoredTask;
        byId.set(stored.task.id, stored);
      }
    }
  }
  let lines = 0;
  const rewrite = (tasks: StoredTask[]) => {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, tasks.map((t) => `${JSON.stringify(t)}\n`).join(""));
    renameSync(tmp, file);
    lines = tasks.length;
  };
  const { kept } = pruneTasks([...byId.values()], opts);
  rewrite(kept);

  const store: TaskStore = {
    file,
    loaded: kept,
    lines: () => lines,
    save(sim) {
      appendFileSync(file, `${JSON.stringify(toStored(sim))}\n`);
      lines += 1;
    },
    forget(id) {
      appendFileSync(file, `${JSON.stringify({ forget: id })}\n`);
      lines += 1;
    },
    compact(tasks) {
      const all = [...tasks];
      const { kept: keep, dropped } = pruneTasks(all, opts);
      rewrite(keep.map(toStored));
      return dropped.map((t) => t.task.id);
    },
  };
  return store;
}

/** Whether the file has grown enough past its live tasks to be worth rewriting. */
export function needsCompaction(lines: number, tasks: number): boolean {
  return lines > Math.max(10_000, tasks * 4);
}
