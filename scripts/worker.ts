// npm run worker: the background worker alone (reconciler, archiver), for
// deployments that run it apart from the web processes (RUN_WORKER=0 there).
// Needs the same DATABASE_URL, EVOLINK_API_KEY and AUTH_SECRET as the web app.
// With METRICS_PORT and METRICS_TOKEN it serves its own GET /metrics.
// On SIGTERM it fetches no more jobs, lets running ones finish within
// SHUTDOWN_GRACE_SECONDS, hands back the rest (server/jobs/worker.ts), exits 0.
// First: with LOG_FORMAT=json, what the modules below print becomes log lines (server/logging/logger.ts).
import { logger, setLogService } from "../server/logging/logger.ts";
import http from "node:http";
import { loadRuntimeConfig } from "../server/config.ts";
import { startWorker } from "../server/jobs/worker.ts";
import { isMetricsRequest, serveMetrics } from "../server/metrics/http.ts";
import { buildServices } from "../server/services.ts";
import { runUntilSignal } from "./lib/lifecycle.ts";

setLogService("worker");

await runUntilSignal(async () => {
  const config = loadRuntimeConfig();
  const services = buildServices(config);
  const worker = await startWorker(services);
  let metricsServer: http.Server | null = null;
  if (config.metrics.workerPort !== undefined && config.metrics.token) {
    const token = config.metrics.token;
    metricsServer = http.createServer((req, res) => {
      if (!isMetricsRequest(req)) {
        res.writeHead(404).end();
        return;
      }
      serveMetrics(req, res, token).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    const server = metricsServer;
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(config.metrics.workerPort, config.host, () => resolve()));
    logger().info(`Worker metrics on http://${config.host}:${config.metrics.workerPort}/metrics`);
  }
  logger().info("Worker running (Ctrl+C to stop).");
  return {
    stopWithinMs: config.shutdownGraceMs + 10_000,
    async stop() {
      await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
      await worker.stop();
      await services.db.$disconnect();
    },
  };
});
