/**
 * `npm run simulator`: runs the local Evolink simulator until SIGINT/SIGTERM.
 *
 * Environment:
 *   SIMULATOR_PORT        default 4010
 *   SIMULATOR_HOST        default 127.0.0.1 (0.0.0.0 to reach it from other machines)
 *   SIMULATOR_STEP_MS     time per task state step, default 1500
 *   SIMULATOR_PUBLIC_URL  base URL put in result links, default the listening URL
 *   EVOLINK_API_KEY       the key clients must send, default "sim-local-key"
 */
import { startSimulator } from "../server/simulator/simulator.ts";

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

const apiKey = process.env.EVOLINK_API_KEY || "sim-local-key";
const sim = await startSimulator({
  port: intFromEnv("SIMULATOR_PORT", 4010),
  host: process.env.SIMULATOR_HOST || undefined,
  stepMs: intFromEnv("SIMULATOR_STEP_MS", 1500),
  publicUrl: process.env.SIMULATOR_PUBLIC_URL || undefined,
  apiKey,
  log: (msg) => console.log(`[simulator] ${msg}`),
});

// Never print a key that may be a real one.
const keySource = process.env.EVOLINK_API_KEY ? "EVOLINK_API_KEY" : `"${apiKey}" (default)`;
console.log(`Evolink simulator ready at ${sim.url} (API key: ${keySource}). Ctrl+C to stop.`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`[simulator] ${signal}: stopping`);
    sim.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
