/** The database-derived gauges of server/metrics/metrics.ts: tasks by status, and pg-boss's jobs by queue and state. */
import type { GaugeSource } from "./metrics.ts";

type Query = <R>(sql: string) => Promise<R[]>;

export function databaseGauges(query: Query, queueSchema = "pgboss"): GaugeSource {
  const schema = queueSchema.replace(/[^a-z0-9_]/gi, "");
  return {
    async tasksByStatus() {
      const rows = await query<{ status: string; count: number }>(`SELECT status::text AS status, count(*)::int AS count FROM "Task" GROUP BY 1`);
      return rows.map((r) => ({ status: r.status, count: Number(r.count) }));
    },
    async queueDepth() {
      // Jobs still to do or being done (finished ones are history, kept by pg-boss for a while).
      const rows = await query<{ queue: string; state: string; count: number }>(
        `SELECT name AS queue, state::text AS state, count(*)::int AS count FROM ${schema}.job WHERE state IN ('created', 'retry', 'active') GROUP BY 1, 2`,
      );
      return rows.map((r) => ({ queue: r.queue, state: r.state, count: Number(r.count) }));
    },
  };
}
