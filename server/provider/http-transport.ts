/**
 * The provider client's default transport: the subset of `fetch` it uses
 * (method, headers, a string body, an abort signal; status, headers, text),
 * on node:http(s) with one keep-alive agent per protocol. The global fetch
 * costs three to four times the CPU of node:http per exchange (measured:
 * docs/benchmarks.md), and the portal makes one or two provider exchanges
 * per submit and per callback. Failures look like fetch's — a TypeError
 * "fetch failed" whose `cause` carries the system error (ECONNREFUSED,
 * ENOTFOUND, an AggregateError when several addresses were tried), the
 * signal's reason when aborted — so the client's classification of what
 * may have reached the provider is the same for both. No redirects are
 * followed: the provider's API answers directly.
 */
import http from "node:http";
import https from "node:https";

const agents = {
  "http:": new http.Agent({ keepAlive: true }),
  "https:": new https.Agent({ keepAlive: true }),
};

/** Statuses whose answer has no body (a Response refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

export const nodeHttpFetch: typeof fetch = (input, init = {}) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    const agent = agents[url.protocol as keyof typeof agents];
    if (!agent) return reject(new TypeError("fetch failed", { cause: new Error(`unsupported protocol ${url.protocol}`) }));
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(signal.reason);
    if (init.body != null && typeof init.body !== "string") return reject(new TypeError("nodeHttpFetch sends string bodies only"));
    const body = init.body ?? undefined;
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));

    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(signal!.reason);
    };
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const req = (url.protocol === "https:" ? https : http).request(url, { method: init.method ?? "GET", headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", (err) => done(() => reject(new TypeError("fetch failed", { cause: err }))));
      res.on("end", () =>
        done(() => {
          const status = res.statusCode ?? 0;
          const answerHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined) continue;
            if (Array.isArray(value)) for (const v of value) answerHeaders.append(name, v);
            else answerHeaders.set(name, value);
          }
          try {
            resolve(new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: answerHeaders }));
          } catch (err) {
            // e.g. a status outside 200-599, which a Response cannot hold.
            reject(new TypeError("fetch failed", { cause: err }));
          }
        }),
      );
    });
    req.on("error", (err) => done(() => reject(new TypeError("fetch failed", { cause: err }))));
    signal?.addEventListener("abort", onAbort, { once: true });
    req.end(body);
  });
