/**
 * The background worker, on pg-boss (a Postgres-backed job queue): a tick
 * finds tasks due for a poll and results due for archiving and enqueues one
 * job per task; `stately` queues keyed by task id keep several web instances
 * and workers from queueing or running the same job twice. Retention
 * (server/retention/retention.ts) is a pg-boss schedule (one job per cron
 * slot whatever the number of workers) on a `singleton` queue (one run at a
 * time).
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
    manager[name] = function (this: unknown, ...args: unknown[]) {
      const ending = original.apply(this, args);
      ending.catch((err: unknown) => log(`[worker] could not record a job's ${name === "complete" ? "completion" : "failure"} (it runs again after it expires): ${(err as Error).message}`));
      return ending;
    };
  }
}

export interface Worker {
  /** Runs one tick now (tests and the first start use it). */
  tick(): Promise<{ polls: number; archives: number; clientCallbacks: number }>;
  /** Runs the retention rules now, in this process (the schedule runs them through the queue). */
  retention(): Promise<RetentionReport>;
  stop(): Promise<void>;
}

export async function startWorker(services: Services, opts: { log?: (line: string) => void; tickMs?: number } = {}): Promise<Worker> {
  // Its own lines: to `opts.log` when given (tests), else to the log as the worker's.
  const say = (level: "info" | "warn" | "error", line: string) => (opts.log ? opts.log(`[worker] ${line}`) : logger("worker")[level](line));
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
  await boss.work(
    QUEUES.retention,
    { batchSize: 1, pollingIntervalSeconds: 30 },
    counted(QUEUES.retention, async () => {
      await retention();
    }),
  );
  // Every worker sets the same schedule (the last one wins); pg-boss sends one job per slot.
  await boss.schedule(QUEUES.retention, schedule, {}, { tz: "UTC" });

  await boss.work<{ taskId: string }>(
    QUEUES.poll,
    { batchSize: 4, pollingIntervalSeconds: 0.5 },
    counted(QUEUES.poll, async (jobs) => {
      for (const job of jobs) await reconcileTask(reconcileDeps, job.data.taskId);
    }),
  );
  await boss.work<{ taskId: string }>(
    QUEUES.archive,
    { batchSize: 1, pollingIntervalSeconds: 0.5 },
    counted(QUEUES.archive, async ([job]) => {
      if (job) await archiveResult(archiveDeps, job.data.taskId);
    }),
  );

  await boss.work<{ taskId: string }>(
    QUEUES.clientCallback,
    { batchSize: 1, pollingIntervalSeconds: 0.5 },
    counted(QUEUES.clientCallback, async ([job]) => {
      if (job) await deliverClientCallback(services.clientCallbacks, job.data.taskId);
    }),
  );

  const tick = async () => {
    const due = await findDueTasks(db, new Date());
    for (const taskId of due) await boss.send(QUEUES.poll, { taskId }, { singletonKey: taskId });
    const archives = await findPendingArchives(db);
    for (const taskId of archives) await boss.send(QUEUES.archive, { taskId }, { singletonKey: taskId });
    const callbacks = await findPendingClientCallbacks(db);
    for (const taskId of callbacks) await boss.send(QUEUES.clientCallback, { taskId }, { singletonKey: taskId });
    return { polls: due.length, archives: archives.length, clientCallbacks: callbacks.length };
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    withLogContext({ service: "worker" }, tick)
      .catch((err) => say("warn", `tick failed: ${(err as Error).message}`))
      .finally(() => {
        running = false;
      });
  }, opts.tickMs ?? config.worker.tickMs);

  return {
    tick,
    retention,
    async stop() {
      clearInterval(timer);
      await boss.stop({ graceful: true, timeout: 10_000, wait: true });
    },
  };
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
