/**
 * The floors of the HTTP benchmarks: a bare `node:http` + `pg` server doing
 * only the unavoidable work of one request, in a process of its own (as the
 * web server is), against the same database and the same simulator. No
 * framework, no ORM, no validation beyond what the work needs.
 *
 *   FLOOR=submit     POST /submit    session read; BEGIN, INSERT the task (same
 *                    idempotency key: the existing task), reserve the team's and
 *                    the person's budget (conditional UPDATEs), COMMIT; the create
 *                    call to the simulator over HTTP; the UPDATE recording its answer.
 *   FLOOR=submit     POST /v1submit  the same, but the person from a bearer API
 *                    key (its keyed hash looked up with its person: one query)
 *                    instead of a session (the /v1 create path's floor).
 *   FLOOR=history    GET /history    session read; the page's SQL (the same
 *                    columns, keyset); the same rows serialised as JSON.
 *   FLOOR=callbacks  POST /cb/:id    the body parsed; one provider GET; one
 *                    conditional UPDATE.
 *
 * Env: FLOOR, FLOOR_PORT, DATABASE_URL, SIM_URL, SIM_KEY, AUTH_SECRET (API keys' hashes).
 */
import http from "node:http";
import { createHmac, randomUUID } from "node:crypto";
import pg from "pg";

const kind = process.env.FLOOR;
const simUrl = process.env.SIM_URL ?? "";
const simKey = process.env.SIM_KEY ?? "";
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

function simRequest(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      `${simUrl}${path}`,
      { method, agent, headers: { Authorization: `Bearer ${simKey}`, ...(payload && { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) }) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown> });
          } catch (err) {
            reject(err);
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const sessionIdOf = (req: http.IncomingMessage) => /(?:^|;\s*)floor_sid=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];

/** One query: the session row and its user. */
async function sessionUser(req: http.IncomingMessage): Promise<string | null> {
  const sid = sessionIdOf(req);
  if (!sid) return null;
  const { rows } = await pool.query<{ id: string }>(
    `SELECT u.id FROM "UserSession" s JOIN "User" u ON u.id = s."userId"
     WHERE s.id = $1 AND s."revokedAt" IS NULL AND s."expiresAt" > now() AND u.status = 'active'`,
    [sid],
  );
  return rows[0]?.id ?? null;
}

/** One query: the API key's person, by the key's keyed hash (as server/apikeys/ stores it). */
async function apiKeyUser(req: http.IncomingMessage): Promise<string | null> {
  const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
  if (!token) return null;
  const hash = createHmac("sha256", process.env.AUTH_SECRET ?? "").update(`api-key:${token}`).digest("hex");
  const { rows } = await pool.query<{ id: string }>(
    `SELECT u.id FROM "ApiKey" k JOIN "User" u ON u.id = k."userId"
     WHERE k."secretHash" = $1 AND k."revokedAt" IS NULL AND (k."expiresAt" IS NULL OR k."expiresAt" > now()) AND u.status = 'active'`,
    [hash],
  );
  return rows[0]?.id ?? null;
}

const send = (res: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) }).end(text);
};

const PRICE = 0.086;

async function submit(req: http.IncomingMessage, res: http.ServerResponse, byKey = false): Promise<void> {
  const userId = byKey ? await apiKeyUser(req) : await sessionUser(req);
  if (!userId) return send(res, 401, { error: "sign in" });
  const input = JSON.parse(await readBody(req)) as { prompt: string; image_start: string; key: string; duration?: number };
  const duration = input.duration ?? 5;
  const estimate = Math.round(PRICE * duration * 1e6) / 1e6;
  const month = new Date().toISOString().slice(0, 7);
  const id = randomUUID();
  const request = { model: "wan2.7-image-to-video", generation_mode: "first_frame", prompt: input.prompt, image_start: input.image_start, duration, quality: "720p" };
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const inserted = await client.query(
      `INSERT INTO "Task" (id, "userId", "clientRequestId", mode, prompt, quality, request, status, "durationSeconds", "pricePerSecond", currency,
                           "estimatedCost", "reservedCost", "budgetMonth", "createdAt", "updatedAt")
       VALUES ($1, $2, $3, 'first_frame', $4, '720p', $5, 'submitting', $6, $7, 'USD', $8, $8, $9, now(), now())
       ON CONFLICT ("userId", "clientRequestId") DO NOTHING RETURNING id`,
      [id, userId, input.key, input.prompt, request, duration, PRICE, estimate, month],
    );
    if (inserted.rowCount === 0) {
      await client.query("ROLLBACK");
      const { rows } = await pool.query(`SELECT id, status, "providerTaskId" FROM "Task" WHERE "userId" = $1 AND "clientRequestId" = $2`, [userId, input.key]);
      return send(res, 200, rows[0]);
    }
    for (const key of ["team", `user:${userId}`]) {
      const held = await client.query(
        `UPDATE "BudgetLedger" l SET reserved = reserved + $3
         FROM (SELECT "monthlyLimit" FROM "Budget" WHERE key = $1 UNION ALL SELECT NULL LIMIT 1) b
         WHERE l.key = $1 AND l.month = $2 AND (b."monthlyLimit" IS NULL OR l.reserved + l.spent + $3 <= b."monthlyLimit") RETURNING reserved`,
        [key, month, estimate],
      );
      if (held.rowCount === 0) {
        await client.query("ROLLBACK");
        return send(res, 402, { error: "over budget" });
      }
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  const answer = await simRequest("POST", "/v1/videos/generations", request);
  if (answer.status !== 200) return send(res, 502, { error: `simulator answered ${answer.status}` });
  await pool.query(`UPDATE "Task" SET "providerTaskId" = $2, status = 'pending', "submittedAt" = now(), "updatedAt" = now() WHERE id = $1 AND "providerTaskId" IS NULL`, [
    id,
    answer.json.id,
  ]);
  send(res, 200, { id, status: "pending", providerTaskId: answer.json.id });
}

/** The columns the history page shows (toTaskView's), and the owner's. */
const HISTORY_COLUMNS = `t.id, t.mode, t.prompt, t.status, t.progress, t."providerTaskId", t."resultUrls", t."errorCode", t."errorMessage",
  t."durationSeconds", t."billedSeconds", t.quality, t.currency, t."estimatedCost", t.cost, t."archiveStatus", t."archiveError",
  t."filesDeletedAt", t."createdAt", t."updatedAt", t."completedAt", u.id AS "ownerId", u.email AS "ownerEmail", u.name AS "ownerName"`;

async function history(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  const userId = await sessionUser(req);
  if (!userId) return send(res, 401, { error: "sign in" });
  const limit = 50;
  const cursor = url.searchParams.get("cursor");
  const after = cursor ? (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, string]) : null;
  const { rows } = await pool.query(
    `SELECT ${HISTORY_COLUMNS} FROM "Task" t JOIN "User" u ON u.id = t."userId"
     WHERE t."userId" = $1 ${after ? `AND (t."createdAt" < $3 OR (t."createdAt" = $3 AND t.id < $4))` : ""}
     ORDER BY t."createdAt" DESC, t.id DESC LIMIT $2`,
    after ? [userId, limit + 1, after[0], after[1]] : [userId, limit + 1],
  );
  const items = rows.slice(0, limit);
  const last = items.at(-1) as { createdAt: Date; id: string } | undefined;
  const nextCursor = rows.length > limit && last ? Buffer.from(JSON.stringify([last.createdAt.toISOString(), last.id])).toString("base64url") : null;
  send(res, 200, {
    tasks: items.map(({ ownerId, ownerEmail, ownerName, estimatedCost, cost, ...t }) => ({
      ...t,
      owner: { id: ownerId, email: ownerEmail, name: ownerName },
      estimatedCost: Number(estimatedCost),
      cost: cost === null ? null : Number(cost),
      videoUrl: t.filesDeletedAt ? null : t.archiveStatus === "archived" ? `/api/media/${t.id}` : (t.resultUrls[0] ?? null),
    })),
    nextCursor,
  });
}

async function callback(req: http.IncomingMessage, res: http.ServerResponse, taskId: string): Promise<void> {
  const body = JSON.parse(await readBody(req)) as { id: string };
  const confirmed = await simRequest("GET", `/v1/tasks/${encodeURIComponent(body.id)}`);
  if (confirmed.status !== 200) return send(res, 502, { error: `simulator answered ${confirmed.status}` });
  const t = confirmed.json as { status: string; progress: number; results?: string[] };
  const { rowCount } = await pool.query(
    `UPDATE "Task" SET status = $2::"TaskStatus", progress = $3, "resultUrls" = $4, "completedAt" = now(), "updatedAt" = now()
     WHERE id = $1 AND status NOT IN ('completed', 'failed')`,
    [taskId, t.status, t.progress, t.results ?? []],
  );
  send(res, 200, { ok: true, outcome: rowCount === 1 ? "applied" : "duplicate" });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://floor");
  const work =
    url.pathname === "/health"
      ? Promise.resolve(send(res, 200, { ok: true }))
      : kind === "submit" && req.method === "POST" && (url.pathname === "/submit" || url.pathname === "/v1submit")
        ? submit(req, res, url.pathname === "/v1submit")
        : kind === "history" && url.pathname === "/history"
          ? history(req, res, url)
          : kind === "callbacks" && req.method === "POST" && url.pathname.startsWith("/cb/")
            ? callback(req, res, decodeURIComponent(url.pathname.slice(4)))
            : Promise.resolve(send(res, 404, { error: "not found" }));
  work.catch((err: unknown) => {
    console.error(`[floor] ${(err as Error).message}`);
    if (!res.headersSent) send(res, 500, { error: "internal" });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.FLOOR_PORT), "127.0.0.1");
const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
