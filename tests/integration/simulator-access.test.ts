/**
 * Who may use the simulator: it has no default key (each data folder has its
 * own, see local-secrets.ts), and it listens on loopback unless told otherwise.
 */
import { describe, expect, it } from "vitest";
import { startSimulator } from "../../server/simulator/simulator.ts";

describe("the API key", () => {
  it("is required: the simulator refuses to start without one", async () => {
    // @ts-expect-error apiKey is a required option
    await expect(startSimulator({ port: 0 })).rejects.toThrow(/API key/);
    await expect(startSimulator({ port: 0, apiKey: "" })).rejects.toThrow(/API key/);
    await expect(startSimulator({ port: 0, apiKey: "   " })).rejects.toThrow(/API key/);
  });

  it("listens on 127.0.0.1 by default", async () => {
    const sim = await startSimulator({ port: 0, apiKey: "access-key" });
    try {
      expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
    } finally {
      await sim.close();
    }
  });
});
