/**
 * Fetches a media URL once so its file can be checked before the paid call.
 * Members choose these URLs, so this is where the portal could be turned
 * against its own network (SSRF); the guard:
 *
 * - https only, except the exact origins in `allowedOrigins` (the local
 *   simulator's, in simulator mode), which may be plain http and on this
 *   computer. Nothing else on this computer is reachable, whatever the
 *   spelling (127.1, 2130706433, [::ffff:7f00:1], localhost, ...).
 * - Only public unicast addresses (server/security/address.ts), checked on
 *   the address actually connected to: a host name is resolved once, in the
 *   connection's `lookup` hook, and refused when any address it resolves to
 *   is not public (so DNS rebinding between a check and the connection cannot
 *   slip through); an IP literal, which skips lookup, is checked before
 *   connecting.
 * - Redirects are followed (at most 3), each hop checked the same way.
 * - Refuses a file over the byte cap without downloading it: Content-Length
 *   first, then by counting while streaming.
 * - Never throws: a refused URL, and whatever goes wrong on the way (DNS,
 *   refused, timeout, HTTP error), give null: "could not check", which is
 *   not a validation failure.
 */
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { httpOriginOf, isAllowedMediaUrl } from "../generation/request-schema.ts";
import { isPublicAddress, parseIpAddress } from "../security/address.ts";

export type FetchedMedia =
  | { bytes: Uint8Array; contentType?: string }
  /** The file is larger than the cap; `size` when the server said how large. */
  | { tooLarge: true; size?: number; contentType?: string };

/** One download of `url`, capped at `opts.maxBytes` (and the fetcher's own cap); null when it cannot be fetched. */
export type MediaFetcher = (url: string, opts?: { maxBytes?: number }) => Promise<FetchedMedia | null>;

/** Every address `hostname` resolves to (dns.lookup with `all`). */
export type ResolveHost = (hostname: string, family: 0 | 4 | 6) => Promise<dns.LookupAddress[]>;

export interface MediaFetcherOptions {
  /** Never keeps more than this many bytes of one file. */
  maxBytes: number;
  /** For the whole download, redirects included. */
  timeoutMs: number;
  /**
   * Exact origins (scheme, host, port) exempt from the address rule and
   * allowed over plain http: the local simulator's, in simulator mode
   * (httpMediaOrigins(config).fetch). Empty with the real provider.
   */
  allowedOrigins: readonly string[];
  /** Default 3. */
  maxRedirects?: number;
  /** Test seam: how host names are resolved; dns.lookup unless given. */
  lookup?: ResolveHost;
}

const systemResolve: ResolveHost = (hostname, family) => dns.promises.lookup(hostname, { all: true, family });

function familyOf(value: unknown): 0 | 4 | 6 {
  return value === 4 || value === "IPv4" ? 4 : value === 6 || value === "IPv6" ? 6 : 0;
}

/**
 * The `lookup` hook of one connection: resolves with `resolve` and, when
 * `guarded`, refuses the connection unless every address is public.
 */
function connectLookup(resolve: ResolveHost, guarded: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    const answer = (addresses: dns.LookupAddress[]) => {
      const first = addresses[0];
      if (!first || (guarded && addresses.some((a) => !isPublicAddress(a.address)))) {
        const refused: NodeJS.ErrnoException = new Error(`${hostname} resolves to an address the portal does not fetch from`);
        refused.code = "EADDRNOTALLOWED";
        return callback(refused, "", undefined);
      }
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    };
    resolve(hostname, familyOf(options.family)).then(answer, (err: NodeJS.ErrnoException) => callback(err, "", undefined));
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function createMediaFetcher(opts: MediaFetcherOptions): MediaFetcher {
  const maxRedirects = opts.maxRedirects ?? 3;
  const allowedOrigins = opts.allowedOrigins.map(httpOriginOf).filter((o): o is string => o !== null);
  const resolve = opts.lookup ?? systemResolve;
  const lookups = { guarded: connectLookup(resolve, true), allowed: connectLookup(resolve, false) };

  return async (url, callOpts = {}) => {
    const cap = Math.min(opts.maxBytes, callOpts.maxBytes ?? Number.POSITIVE_INFINITY);
    const deadline = Date.now() + opts.timeoutMs;
    let current = url;
    for (let hop = 0; hop <= maxRedirects; hop++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return null;
      const target = checkedTarget(current, allowedOrigins);
      if (!target) return null;
      const lookup = target.allowed ? lookups.allowed : lookups.guarded;
      const answer = await getOnce(target.url, { cap, timeoutMs: remaining, lookup }).catch(() => null);
      if (answer === null || !("redirect" in answer)) return answer;
      current = answer.redirect;
    }
    return null;
  };
}

/**
 * `url` when this hop may be requested, with whether its origin is one of
 * the allowed ones; null when it is refused. For a host name, the resolved
 * addresses are checked later, at connect time.
 */
function checkedTarget(url: string, allowedOrigins: readonly string[]): { url: URL; allowed: boolean } | null {
  if (!isAllowedMediaUrl(url, { httpOrigins: allowedOrigins })) return null;
  const target = new URL(url);
  if (allowedOrigins.includes(target.origin)) return { url: target, allowed: true };
  // An IP literal is connected to without a lookup: check it here.
  if (parseIpAddress(target.hostname) !== null && !isPublicAddress(target.hostname)) return null;
  return { url: target, allowed: false };
}

type Answer = FetchedMedia | { redirect: string } | null;

function getOnce(target: URL, o: { cap: number; timeoutMs: number; lookup: net.LookupFunction }): Promise<Answer> {
  const client = target.protocol === "https:" ? https : http;

  return new Promise<Answer>((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (value: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(value);
      req.destroy();
    };
    const req = client.get(
      target,
      { lookup: o.lookup, headers: { "User-Agent": "wan-video-portal media check", Accept: "*/*" }, agent: false },
      (res) => {
        const status = res.statusCode ?? 0;
        const contentType = res.headers["content-type"]?.split(";")[0]?.trim() || undefined;
        const typed = contentType ? { contentType } : {};
        if (REDIRECTS.has(status) && res.headers.location) {
          res.resume();
          return finish(URL.canParse(res.headers.location, target) ? { redirect: new URL(res.headers.location, target).href } : null);
        }
        if (status < 200 || status > 299) {
          res.resume();
          return finish(null);
        }
        const declared = Number(res.headers["content-length"]);
        if (Number.isFinite(declared) && declared > o.cap) return finish({ tooLarge: true, size: declared, ...typed });
        const chunks: Buffer[] = [];
        let total = 0;
        res.on("data", (chunk: Buffer) => {
          total += chunk.length;
          if (total > o.cap) return finish({ tooLarge: true, ...typed });
          chunks.push(chunk);
        });
        res.on("end", () => finish({ bytes: new Uint8Array(Buffer.concat(chunks, total)), ...typed }));
        res.on("error", () => finish(null));
        res.on("aborted", () => finish(null));
      },
    );
    req.on("error", () => finish(null));
    timer = setTimeout(() => finish(null), o.timeoutMs);
  });
}

/** One POST through the guard: the answer's status, or why there was none. */
export type GuardedPost = (url: string, body: string, headers: Record<string, string>) => Promise<{ status: number } | { error: string }>;

export interface GuardedPosterOptions {
  /** For the whole exchange. */
  timeoutMs: number;
  /**
   * Exact https origins exempt from the address rule: tests only (a receiver
   * on this computer). Empty in the product: callbacks go to public https
   * addresses only.
   */
  allowedOrigins?: readonly string[];
  /** Extra certificate authorities to trust (tests: a receiver's self-signed certificate). */
  ca?: string | Buffer;
  /** Test seam: how host names are resolved; dns.lookup unless given. */
  lookup?: ResolveHost;
}

/**
 * POSTs to URLs that people chose (the /v1 API's `callback_url`) under the
 * same guard as the media fetch: https only, public unicast addresses only,
 * checked on the address actually connected to; redirects are not followed
 * (a receiver answers where it is asked). Never throws.
 */
export function createGuardedPoster(opts: GuardedPosterOptions): GuardedPost {
  const allowed = new Set((opts.allowedOrigins ?? []).map((o) => new URL(o).origin));
  const resolve = opts.lookup ?? systemResolve;
  const lookups = { guarded: connectLookup(resolve, true), allowed: connectLookup(resolve, false) };
  return (url, body, headers) =>
    new Promise((done) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return done({ error: "not a URL" });
      }
      if (target.protocol !== "https:") return done({ error: "not an https URL" });
      const exempt = allowed.has(target.origin);
      if (!exempt && parseIpAddress(target.hostname.replace(/^\[|\]$/g, "")) !== null && !isPublicAddress(target.hostname.replace(/^\[|\]$/g, ""))) {
        return done({ error: `${target.hostname} is not a public address` });
      }
      let settled = false;
      const finish = (value: { status: number } | { error: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        done(value);
      };
      const req = https.request(
        target,
        {
          method: "POST",
          lookup: exempt ? lookups.allowed : lookups.guarded,
          agent: false,
          ...(opts.ca !== undefined && { ca: opts.ca }),
          headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), "User-Agent": "wan-video-portal callback", ...headers },
        },
        (res) => {
          res.resume();
          res.on("end", () => finish({ status: res.statusCode ?? 0 }));
          res.on("error", () => finish({ status: res.statusCode ?? 0 }));
        },
      );
      req.on("error", (err: NodeJS.ErrnoException) => finish({ error: err.code ? `${err.code}: ${err.message}` : err.message }));
      const timer = setTimeout(() => finish({ error: `no answer within ${opts.timeoutMs} ms` }), opts.timeoutMs);
      req.end(body);
    });
}
