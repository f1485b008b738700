/**
 * `npm run simulator`: runs the local Evolink simulator until SIGINT/SIGTERM.
 *
 * Environment:
 *   SIMULATOR_PORT        default 4010
 *   SIMULATOR_HOST        default 127.0.0.1 (0.0.0.0 to reach it from other machines)
 *   SIMULATOR_STEP_MS     time per task state step, default 1500
 *   SIMULATOR_PUBLIC_URL  base URL put in result links, default the listening URL
 *   EVOLINK_API_KEY       the key clients must send; default the data folder's own
 *                         key, "simulatorKey" in <DATA_DIR>/local-secrets.json
 *                         (made on first use, as `npm start` does; never printed)
 *   DATA_DIR              the data folder, default .data (tasks are kept in
 *                         <DATA_DIR>/simulator across restarts, as the provider keeps them)
 *   SIMULATOR_CALLBACK_RETRY_DELAYS_MS  comma-separated waits before callback retries, default 1000,2000,4000
 *   SIMULATOR_CALLBACK_TIMEOUT_MS       time a callback receiver has to answer 2xx, default 10000
 *   SIMULATOR_PROGRESS_CALLBACKS        "1" to also call back at each progress step (the provider does not)
 *   SIMULATOR_OVERLONG_TEXT             "refuse" (default) or "truncate" (as the provider) for over-long prompts
 *   LOG_FORMAT, LOG_LEVEL               as the portal's (server/logging/logger.ts)
 *
 * Faults for browser tests: POST /__sim/faults, POST /__sim/reset (same key,
 * and only from this machine: the control API answers loopback peers only);
 * see server/simulator/simulator.ts.
 */
// First: with LOG_FORMAT=json, what the modules below print becomes log lines (server/logging/logger.ts).
import { logger, setLogService } from "../server/logging/logger.ts";
import path from "node:path";
import { loadOrCreateLocalSecrets, localSecretsFile } from "../server/local-secrets.ts";
import { startSimulator } from "../server/simulator/simulator.ts";

setLogService("simulator");

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${name} must be a non-negative integer, got "${raw}".`);
    process.exit(1);
  }
  return value;
}

function intListFromEnv(name: string): number[] | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const values = raw.split(",").map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 0)) {
    console.error(`${name} must be a comma-separated list of non-negative integers, got "${raw}".`);
    process.exit(1);
  }
  return values;
}

const overlongText = process.env.SIMULATOR_OVERLONG_TEXT || "refuse";
if (overlongText !== "refuse" && overlongText !== "truncate") {
  console.error(`SIMULATOR_OVERLONG_TEXT must be "refuse" or "truncate", got "${overlongText}".`);
  process.exit(1);
}

const dataDir = path.resolve(process.env.DATA_DIR || ".data");
const apiKey = process.env.EVOLINK_API_KEY || (await loadOrCreateLocalSecrets(dataDir)).simulatorKey;
const sim = await startSimulator({
  port: intFromEnv("SIMULATOR_PORT", 4010),
  host: process.env.SIMULATOR_HOST || undefined,
  stepMs: intFromEnv("SIMULATOR_STEP_MS", 1500),
  publicUrl: process.env.SIMULATOR_PUBLIC_URL || undefined,
  apiKey,
  callbackRetryDelaysMs: intListFromEnv("SIMULATOR_CALLBACK_RETRY_DELAYS_MS"),
  callbackTimeoutMs: intFromEnv("SIMULATOR_CALLBACK_TIMEOUT_MS", 10_000),
  progressCallbacks: process.env.SIMULATOR_PROGRESS_CALLBACKS === "1",
  overlongText,
  dataDir: path.join(dataDir, "simulator"),
  log: (msg) => logger().info(msg),
});

// Never print the key: say where it is kept.
const keySource = process.env.EVOLINK_API_KEY ? "from EVOLINK_API_KEY" : `"simulatorKey" in ${localSecretsFile(dataDir)}`;
logger().info(`Evolink simulator ready at ${sim.url} (API key: ${keySource}). Ctrl+C to stop.`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger().info(`${signal}: stopping`);
    sim.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger().error({ err }, "stopping failed");
        process.exit(1);
      },
    );
  });
}
