/**
 * The background worker, on pg-boss (a Postgres-backed job queue): a tick
 * finds tasks due for a poll and results due for archiving and enqueues one
 * job per task; `stately` queues keyed by task id keep several web instances
 * and workers from queueing or running the same job twice. Retention
 * (server/retention/retention.ts) is a pg-boss schedule (one job per cron
 * slot whatever the number of workers) on a `singleton` queue (one run at a
 * time).
 */
import PgBoss from "pg-boss";
import type { Services } from "../services.ts";
import { archiveResult, findPendingArchives } from "../storage/archive.ts";
import { describeRetention, runRetention, type RetentionReport } from "../retention/retention.ts";
import { findDueTasks, reconcileTask, type ReconcileDeps } from "../tasks/reconcile.ts";
import { databaseGauges } from "../metrics/gauges.ts";
import { metrics, setGaugeSource } from "../metrics/metrics.ts";

export const QUEUES = { poll: "poll-task", archive: "archive-result", retention: "retention" } as const;

export interface Worker {
  /** Runs one tick now (tests and the first start use it). */
  tick(): Promise<{ polls: number; archives: number }>;
  /** Runs the retention rules now, in this process (the schedule runs them through the queue). */
  retention(): Promise<RetentionReport>;
  stop(): Promise<void>;
}

export async function startWorker(services: Services, opts: { log?: (line: string) => void; tickMs?: number } = {}): Promise<Worker> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const { config, db, storage } = services;
  const boss = new PgBoss({ connectionString: config.databaseUrl, schema: "pgboss", max: 4 });
  boss.on("error", (err) => log(`[worker] ${err instanceof Error ? err.message : String(err)}`));
  await boss.start();
  // This process's /metrics reads the shared gauges (tasks by status, queue depth) from the database.
  setGaugeSource(databaseGauges((sql) => db.$queryRawUnsafe(sql)));
  await boss.createQueue(QUEUES.poll, { name: QUEUES.poll, policy: "stately", retryLimit: 0, expireInSeconds: 120 });
  await boss.createQueue(QUEUES.archive, {
    name: QUEUES.archive,
    policy: "stately",
    retryLimit: config.worker.archiveMaxAttempts - 1,
    retryDelay: 5,
    retryBackoff: true,
    expireInSeconds: 900,
  });

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
  const archiveDeps = { db, storage, maxAttempts: config.worker.archiveMaxAttempts };

  const { schedule, ...retentionPolicy } = config.retention;
  const retention = async () => {
    const report = await runRetention({ db, storage, serverSecret: config.authSecret, now: new Date(), policy: retentionPolicy });
    log(`[worker] retention: ${describeRetention(report)}`);
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

  const tick = async () => {
    const due = await findDueTasks(db, new Date());
    for (const taskId of due) await boss.send(QUEUES.poll, { taskId }, { singletonKey: taskId });
    const archives = await findPendingArchives(db);
    for (const taskId of archives) await boss.send(QUEUES.archive, { taskId }, { singletonKey: taskId });
    return { polls: due.length, archives: archives.length };
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    tick()
      .catch((err) => log(`[worker] tick failed: ${(err as Error).message}`))
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

/** A job handler counted and timed in the metrics (portal_jobs_total, portal_job_duration_seconds). */
function counted<A extends unknown[], R>(queue: string, handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
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
  };
}
