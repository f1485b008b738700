/**
 * Callback ingest: callbacks per second through the real route
 * (app/api/callbacks/evolink/[taskId] on the production build: token check,
 * bounded body, confirmation GET to the simulator, idempotent update, billing
 * record), each callback delivered 4 times (the provider's first delivery and
 * its 3 retries). Against the callback floor (floor-server.ts: one provider
 * GET, one conditional UPDATE, for every delivery). Then: every task
 * completed once, one billing record each, one applied callback each, 3
 * duplicates each.
 *
 * Two orders, each with tasks of its own:
 * - spaced (the target): the four deliveries of a task come a round apart
 *   (every task's first delivery, then every task's second, ...), as the
 *   provider's retries come 1, 2 and 4 s apart (API-NOTES);
 * - burst (reported): the four come back to back on different connections,
 *   all in flight at once: the hardest case for "once", where no delivery
 *   can find the task already ended.
 *
 *   npm run bench -- callbacks   (BENCH_CALLBACK_TASKS, default 1000: 4,000 callbacks a side and order;
 *                                  BENCH_CALLBACK_ORDERS=spaced to run one order)
 */
import { callbackToken } from "../../server/callbacks/token.ts";
import type { Db } from "../../server/db/client.ts";
import { BENCH_AUTH_SECRET, load, loadMeasured, openBenchDb, SIM_KEY, startBenchSimulator, startFloor, startWeb, verdict, type BenchOptions, type LoadRequest } from "./harness.ts";

const DELIVERIES = 4;
const PRICE = 0.086;
const SECONDS = 5;

async function createAtSimulator(simUrl: string, count: number): Promise<Array<Record<string, unknown>>> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, async (_, j) => {
        const res = await fetch(`${simUrl}/v1/videos/generations`, {
          method: "POST",
          headers: { Authorization: `Bearer ${SIM_KEY}`, "Content-Type": "application/json" },
          body: JSON.stringify({ model: "wan2.7-image-to-video", prompt: `callback bench ${i + j}`, image_start: `${simUrl}/samples/first-frame.png`, duration: SECONDS, quality: "720p" }),
        });
        if (!res.ok) throw new Error(`simulator create answered ${res.status}: ${await res.text()}`);
        return ((await res.json()) as { id: string }).id;
      }),
    );
    ids.push(...batch);
  }
  // Wait until every task has ended at the simulator, then take its task object (the callback body).
  const objects: Array<Record<string, unknown>> = [];
  for (const id of ids) {
    for (;;) {
      const res = await fetch(`${simUrl}/v1/tasks/${id}`, { headers: { Authorization: `Bearer ${SIM_KEY}` } });
      const task = (await res.json()) as Record<string, unknown>;
      if (task.status === "completed" || task.status === "failed") {
        objects.push(task);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return objects;
}

/** Stores `pending` tasks that the simulator knows as `providerIds`, with their budget holds. */
async function storeTasks(db: Db, userId: string, ids: string[], providerIds: string[]): Promise<void> {
  const month = new Date().toISOString().slice(0, 7);
  const estimate = Math.round(PRICE * SECONDS * 1e6) / 1e6;
  await db.$executeRaw`
    INSERT INTO "Task" (id, "userId", mode, prompt, quality, request, status, "durationSeconds", "pricePerSecond", currency, "estimatedCost",
                        "reservedCost", "budgetMonth", "providerTaskId", "submitAttemptedAt", "submittedAt", "createdAt", "updatedAt")
    SELECT i.id, ${userId}, 'first_frame', 'callback bench', '720p', '{}'::jsonb, 'pending', ${SECONDS}, ${PRICE}, 'USD', ${estimate},
           ${estimate}, ${month}, i.provider, now(), now(), now(), now()
    FROM unnest(${ids}::text[], ${providerIds}::text[]) AS i(id, provider)`;
  for (const key of ["team", `user:${userId}`]) {
    await db.$executeRaw`INSERT INTO "BudgetLedger" (key, month) VALUES (${key}, ${month}) ON CONFLICT DO NOTHING`;
    await db.$executeRaw`UPDATE "BudgetLedger" SET reserved = reserved + ${estimate * ids.length} WHERE key = ${key} AND month = ${month}`;
  }
}

type Order = "spaced" | "burst";

/** Requests delivering each task's callback DELIVERIES times (in rounds, or in a row); bounded by `amount`. */
function deliveries(count: number, pathOf: (i: number) => string, bodies: string[], order: Order): LoadRequest[] {
  let k = 0;
  return [
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      setupRequest: (req) => {
        const i = order === "spaced" ? k % count : Math.floor(k / DELIVERIES) % count;
        k++;
        return { ...req, path: pathOf(i), body: bodies[i] };
      },
    },
  ];
}

export async function benchCallbacks(o: BenchOptions): Promise<boolean> {
  const { log } = o;
  const count = Number(process.env.BENCH_CALLBACK_TASKS ?? 1000);
  const bench = await openBenchDb(o);
  const { db } = bench;
  // Tasks end within a few 10 ms steps; the simulator sends no callbacks itself (no callback_url).
  const sim = await startBenchSimulator(o, 10);
  let web: Awaited<ReturnType<typeof startWeb>> | undefined;
  let floor: Awaited<ReturnType<typeof startFloor>> | undefined;
  const month = new Date().toISOString().slice(0, 7);
  const teamBefore = await db.budgetLedger.findUnique({ where: { key_month: { key: "team", month } } });
  const stamp = Date.now().toString(36);
  const userId = `bench-run-callbacks-${stamp}`;
  try {
    await db.user.create({ data: { id: userId, email: `${userId}@bench.test`, name: userId, role: "member", status: "active" } });
    web = await startWeb(o, bench.url, sim.url);
    floor = await startFloor(o, "callbacks", { DATABASE_URL: bench.url, SIM_URL: sim.url, SIM_KEY });
    let held = true;
    const orders = (process.env.BENCH_CALLBACK_ORDERS ?? "spaced,burst").split(",").filter((x): x is Order => x === "spaced" || x === "burst");
    for (const order of orders) {
      log(
        `\ncallbacks, ${order === "spaced" ? "spaced (a task's 4 deliveries a round apart, as the provider's retries; the target)" : "burst (a task's 4 deliveries at once; reported)"}: ` +
          `${count} tasks a side, each callback delivered ${DELIVERIES} times (${count * DELIVERIES} requests), ${o.connections} clients`,
      );
      const objects = await createAtSimulator(sim.url, count * 2);
      const portalIds = objects.slice(0, count).map((_, i) => `bench-run-cb-${stamp}-${order}-${i}`);
      const floorIds = objects.slice(count).map((_, i) => `bench-run-cbf-${stamp}-${order}-${i}`);
      await storeTasks(db, userId, portalIds, objects.slice(0, count).map((t) => String(t.id)));
      await storeTasks(db, userId, floorIds, objects.slice(count).map((t) => String(t.id)));
      const bodies = objects.map((t) => JSON.stringify(t));

      // Warm-up: a wrong token answers 404 through the whole route (no state changes).
      await load(o, web.url, [{ method: "POST", path: `/api/callbacks/evolink/${portalIds[0]}?token=wrong`, body: bodies[0] }], { duration: 2 });

      const portal = await loadMeasured(
        o,
        web,
        deliveries(count, (i) => `/api/callbacks/evolink/${encodeURIComponent(portalIds[i]!)}?token=${callbackToken(BENCH_AUTH_SECRET, portalIds[i]!)}`, bodies.slice(0, count), order),
        { amount: count * DELIVERIES },
        db,
      );
      const bare = await loadMeasured(o, floor, deliveries(count, (i) => `/cb/${encodeURIComponent(floorIds[i]!)}`, bodies.slice(count), order), { amount: count * DELIVERIES }, db);

      const [p] = await db.$queryRaw<Array<{ ended: bigint; billed: bigint; billing_rows: bigint; cost: string; billed_cost: string; applied: bigint; duplicate: bigint; other: bigint; end_events: bigint }>>`
        SELECT (SELECT count(*) FROM "Task" WHERE id = ANY(${portalIds}) AND status IN ('completed', 'failed')) AS ended,
               (SELECT count(DISTINCT "taskId") FROM "BillingRecord" WHERE "taskId" = ANY(${portalIds})) AS billed,
               (SELECT count(*) FROM "BillingRecord" WHERE "taskId" = ANY(${portalIds})) AS billing_rows,
               (SELECT coalesce(sum(cost), 0)::text FROM "Task" WHERE id = ANY(${portalIds})) AS cost,
               (SELECT coalesce(sum(cost), 0)::text FROM "BillingRecord" WHERE "taskId" = ANY(${portalIds})) AS billed_cost,
               (SELECT count(*) FROM "CallbackEvent" WHERE "taskId" = ANY(${portalIds}) AND outcome = 'applied') AS applied,
               (SELECT count(*) FROM "CallbackEvent" WHERE "taskId" = ANY(${portalIds}) AND outcome = 'duplicate') AS duplicate,
               (SELECT count(*) FROM "CallbackEvent" WHERE "taskId" = ANY(${portalIds}) AND outcome NOT IN ('applied', 'duplicate')) AS other,
               (SELECT count(*) FROM "TaskEvent" WHERE "taskId" = ANY(${portalIds}) AND kind IN ('completed', 'failed')) AS end_events`;
      const [f] = await db.$queryRaw<Array<{ ended: bigint }>>`SELECT count(*) AS ended FROM "Task" WHERE id = ANY(${floorIds}) AND status IN ('completed', 'failed')`;
      const n = BigInt(count);
      log(
        `  portal: ${p!.ended}/${count} tasks ended, ${p!.billing_rows} billing records for ${p!.billed} tasks (${p!.billed_cost} billed, tasks' cost ${p!.cost}), ` +
          `callbacks ${p!.applied} applied / ${p!.duplicate} duplicate / ${p!.other} other, ${p!.end_events} end events`,
      );
      log(`  floor:  ${f!.ended}/${count} tasks ended`);
      const ok = verdict(log, `callbacks, ${order}`, portal, bare, order === "spaced" ? 0.5 : null, [
        ["0 lost: every task ended, every delivery answered 2xx", p!.ended === n && portal.failed === 0],
        ["0 duplicated: one state change, one billing record, one end event per task", p!.applied === n && p!.billing_rows === n && p!.end_events === n && p!.cost === p!.billed_cost],
      ]);
      if (!ok) held = false;
    }
    return held;
  } finally {
    await web?.stop();
    await floor?.stop();
    await sim.close();
    await db.$executeRawUnsafe(`DELETE FROM "Task" WHERE "userId" = '${userId}'`).catch(() => {});
    await db.$executeRawUnsafe(`DELETE FROM "BudgetLedger" WHERE key = 'user:${userId}'`).catch(() => {});
    await db.$executeRawUnsafe(`DELETE FROM "User" WHERE id = '${userId}'`).catch(() => {});
    if (teamBefore) await db.budgetLedger.update({ where: { key_month: { key: "team", month } }, data: { reserved: teamBefore.reserved, spent: teamBefore.spent } }).catch(() => {});
    await bench.stop();
  }
}
