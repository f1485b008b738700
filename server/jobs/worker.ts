/**
 * The background worker, on pg-boss (a Postgres-backed job queue): a tick
 * finds tasks due for a poll and results due for archiving and enqueues one
 * job per task; `stately` queues keyed by task id keep several web instances
 * and workers from queueing or running the same job twice. Retention
 * (server/retention/retention.ts) is a pg-boss schedule (one job per cron
 * slot whatever the number of workers) on a `singleton` queue (one run at a
 * time).
 *
 * Each queue is consumed by a loop of our own (`consume`: fetch, run,
 * complete or fail, awaited) rather than pg-boss's `work()`, so a stop knows
 * exactly which jobs are in hand: on SIGTERM nothing more is fetched, the jobs
 * in hand finish within SHUTDOWN_GRACE_SECONDS, those that do not are failed
 * at once (handed back: archives retry on any worker, a poll or a client
 * callback is sent again by any worker's next tick) instead of staying active
 * until they expire, and
 * only then is the pool closed.
 */
import { createRequire } from "node:module";
import PgBoss from "pg-boss";
import type { Services } from "../services.ts";
import { archiveResult, findPendingArchives } from "../storage/archive.ts";
import { deliverClientCallback, findPendingClientCallbacks } from "../v1/client-callbacks.ts";
import { describeRetention, runRetention, type RetentionReport } from "../retention/retention.ts";
import { findDueTasks, reconcileTask, type ReconcileDeps } from "../tasks/reconcile.ts";
import { databaseGauges } from "../metrics/gauges.ts";
import { metrics, setGaugeSource } from "../metrics/metrics.ts";
import { logger, withLogContext } from "../logging/logger.ts";

export const QUEUES = { poll: "poll-task", archive: "archive-result", retention: "retention", clientCallback: "client-callback" } as const;

type JobEnding = (...args: unknown[]) => Promise<unknown>;
let jobEndingsGuarded = false;

/**
 * pg-boss 10 records a job's end (complete or fail) without awaiting it
 * (`Manager.watch`, upstream issue timgit/pg-boss#577): while PostgreSQL
 * restarts, that query fails, the rejection is unhandled, and Node ends the
 * whole process (the worker, or `npm start` with everything in it). The guard
 * logs such a failure instead; the job stays active until its expiry and then
 * runs again (every job here is safe to run twice). Callers that await
 * `complete`/`fail` still get the rejection.
 */
export function guardJobEndings(log: (line: string) => void = (l) => logger("worker").warn(l.replace(/^\[worker\] /, ""))): void {
  if (jobEndingsGuarded) return;
  jobEndingsGuarded = true;
  const manager = (createRequire(import.meta.url)("pg-boss/src/manager.js") as { prototype: Record<"complete" | "fail", JobEnding> }).prototype;
  for (const name of ["complete", "fail"] as const) {
    const original = manager[name];
    const guarded = function (this: unknown, ...args: unknown[]) {
      const ending = original.apply(this, args);
      ending.catch((err: unknown) => log(`[worker] could not record a job's ${name === "complete" ? "completion" : "failure"} (it runs again after it expires): ${(err as Error).message}`));
      return ending;
    };
    // PgBoss exposes the manager's methods under their function names (boss.complete, boss.fail).
    Object.defineProperty(guarded, "name", { value: name });
    manager[name] = guarded;
  }
}

export interface Worker {
  /** Runs one tick now (tests and the first start use it). */
  tick(): Promise<{ polls: number; archives: number; clientCallbacks: number }>;
  /** Runs the retention rules now, in this process (the schedule runs them through the queue). */
  retention(): Promise<RetentionReport>;
  /**
   * Stops fetching, lets the jobs in hand finish within `graceMs` (default
   * SHUTDOWN_GRACE_SECONDS), hands back to the queue those that did not, then
   * closes pg-boss (idempotent).
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
}

export async function startWorker(services: Services, opts: { log?: (line: string) => void; tickMs?: number } = {}): Promise<Worker> {
  // Its own lines: to `opts.log` when given (tests), else to the log as the worker's.
  const say = (level: "info" | "warn" | "error", line: string) => (opts.log ? opts.log(`[worker] ${line}`) : logger("worker")[level](line));
  // The queue loops' and the stop's lines ("[worker] …"), as warnings of the worker.
  const log = (line: string) => say("warn", line.replace(/^\[worker\] /, ""));
  const { config, db, storage } = services;
  guardJobEndings(opts.log);
  // Maintenance (every 30 s, one instance at a time) fails jobs past their expiry: the
  // only way pg-boss frees a job whose worker died (SIGKILL, OOM) mid-job. Until then
  // the `stately` queue's next job for that task cannot start, and since the fetch
  // query fails on it silently, nor can any job queued behind it: expiries are kept
  // to the longest a job can legitimately run (a poll batch, one download).
  const boss = new PgBoss({ connectionString: config.databaseUrl, schema: "pgboss", max: 4, maintenanceIntervalSeconds: 30 });
  boss.on("error", (err) => say("warn", `job queue: ${err instanceof Error ? err.message : String(err)}`));
  await boss.start();
  // This process's /metrics reads the shared gauges (tasks by status, queue depth) from the database.
  setGaugeSource(databaseGauges((sql) => db.$queryRawUnsafe(sql)));
  const queues = [
    { name: QUEUES.poll, policy: "stately" as const, retryLimit: 0, expireInSeconds: 120 },
    {
      name: QUEUES.archive,
      policy: "stately" as const,
      retryLimit: config.worker.archiveMaxAttempts - 1,
      retryDelay: 5,
      retryBackoff: true,
      expireInSeconds: config.worker.archiveTimeoutSeconds + 30,
    },
    // A /v1 task's end to its callback_url: the job does its own 3 retries (10 s each, 1/2/4 s apart).
    { name: QUEUES.clientCallback, policy: "stately" as const, retryLimit: 0, expireInSeconds: 90 },
  ];
  for (const queue of queues) {
    await boss.createQueue(queue.name, queue);
    await boss.updateQueue(queue.name, queue); // a queue made by an earlier version keeps its options otherwise
  }

  const reconcileDeps: ReconcileDeps = {
    taskDeps: services.taskDeps,
    policy: {
      pollIntervalSeconds: config.worker.pollIntervalSeconds,
      pollMaxIntervalSeconds: config.worker.pollMaxIntervalSeconds,
      taskDeadlineMinutes: config.worker.taskDeadlineMinutes,
      submitUnknownGraceMinutes: config.worker.submitUnknownGraceMinutes,
      unknownTaskConfirmations: config.worker.unknownTaskConfirmations,
    },
  };
  const archiveDeps = { db, storage, maxAttempts: config.worker.archiveMaxAttempts, timeoutMs: config.worker.archiveTimeoutSeconds * 1000 };

  const { schedule, ...retentionPolicy } = config.retention;
  const retention = async () => {
    const report = await runRetention({ db, storage, serverSecret: config.authSecret, now: new Date(), policy: retentionPolicy });
    say("info", `retention: ${describeRetention(report)}`);
    return report;
  };
  await boss.createQueue(QUEUES.retention, { name: QUEUES.retention, policy: "singleton", retryLimit: 0, expireInSeconds: 3600 });
  // Every worker sets the same schedule (the last one wins); pg-boss sends one job per slot.
  await boss.schedule(QUEUES.retention, schedule, {}, { tz: "UTC" });

  const stopping = new AbortController();
  const consumers = [
    consume<Record<string, never>>(boss, { queue: QUEUES.retention, batchSize: 1, pollMs: 30_000, log }, stopping.signal, async () => {
      await retention();
    }),
    consume<{ taskId: string }>(boss, { queue: QUEUES.poll, batchSize: 4, pollMs: 500, log }, stopping.signal, async (jobs) => {
      for (const job of jobs) await reconcileTask(reconcileDeps, job.data.taskId);
    }),
    consume<{ taskId: string }>(boss, { queue: QUEUES.archive, batchSize: 1, pollMs: 500, log }, stopping.signal, async ([job]) => {
      if (job) await archiveResult(archiveDeps, job.data.taskId);
    }),
    consume<{ taskId: string }>(boss, { queue: QUEUES.clientCallback, batchSize: 1, pollMs: 500, log }, stopping.signal, async ([job]) => {
      if (job) await deliverClientCallback(services.clientCallbacks, job.data.taskId);
    }),
  ];

  const tick = async () => {
    const due = await findDueTasks(db, new Date());
    for (const taskId of due) await boss.send(QUEUES.poll, { taskId }, { singletonKey: taskId });
    const archives = await findPendingArchives(db);
    for (const taskId of archives) await boss.send(QUEUES.archive, { taskId }, { singletonKey: taskId });
    const callbacks = await findPendingClientCallbacks(db);
    for (const taskId of callbacks) await boss.send(QUEUES.clientCallback, { taskId }, { singletonKey: taskId });
    return { polls: due.length, archives: archives.length, clientCallbacks: callbacks.length };
  };
  let ticking: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = withLogContext({ service: "worker" }, tick)
      .catch((err) => say("warn", `tick failed: ${(err as Error).message}`))
      .finally(() => {
        ticking = null;
      });
  }, opts.tickMs ?? config.worker.tickMs);

  let stopped: Promise<void> | undefined;
  return {
    tick,
    retention,
    stop: (stopOpts = {}) =>
      (stopped ??= (async () => {
        // 1. No new work: no tick, no fetch. A fetch already under way still hands its jobs over, and they run.
        clearInterval(timer);
        stopping.abort();
        await ticking;
        // 2. Jobs in hand finish within the grace period.
        const graceMs = stopOpts.graceMs ?? config.shutdownGraceMs;
        let timer2: NodeJS.Timeout | undefined;
        const inTime = await Promise.race([
          Promise.all(consumers.map((c) => c.done)).then(() => true),
          new Promise<false>((r) => (timer2 = setTimeout(() => r(false), graceMs))),
        ]);
        clearTimeout(timer2);
        // 3. What did not finish goes back to the queue as failed: the archive queue retries it on any worker,
        //    and a poll or a client callback is sent again by the next tick of any worker (every job here is safe to
        //    run twice; a client callback cut mid-delivery may reach its receiver twice, as at-least-once delivery may).
        if (!inTime) {
          for (const c of consumers) {
            const ids = c.inHand();
            if (ids.length === 0) continue;
            log(`[worker] stopping: ${ids.length} ${c.queue} job(s) did not finish within the grace period; handed back to the queue`);
            await failJobs(boss, c.queue, ids, "the worker stopped before this job finished; it runs again").catch((err: unknown) => log(`[worker] could not hand a job back (it runs again after it expires): ${(err as Error).message}`));
          }
        }
        // 4. pg-boss's own timers (maintenance, schedules) and its pool.
        await boss.stop({ graceful: true, wait: true, timeout: 1000 });
      })()),
  };
}

interface Consumer {
  queue: string;
  /** Settles once the loop has ended: after a stop, when the jobs in hand are done. */
  done: Promise<void>;
  /** The ids of the jobs being worked on now. */
  inHand(): string[];
}

/**
 * One queue's loop: fetch up to `batchSize` jobs, run the handler, record the
 * outcome (awaited, unlike pg-boss's `work()`, so a stop never closes the pool
 * under a completion), wait `pollMs` when the queue is empty. It fetches
 * nothing once `stopping` aborts; the jobs it already holds run to the end.
 * A handler that runs past the jobs' expiry is failed, as pg-boss's `work()`
 * does (its job runs again).
 */
function consume<T extends object>(
  boss: PgBoss,
  o: { queue: string; batchSize: number; pollMs: number; log: (line: string) => void },
  stopping: AbortSignal,
  handler: (jobs: PgBoss.Job<T>[]) => Promise<void>,
): Consumer {
  let held: string[] = [];
  const run = counted(o.queue, handler);
  const loop = async () => {
    while (!stopping.aborted) {
      let jobs: PgBoss.Job<T>[] = [];
      try {
        jobs = (await boss.fetch<T>(o.queue, { batchSize: o.batchSize })) ?? [];
      } catch (err) {
        o.log(`[worker] ${o.queue}: could not fetch jobs: ${(err as Error).message}`);
      }
      if (jobs.length === 0) {
        await sleepUnlessAborted(o.pollMs, stopping);
        continue;
      }
      const ids = jobs.map((j) => j.id);
      held = ids;
      const expiry = Math.max(...jobs.map((j) => j.expireInSeconds)) * 1000;
      let expired: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          run(jobs),
          new Promise<never>((_, reject) => (expired = setTimeout(() => reject(new Error(`still running after ${expiry / 1000} s (its expiry)`)), expiry))),
        ]);
        await boss.complete(o.queue, ids);
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        await failJobs(boss, o.queue, ids, message).catch((e: unknown) => o.log(`[worker] could not record a job's failure (it runs again after it expires): ${(e as Error).message}`));
      } finally {
        clearTimeout(expired);
        held = [];
      }
    }
  };
  const done = loop().catch((err: unknown) => o.log(`[worker] ${o.queue}: ${(err as Error).message}`));
  return { queue: o.queue, done, inHand: () => held };
}

/** Fails jobs with a message (pg-boss's types take data only for one id). */
async function failJobs(boss: PgBoss, queue: string, ids: string[], message: string): Promise<void> {
  await Promise.all(ids.map((id) => boss.fail(queue, id, { message })));
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * A job handler counted and timed in the metrics (portal_jobs_total,
 * portal_job_duration_seconds), its lines logged as the worker's (also when
 * the worker runs inside `npm start`'s launcher).
 */
function counted<A extends unknown[], R>(queue: string, handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args: A) => withLogContext({ service: "worker" }, () => countedRun(queue, handler, args));
}

async function countedRun<A extends unknown[], R>(queue: string, handler: (...args: A) => Promise<R>, args: A): Promise<R> {
  const m = metrics();
  const end = m.jobDuration.startTimer({ queue });
  try {
    const result = await handler(...args);
    m.jobs.inc({ queue, outcome: "ok" });
    return result;
  } catch (err) {
    m.jobs.inc({ queue, outcome: "failed" });
    throw err;
  } finally {
    end();
  }
}
