/**
 * Submit: `tasks.create` over HTTP on the production build (scripts/web.ts),
 * one signed-in member, 10 clients, first_frame with the simulator's sample
 * image; a unique idempotency key per request except every 10th, which
 * repeats the previous request's key (a double submission). Against the
 * submit floor (floor-server.ts) in the same run. Then the database must
 * hold exactly one task per distinct key sent: 0 lost, 0 duplicated.
 *
 *   npm run bench -- submit [--duration 10]
 */
import type { Db } from "../../server/db/client.ts";
import { apiKeyPrefix, hashApiKey, newApiKeySecret } from "../../server/apikeys/secret.ts";
import { BENCH_AUTH_SECRET, load, loadMeasured, openBenchDb, signedInMember, startBenchSimulator, startFloor, startWeb, uuid, verdict, type BenchOptions, type LoadRequest, type LoadResult } from "./harness.ts";

/** Every DOUBLE-th request reuses the key of the one before it. */
const DOUBLE = 10;
const PROMPT = "A lighthouse at dawn, waves rolling in, the camera slowly pushes in.";

/**
 * Requests whose bodies carry fresh keys, with a share of repeats; records every key sent and
 * every key answered 2xx (one request in flight per connection: its context holds the key).
 */
function keyed(
  sent: string[],
  answered: string[],
  body: (key: string, n: number) => string,
  base: Omit<LoadRequest, "setupRequest">,
  headersOf?: (key: string) => Record<string, string>,
): LoadRequest[] {
  let n = 0;
  let previous = uuid();
  return [
    {
      ...base,
      setupRequest: (req, context) => {
        n++;
        const key = n % DOUBLE === 0 ? previous : uuid();
        previous = key;
        sent.push(key);
        (context as { key?: string }).key = key;
        return { ...req, body: body(key, n), ...(headersOf && { headers: { ...req.headers, ...headersOf(key) } }) };
      },
      onResponse: (status, _body, context) => {
        if (status >= 200 && status < 300) answered.push((context as { key: string }).key);
      },
    },
  ];
}

async function resetRunUsers(db: Db): Promise<void> {
  await db.$executeRawUnsafe(`DELETE FROM "Task" WHERE "userId" LIKE 'bench-run-%'`);
  await db.$executeRawUnsafe(`DELETE FROM "BudgetLedger" WHERE key LIKE 'user:bench-run-%'`);
  await db.$executeRawUnsafe(`DELETE FROM "Budget" WHERE key LIKE 'user:bench-run-%'`);
  await db.$executeRawUnsafe(`DELETE FROM "User" WHERE id LIKE 'bench-run-%'`);
  // The seed holds nothing in reserve and has spent nothing of the team's budget: earlier runs'
  // holds and spending are released (their tasks are gone), or the team's budget runs out after a few runs.
  await db.$executeRawUnsafe(`UPDATE "BudgetLedger" SET reserved = 0, spent = 0 WHERE key = 'team'`);
}

async function withBudget(db: Db, userId: string): Promise<void> {
  const month = new Date().toISOString().slice(0, 7);
  await db.$executeRaw`INSERT INTO "Budget" (key, "userId", "monthlyLimit", "updatedAt") VALUES (${`user:${userId}`}, ${userId}, 1000000, now()) ON CONFLICT DO NOTHING`;
  for (const key of ["team", `user:${userId}`]) await db.$executeRaw`INSERT INTO "BudgetLedger" (key, month) VALUES (${key}, ${month}) ON CONFLICT DO NOTHING`;
}

/**
 * Tasks stored for `userId` against the keys: every key answered 2xx has its task (else lost),
 * one task per key (else duplicated), none for a key never sent. A request cut by the end of
 * the run may have stored its task or not: both are correct.
 */
async function verify(db: Db, userId: string, sent: string[], answered: string[]): Promise<{ line: string; ok: boolean }> {
  const distinct = new Set(sent);
  const [row] = await db.$queryRaw<Array<{ tasks: bigint; keys: bigint; unsent: bigint }>>`
    SELECT count(*) AS tasks, count(DISTINCT "clientRequestId") AS keys,
           count(*) FILTER (WHERE "providerTaskId" IS NULL) AS unsent
    FROM "Task" WHERE "userId" = ${userId}`;
  const stored = await db.task.findMany({ where: { userId }, select: { clientRequestId: true } });
  const storedKeys = new Set(stored.map((t) => t.clientRequestId));
  const lost = [...new Set(answered)].filter((k) => !storedKeys.has(k)).length;
  const cut = [...distinct].filter((k) => !answered.includes(k)).length;
  const duplicated = Number(row!.tasks) - Number(row!.keys);
  const extra = [...storedKeys].filter((k) => k === null || !distinct.has(k)).length;
  const line = `${sent.length} requests, ${distinct.size} distinct keys (${cut} only in requests cut by the end of a run); ${row!.tasks} tasks stored (${row!.keys} distinct keys), ${lost} lost, ${duplicated} duplicated, ${extra} unexpected, ${row!.unsent} without a provider id`;
  return { line, ok: lost === 0 && duplicated === 0 && extra === 0 };
}

export function benchSubmit(o: BenchOptions): Promise<boolean> {
  return benchCreatePath(o, "trpc");
}

/**
 * The /v1 create path (issue 13): `POST /v1/videos/generations` with a
 * personal API key and an Idempotency-Key (every 10th request repeats the
 * previous one's, with the same body), the provider's body, against the
 * submit floor authenticating the same key (`/v1submit`: one query for the
 * key's person). Then: one task per distinct Idempotency-Key, 0 lost, 0
 * duplicated.
 *
 *   npm run bench -- v1 [--duration 10]
 */
export function benchV1Create(o: BenchOptions): Promise<boolean> {
  return benchCreatePath(o, "v1");
}

/** A working API key for `userId`, stored as server/apikeys/ stores it; the whole key. */
async function apiKeyFor(db: Db, userId: string): Promise<string> {
  const secret = newApiKeySecret();
  await db.apiKey.create({ data: { userId, name: "bench", prefix: apiKeyPrefix(secret), secretHash: hashApiKey(BENCH_AUTH_SECRET, secret) } });
  return secret;
}

/** One create path against the submit floor: the form's tRPC procedure, or the /v1 API with a key. */
async function benchCreatePath(o: BenchOptions, via: "trpc" | "v1"): Promise<boolean> {
  const { log } = o;
  const bench = await openBenchDb(o);
  const sim = await startBenchSimulator(o);
  const image = `${sim.url}/samples/first-frame.png`;
  let web: Awaited<ReturnType<typeof startWeb>> | undefined;
  let floor: Awaited<ReturnType<typeof startFloor>> | undefined;
  try {
    await resetRunUsers(bench.db);
    const stamp = Date.now().toString(36);
    const member = await signedInMember(bench.db, `bench-run-${via === "v1" ? "v1" : "submit"}-${stamp}`);
    const floorMember = await signedInMember(bench.db, `bench-run-${via === "v1" ? "v1floor" : "floor"}-${stamp}`);
    await withBudget(bench.db, member.userId);
    await withBudget(bench.db, floorMember.userId);

    web = await startWeb(o, bench.url, sim.url);
    floor = await startFloor(o, "submit", { DATABASE_URL: bench.url, SIM_URL: sim.url, SIM_KEY: "bench-simulator-key", AUTH_SECRET: BENCH_AUTH_SECRET });

    const portalSent: string[] = [];
    const portalAnswered: string[] = [];
    const floorSent: string[] = [];
    const floorAnswered: string[] = [];
    const floorBody = (key: string, n: number) => JSON.stringify({ prompt: `${PROMPT} #${n}`, image_start: image, duration: 5, key });
    let portalRequests: LoadRequest[];
    let floorRequests: LoadRequest[];
    if (via === "trpc") {
      portalRequests = keyed(portalSent, portalAnswered, (key, n) => JSON.stringify({ json: { prompt: `${PROMPT} #${n}`, image_start: image, duration: 5, clientRequestId: key } }), {
        method: "POST",
        path: "/api/trpc/tasks.create",
        headers: { "content-type": "application/json", cookie: member.cookie },
      });
      floorRequests = keyed(floorSent, floorAnswered, floorBody, {
        method: "POST",
        path: "/submit",
        headers: { "content-type": "application/json", cookie: `floor_sid=${floorMember.sessionId}` },
      });
      log(`\nsubmit: tasks.create (first_frame, ${image}), ${o.connections} clients, ${o.duration} s; every ${DOUBLE}th request repeats the previous key`);
    } else {
      const [key, floorKey] = [await apiKeyFor(bench.db, member.userId), await apiKeyFor(bench.db, floorMember.userId)];
      // A repeat sends the same Idempotency-Key and the same body (another body would be a conflict, 409).
      portalRequests = keyed(
        portalSent,
        portalAnswered,
        (_idem, n) => JSON.stringify({ model: "wan2.7-image-to-video", prompt: `${PROMPT} #${n % DOUBLE === 0 ? n - 1 : n}`, image_start: image, duration: 5 }),
        { method: "POST", path: "/v1/videos/generations", headers: { "content-type": "application/json", authorization: `Bearer ${key}` } },
        (idem) => ({ "idempotency-key": idem }),
      );
      floorRequests = keyed(floorSent, floorAnswered, floorBody, {
        method: "POST",
        path: "/v1submit",
        headers: { "content-type": "application/json", authorization: `Bearer ${floorKey}` },
      });
      log(`\nv1 create: POST /v1/videos/generations with a personal API key (first_frame, ${image}), ${o.connections} clients, ${o.duration} s; every ${DOUBLE}th request repeats the previous Idempotency-Key and body`);
    }

    // Warm both (JIT, connection pools) with a short run each; those tasks are counted in the check too.
    await load(o, web.url, portalRequests, { duration: 2 });
    await load(o, floor.url, floorRequests, { duration: 2 });
    const portal: LoadResult = await loadMeasured(o, web, portalRequests, {}, bench.db);
    const bare: LoadResult = await loadMeasured(o, floor, floorRequests, {}, bench.db);

    // The /v1 API keeps each Idempotency-Key in its own table, with the clientRequestId of its one task.
    let mapped = (keys: string[]) => keys;
    if (via === "v1") {
      const records = await bench.db.apiIdempotencyKey.findMany({ where: { apiKey: { userId: member.userId } }, select: { key: true, clientRequestId: true } });
      const byIdem = new Map(records.map((r) => [r.key, r.clientRequestId]));
      mapped = (keys) => keys.map((k) => byIdem.get(k) ?? `missing:${k}`);
    }
    const checked = await verify(bench.db, member.userId, mapped(portalSent), mapped(portalAnswered));
    const floorChecked = await verify(bench.db, floorMember.userId, floorSent, floorAnswered);
    log(`  portal: ${checked.line}`);
    log(`  floor:  ${floorChecked.line}`);
    return verdict(log, via === "v1" ? "v1 create" : "tasks.create", portal, bare, 0.3, [
      [via === "v1" ? "0 lost, 0 duplicated tasks (one per Idempotency-Key)" : "0 lost, 0 duplicated tasks (distinct keys = tasks)", checked.ok],
      ["every answer 2xx", portal.failed === 0],
    ]);
  } finally {
    await web?.stop();
    await floor?.stop();
    await sim.close();
    await resetRunUsers(bench.db).catch(() => {});
    await bench.stop();
  }
}
