// npm run worker: the background worker alone (reconciler, archiver), for
// deployments that run it apart from the web processes (RUN_WORKER=0 there).
// Needs the same DATABASE_URL, EVOLINK_API_KEY and AUTH_SECRET as the web app.
import { loadRuntimeConfig } from "../server/config.ts";
import { startWorker } from "../server/jobs/worker.ts";
import { buildServices } from "../server/services.ts";
import { runUntilSignal } from "./lib/lifecycle.ts";

await runUntilSignal(async () => {
  const services = buildServices(loadRuntimeConfig());
  const worker = await startWorker(services);
  console.log("Worker running (Ctrl+C to stop).");
  return {
    async stop() {
      await worker.stop();
      await services.db.$disconnect();
    },
  };
});
