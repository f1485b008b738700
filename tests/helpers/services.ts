/**
 * Builds the portal's services for integration tests the same way the web
 * process does (server/services.ts), over a test database and a simulator,
 * plus a small HTTP server that serves the callback route itself
 * (server/callbacks/callbacks.ts `callbackRoute`, as the Next.js route does).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { callbackRoute } from "@/server/callbacks/callbacks.ts";
import { loadRuntimeConfig } from "@/server/config.ts";
import { createEvolinkProvider, type EvolinkProviderOptions } from "@/server/provider/evolink.ts";
import { buildServices, type Services } from "@/server/services.ts";
import { startSimulator, type Simulator } from "@/server/simulator/simulator.ts";
import { createTestDatabase } from "./db.ts";
import { serveFetch } from "./http.ts";

export const TEST_SECRET = "integration-test-secret-0123456789abcdef";

export interface TestPortal {
  services: Services;
  simulator: Simulator;
  /** Calls received by the callback receiver, with the status it answered. */
  callbacks: Array<{ path: string; status: number }>;
  close(): Promise<void>;
}

export interface TestPortalOptions {
  stepMs?: number;
  /** false: no callback_url is sent (a portal without a public https address). */
  callbacks?: boolean;
  /** Base URL the simulator puts in result links (e.g. a flaky proxy in front of it). */
  simulatorPublicUrl?: string;
  /** Extra configuration variables (see .env.example). */
  env?: Record<string, string>;
  /** The provider client's own retries (default: fast ones, so tests stay quick). */
  providerRetry?: EvolinkProviderOptions["retry"];
}

export async function startTestPortal(opts: TestPortalOptions = {}): Promise<TestPortal> {
  const database = await createTestDatabase();
  const simulator = await startSimulator({ port: 0, stepMs: opts.stepMs ?? 50, apiKey: "test-key", publicUrl: opts.simulatorPublicUrl });
  const callbacks: TestPortal["callbacks"] = [];
  const fast = { baseMs: 20, capMs: 100, deadlineMs: 3000 };
  const provider = createEvolinkProvider({
    baseUrl: simulator.url,
    apiKey: "test-key",
    retry: opts.providerRetry ?? { getTask: fast, createGeneration: fast },
  });

  // The callback route itself (server/callbacks), served as Next.js serves it.
  const receive = callbackRoute(() => ({ db: database.db, provider, serverSecret: TEST_SECRET }));
  const receiver = await serveFetch(async (req) => {
    const { pathname } = new URL(req.url);
    const answer = await receive(req, decodeURIComponent(pathname.split("/").pop() ?? ""));
    callbacks.push({ path: pathname, status: answer.status });
    return answer;
  });
  const publicBaseUrl = receiver.url;

  const config = loadRuntimeConfig({
    DATABASE_URL: database.url,
    AUTH_SECRET: TEST_SECRET,
    EVOLINK_API_KEY: "test-key",
    EVOLINK_BASE_URL: simulator.url,
    // Without the simulator flag, an http address gets no callbacks (as with the real provider).
    EVOLINK_SIMULATOR: opts.callbacks === false ? "0" : "1",
    PUBLIC_BASE_URL: publicBaseUrl,
    STORAGE_DIR: await mkdtemp(path.join(os.tmpdir(), "wan-media-")),
    ...opts.env,
  });
  const services: Services = buildServices(config, { db: database.db, provider });
  return {
    services,
    simulator,
    callbacks,
    async close() {
      await receiver.close();
      await simulator.close();
      await database.drop();
      if (config.storage.kind === "local") await rm(config.storage.dir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until `done` holds or the time runs out (then fails with the last value). */
export async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`Timed out; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await read();
  }
  return last;
}
