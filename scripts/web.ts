// npm run web: the web process alone (the portal's own server in front of the
// production build; see server/http/web-server.ts). `npm start` runs it for
// you; deployments run it with DATABASE_URL, EVOLINK_API_KEY and AUTH_SECRET set.
// First: with LOG_FORMAT=json, what the modules below print becomes log lines (server/logging/logger.ts).
import { logger, setLogService } from "../server/logging/logger.ts";
import { loadRuntimeConfig } from "../server/config.ts";
import { startWebServer } from "../server/http/web-server.ts";
import { createDb } from "../server/db/client.ts";
import { databaseGauges } from "../server/metrics/gauges.ts";
import { setGaugeSource } from "../server/metrics/metrics.ts";
import { runUntilSignal } from "./lib/lifecycle.ts";

setLogService("web");

await runUntilSignal(async () => {
  const config = loadRuntimeConfig();
  // The gauges of shared state (tasks by status, queue depth) come from the database at scrape time.
  const metricsDb = config.metrics.token ? createDb(config.databaseUrl) : null;
  if (metricsDb) setGaugeSource(databaseGauges((sql) => metricsDb.$queryRawUnsafe(sql)));
  const server = await startWebServer({
    dir: process.cwd(),
    host: config.host,
    port: config.port,
    publicBaseUrl: config.publicBaseUrl,
    trustedProxies: config.trustedProxies,
    // Pages play the simulator's sample results straight from it until they are archived.
    mediaOrigins: config.provider.simulator ? [new URL(config.provider.baseUrl).origin] : [],
    formOrigins: config.sso ? [new URL(config.sso.issuer).origin] : [],
    metricsToken: config.metrics.token,
    graceMs: config.shutdownGraceMs,
  });
  logger().info({ url: server.url }, `Web server listening on ${server.url}`);
  return {
    stopWithinMs: config.shutdownGraceMs + 10_000,
    async stop() {
      await server.close();
      await metricsDb?.$disconnect();
    },
  };
});
