/**
 * Builds the portal's services for integration tests the same way the web
 * process does (server/services.ts), over a test database and a simulator,
 * plus a small HTTP server that receives callbacks through the same domain
 * function as the Next.js route handler.
 */
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { handleProviderCallback } from "@/server/callbacks/callbacks.ts";
import { loadRuntimeConfig } from "@/server/config.ts";
import { AppError, httpStatusOf } from "@/server/errors.ts";
import { createEvolinkProvider, type EvolinkProviderOptions } from "@/server/provider/evolink.ts";
import { buildServices, type Services } from "@/server/services.ts";
import { startSimulator, type Simulator } from "@/server/simulator/simulator.ts";
import { createTestDatabase } from "./db.ts";

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

  const receiver = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? "/", "http://localhost");
    const taskId = decodeURIComponent(url.pathname.split("/").pop() ?? "");
    let status = 200;
    try {
      await handleProviderCallback(
        { db: database.db, provider, serverSecret: TEST_SECRET },
        { taskId, token: url.searchParams.get("token"), rawBody: Buffer.concat(chunks).toString("utf8") },
      );
    } catch (err) {
      status = err instanceof AppError ? httpStatusOf[err.code] : 500;
    }
    callbacks.push({ path: url.pathname, status });
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const publicBaseUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

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
      receiver.closeAllConnections();
      await new Promise<void>((r) => receiver.close(() => r()));
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
