/**
 * Resilience under load (issue 11): real processes (PostgreSQL, the simulator,
 * the production web process, the worker), ten concurrent clients submitting
 * through tasks.create with a signed-in member's session, and one fault per
 * scenario. After each, every task of the scenario's member ends, none is lost
 * or billed twice, and the books agree (tests/faults/invariants.ts).
 *
 * The simulator is never restarted here: it keeps its tasks in memory, and
 * the tasks it forgot would only end at the deadline.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATA_DIR, submitLoad, World } from "./harness.ts";
import { checkBooks, waitUntilSettled } from "./invariants.ts";
import { sleep, waitFor } from "./processes.ts";

const CLIENTS = 10;
const world = new World();

beforeAll(async () => {
  await world.start();
});

afterAll(async () => {
  await world.close();
});

/** No process of the product died on its own (the suite's own kills are not counted). */
function expectNoUnexpectedExits() {
  for (const p of [world.simulator, world.web, world.worker]) expect(p.unexpectedExits, `${p.name} exited on its own`).toEqual([]);
  for (const p of [world.simulator, world.web, world.worker]) expect(p.running, `${p.name} is running`).toBe(true);
}

describe("resilience under load", () => {
  it("the web process killed (SIGKILL) mid-submit and restarted: clients retry with the same key", async () => {
    const member = await world.member();
    // Slower tasks: those whose create answer died with the web process end
    // after it is back, so their callbacks (which name the portal's task) land.
    await world.faults({ pace: { marker: "[s1]", stepMs: 1500 } });
    let restart: Promise<void> | undefined;
    const submissions = await submitLoad(world.baseUrl, member, {
      clients: CLIENTS,
      perClient: 6,
      prompt: (c, n) => `[s1] client ${c}, video ${n}`,
      onAnswer: (_s, all) => {
        // Kill it while the other clients' submits are in flight.
        if (!restart && all.filter((a) => a.outcome.ok).length >= 15) {
          restart = (async () => {
            await world.web.kill();
            await world.web.start();
          })();
        }
      },
    });
    await restart;
    expect(submissions.filter((s) => s.networkErrors > 0).length, "submits cut by the kill and retried").toBeGreaterThan(0);
    const waited = await waitUntilSettled(world, member);
    await checkBooks(world, member, submissions, "web killed mid-submit", waited);
    expectNoUnexpectedExits();
  });

  it("the worker killed (SIGKILL) mid-download of a result and restarted", async () => {
    const member = await world.member();
    world.proxy.chunkDelayMs = 300; // ~4 s per result file
    const cutBefore = world.proxy.cut;
    let restarted: Promise<void> | undefined;
    const submissions = await submitLoad(world.baseUrl, member, {
      clients: CLIENTS,
      perClient: 2,
      prompt: (c, n) => `[s2] client ${c}, video ${n}`,
    });
    // The first result being copied, part of its body received: kill the worker there.
    await waitFor("a result download in the middle of its body", () => world.proxy.midBody > 0, 60_000, 50);
    await sleep(500);
    restarted = (async () => {
      await world.worker.kill();
      world.proxy.chunkDelayMs = 20;
      await world.worker.start();
    })();
    await restarted;
    await waitFor("the cut download to be noticed", () => world.proxy.cut > cutBefore, 10_000);
    const waited = await waitUntilSettled(world, member);
    const findings = await checkBooks(world, member, submissions, "worker killed mid-download", waited);
    expect(findings.archived, "every completed result copied").toBe(findings.byStatus.completed);
    // Each copy is whole.
    const media = path.join(DATA_DIR, "portal", "media", "results");
    const { rows } = await world.db.query<{ id: string }>(`SELECT id FROM "Task" WHERE "userId" = $1 AND "archiveStatus" = 'archived'`, [member.userId]);
    for (const { id } of rows) expect(statSync(path.join(media, `${id}.mp4`)).size, `archived copy of ${id}`).toBe(107_796);
    const leftovers = readdirSync(media).filter((f) => f.endsWith(".part"));
    console.log(`[faults] worker killed mid-download: half-written files left in storage: ${leftovers.length}`);
    expectNoUnexpectedExits();
  });

  it("PostgreSQL restarted during a burst of callbacks", async () => {
    const member = await world.member();
    world.proxy.chunkDelayMs = 0;
    // Tasks end about 3.6 s after they are created: most of them together, after the submits.
    await world.faults({ pace: { marker: "[s3]", stepMs: 600 } });
    const submissions = await submitLoad(world.baseUrl, member, {
      clients: CLIENTS,
      perClient: 5,
      prompt: (c, n) => `[s3] client ${c}, video ${n}`,
    });
    expect(submissions.every((s) => s.outcome.ok), "every submit accepted before the restart").toBe(true);
    // The first callbacks have landed: the burst is on.
    await waitFor(
      "the first callbacks",
      async () => {
        const { rows } = await world.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "CallbackEvent" c JOIN "Task" t ON t.id = c."taskId" WHERE t."userId" = $1`,
          [member.userId],
        );
        return rows[0]!.n >= 3;
      },
      60_000,
      50,
    );
    const failedDeliveries = () => world.simulator.printed.match(/\[simulator\] callback \S+ attempt \d+ failed/g)?.length ?? 0;
    const failedBefore = failedDeliveries();
    await world.pg.stop();
    await sleep(4_000); // the provider's callback retries (1, 2, 4 s) fall into the gap
    await world.pg.start();
    expect(failedDeliveries() - failedBefore, "callback deliveries that failed while PostgreSQL was down").toBeGreaterThan(0);
    const waited = await waitUntilSettled(world, member);
    await checkBooks(world, member, submissions, "PostgreSQL restarted during callbacks", waited);
    expectNoUnexpectedExits();
  });

  it("the provider answering 429, 5xx and timeouts while 10 clients submit", async () => {
    const member = await world.member();
    await world.faults({
      http: [
        { endpoint: "create", status: 429, count: 6, retryAfterSeconds: 1 },
        { endpoint: "create", status: 503, count: 4 },
        // The provider created the task, then the gateway answered 502 / the connection was cut: the outcome is unknown to the portal.
        { endpoint: "create", status: 502, count: 3, createTask: true },
        { endpoint: "create", hang: true, hangMs: 2_000, count: 2, createTask: true },
        // Nothing created, the connection cut: given up as "submission unknown", unbilled.
        { endpoint: "create", hang: true, hangMs: 2_000, count: 2 },
        { endpoint: "create", status: 500, count: 2 },
        { endpoint: "query", status: 429, count: 5, retryAfterSeconds: 1 },
        { endpoint: "query", status: 502, count: 5 },
        { endpoint: "query", status: 503, count: 5 },
        { endpoint: "query", hang: true, hangMs: 2_000, count: 3 },
        { endpoint: "file", status: 503, count: 2 },
      ],
    });
    const submissions = await submitLoad(world.baseUrl, member, {
      clients: CLIENTS,
      perClient: 4,
      prompt: (c, n) => `[s4] client ${c}, video ${n}`,
    });
    const waited = await waitUntilSettled(world, member);
    const findings = await checkBooks(world, member, submissions, "provider 429/5xx/timeouts", waited);
    await world.clearFaults(); // every fault rule was used
    expect(findings.byStatus.completed, "most tasks still completed").toBeGreaterThan(submissions.length / 2);
    expectNoUnexpectedExits();
  });
});
