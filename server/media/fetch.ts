/**
 * Fetches a media URL once so its file can be checked before the paid call.
 *
 * - https only (plain http only to loopback, and only when allowed: the local
 *   simulator); redirects are followed (at most 3) under the same rules.
 * - Never connects to private, loopback or link-local addresses (unless
 *   loopback is allowed): the addresses are checked as resolved, at connect
 *   time, so a user cannot point the portal at its own network.
 * - Refuses a file over the byte cap without downloading it: Content-Length
 *   first, then by counting while streaming.
 * - Whatever goes wrong on the way (DNS, refused, timeout, HTTP error) gives
 *   null: "could not check", which is not a validation failure.
 */
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { isAllowedMediaUrl } from "../generation/request-schema.ts";

export type FetchedMedia =
  | { bytes: Uint8Array; contentType?: string }
  /** The file is larger than the cap; `size` when the server said how large. */
  | { tooLarge: true; size?: number; contentType?: string };

/** One download of `url`, capped at `opts.maxBytes` (and the fetcher's own cap); null when it cannot be fetched. */
export type MediaFetcher = (url: string, opts?: { maxBytes?: number }) => Promise<FetchedMedia | null>;

export interface MediaFetcherOptions {
  /** Never keeps more than this many bytes of one file. */
  maxBytes: number;
  /** For the whole download, redirects included. */
  timeoutMs: number;
  /** Allow http:// and connections to loopback addresses (the local simulator only). */
  allowLoopbackHttp: boolean;
  /** Default 3. */
  maxRedirects?: number;
}

const PRIVATE = new net.BlockList();
for (const [subnet, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  PRIVATE.addSubnet(subnet, prefix, "ipv4");
}
for (const [subnet, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  PRIVATE.addSubnet(subnet, prefix, "ipv6");
}
const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** Whether the portal may connect to `address`. */
export function isPublicAddress(address: string, allowLoopback = false): boolean {
  let addr = address.replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (mapped?.[1]) addr = mapped[1];
  const family = net.isIP(addr);
  if (family === 0) return false;
  const type = family === 6 ? "ipv6" : "ipv4";
  if (allowLoopback && LOOPBACK.check(addr, type)) return true;
  return !PRIVATE.check(addr, type);
}

function guardedLookup(allowLoopback: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", undefined);
      const list = addresses as unknown as dns.LookupAddress[];
      const first = list[0];
      if (!first || list.some((a) => !isPublicAddress(a.address, allowLoopback))) {
        const refused: NodeJS.ErrnoException = new Error(`${hostname} resolves to an address the portal does not fetch from`);
        refused.code = "EADDRNOTALLOWED";
        return callback(refused, "", undefined);
      }
      if (options.all) callback(null, list);
      else callback(null, first.address, first.family);
    });
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function createMediaFetcher(opts: MediaFetcherOptions): MediaFetcher {
  const maxRedirects = opts.maxRedirects ?? 3;
  const lookup = guardedLookup(opts.allowLoopbackHttp);

  return async (url, callOpts = {}) => {
    const cap = Math.min(opts.maxBytes, callOpts.maxBytes ?? Number.POSITIVE_INFINITY);
    const deadline = Date.now() + opts.timeoutMs;
    let current = url;
    for (let hop = 0; hop <= maxRedirects; hop++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return null;
      const answer = await getOnce(current, { cap, timeoutMs: remaining, lookup, allowLoopbackHttp: opts.allowLoopbackHttp });
      if (answer === null || !("redirect" in answer)) return answer;
      current = answer.redirect;
    }
    return null;
  };
}

type Answer = FetchedMedia | { redirect: string } | null;

function getOnce(
  url: string,
  o: { cap: number; timeoutMs: number; lookup: net.LookupFunction; allowLoopbackHttp: boolean },
): Promise<Answer> {
  if (!isAllowedMediaUrl(url, { allowLoopbackHttp: o.allowLoopbackHttp })) return Promise.resolve(null);
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, "");
  // An IP literal is connected to without a lookup: check it here.
  if (net.isIP(host) !== 0 && !isPublicAddress(host, o.allowLoopbackHttp)) return Promise.resolve(null);
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
