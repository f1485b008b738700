// npm run worker: the background worker alone (reconciler, archiver), for
// deployments that run it apart from the web processes. Needs the same
// DATABASE_URL, EVOLINK_API_KEY and AUTH_SECRET as the web app.
import { loadRuntimeConfig } from "../server/config.ts";
import { startWorker } from "../server/jobs/worker.ts";
import { buildServices } from "../server/services.ts";

try {
  const services = buildServices(loadRuntimeConfig());
  const worker = await startWorker(services);
  console.log("Worker running (Ctrl+C to stop).");
  const shutdown = async () => {
    await worker.stop();
    await services.db.$disconnect();
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
