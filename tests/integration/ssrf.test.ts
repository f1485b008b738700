/**
 * SSRF: whatever URL a member gives, the media fetcher never connects to this
 * computer or a private network. A "victim" HTTP listener on loopback (IPv4,
 * and IPv6 on the same port when the machine has it) counts every connection
 * and must see none, for each spelling of its address, for names that
 * resolve (through the fetcher's lookup seam) to non-public addresses, and
 * for redirects to any of those from an allowed origin. Every case runs with
 * the fetcher as in simulator mode (one other listener's origin allowed) and
 * as with the real provider (nothing allowed). Besides the victim's count,
 * every TCP connect this process starts is recorded (an async_hooks hook on
 * TCPCONNECTWRAP, which sees http and https alike), which shows that
 * addresses with no victim behind them (10.0.0.1, 169.254.169.254, ...) are
 * refused before connecting too. Real sockets, no mocked fetch.
 */
import async_hooks from "node:async_hooks";
import dns from "node:dns";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMediaFetcher, type MediaFetcher, type ResolveHost } from "@/server/media/fetch.ts";

const BODY = Buffer.from("the victim's secret");

/** Connections the victim listeners accepted, all addresses together. */
let victimConnections = 0;
let victimPort = 0;
let victimOnIPv6 = false;
const victims: http.Server[] = [];

/** The allowed listener, standing in for the simulator: serves /file, and /redirect?to=<url> (302). */
let allowed: http.Server;
let allowedOrigin = "";
let redirectsServed = 0;
let allowedConnections = 0;

/** Host names the fetcher asked the lookup seam for. */
const looked: string[] = [];

/** Every TCP connect started in this process (its address and port are set on it just after creation). */
const connects: Array<{ address?: string; port?: number }> = [];
const connectHook = async_hooks.createHook({
  init(_id, type, _trigger, resource) {
    if (type === "TCPCONNECTWRAP") connects.push(resource as { address?: string; port?: number });
  },
});
connectHook.enable();
/** "address port" of the connects started since `from`. */
const connectsSince = (from: number) => connects.slice(from).map((c) => `${c.address} ${c.port}`);

/** Test DNS: these names resolve to these addresses; any other name as the system resolves it. */
const FAKE_DNS: Record<string, Array<[string, 4 | 6]>> = {
  "loopback.test": [["127.0.0.1", 4]],
  "loopback-other.test": [["127.0.0.2", 4]],
  "private10.test": [["10.0.0.1", 4]],
  "private172.test": [["172.16.0.1", 4]],
  "private192.test": [["192.168.0.1", 4]],
  "test-net-1.test": [["192.0.2.1", 4]],
  "test-net-2.test": [["198.51.100.1", 4]],
  "test-net-3.test": [["203.0.113.1", 4]],
  "benchmark.test": [["198.18.0.1", 4]],
  "cgnat.test": [["100.64.0.1", 4]],
  "metadata.test": [["169.254.169.254", 4]],
  "zero.test": [["0.0.0.0", 4]],
  "multicast.test": [["224.0.0.1", 4]],
  "broadcast.test": [["255.255.255.255", 4]],
  "reserved.test": [["240.0.0.1", 4]],
  "loopback6.test": [["::1", 6]],
  "unspecified6.test": [["::", 6]],
  "unique-local.test": [["fd00::1", 6]],
  "link-local6.test": [["fe80::1", 6]],
  "site-local.test": [["fec0::1", 6]],
  "documentation6.test": [["2001:db8::1", 6]],
  "mapped-private.test": [["::ffff:10.0.0.1", 6]],
  "mapped-loopback.test": [["::ffff:127.0.0.1", 6]],
  "compatible-loopback.test": [["::127.0.0.1", 6]],
  "nat64-loopback.test": [["64:ff9b::7f00:1", 6]],
  "6to4-loopback.test": [["2002:7f00:1::1", 6]],
  "teredo.test": [["2001:0:4136:e378:8000:63bf:3fff:fdd2", 6]],
  // One public and one private address: refused as a whole, in either order.
  "mixed-public-first.test": [["93.184.216.34", 4], ["127.0.0.1", 4]],
  "mixed-private-first.test": [["127.0.0.1", 4], ["93.184.216.34", 4]],
  "mixed6.test": [["2606:4700:4700::1111", 6], ["::1", 6]],
};

const lookup: ResolveHost = async (hostname, family) => {
  looked.push(hostname);
  const fake = FAKE_DNS[hostname];
  if (!fake) return dns.promises.lookup(hostname, { all: true, family });
  return fake.filter(([, f]) => family === 0 || f === family).map(([address, f]) => ({ address, family: f }));
};

/** Every spelling of the victim's loopback address (P is its port), plain and as a URL's host. */
const LITERAL_HOSTS = [
  "127.0.0.1",
  "2130706433",
  "0x7f000001",
  "017700000001",
  "127.1",
  "127.0.0.1.",
  "127.000.000.001",
  "%31%32%37.0.0.1",
  "0",
  "0.0.0.0",
  "[::1]",
  "[0:0:0:0:0:0:0:1]",
  "[::ffff:127.0.0.1]",
  "[::ffff:7f00:1]",
  "[::]",
  "[::127.0.0.1]",
  "[64:ff9b::7f00:1]",
  "localhost",
  "LOCALHOST",
  "localhost.",
  "victim.localhost",
  // Usually in /etc/hosts for ::1; resolved by the system, through the guard.
  "ip6-localhost",
];
/** One URL to refuse; built when the test runs, once the ports are known. */
interface Case {
  label: string;
  url: () => string;
  /** Starts at the allowed origin, which redirects. */
  redirect: boolean;
  /** The test DNS name it leads to, if any. */
  name?: string;
}

const at = (scheme: string, host: string) => () => `${scheme}://${host}:${victimPort}/`;
const redirectTo = (to: () => string, status = 302) => () => `${allowedOrigin}/redirect?status=${status}&to=${encodeURIComponent(to())}`;

const LITERALS: Case[] = LITERAL_HOSTS.flatMap((host) =>
  ["http", "https"].map((scheme) => ({ label: `${scheme}://${host}:P/`, url: at(scheme, host), redirect: false })),
);
const NAMES: Case[] = Object.keys(FAKE_DNS).map((name) => ({ label: `https://${name}:P/ (test DNS)`, url: at("https", name), redirect: false, name }));
const REDIRECTS: Case[] = [
  ...[...LITERALS, ...NAMES].map((c) => ({ ...c, label: `allowed origin -> 302 -> ${c.label}`, url: redirectTo(c.url), redirect: true })),
  { label: "allowed origin -> 302 -> //127.0.0.1:P/ (scheme-relative)", url: redirectTo(() => `//127.0.0.1:${victimPort}/`), redirect: true },
  { label: "allowed origin -> 307 -> http://localhost:P/", url: redirectTo(at("http", "localhost"), 307), redirect: true },
  { label: "allowed origin -> 302 -> allowed origin -> 302 -> http://[::ffff:7f00:1]:P/", url: redirectTo(redirectTo(at("http", "[::ffff:7f00:1]"))), redirect: true },
];
const CASES: Case[] = [...LITERALS, ...NAMES, ...REDIRECTS];

const MODES = [
  ["simulator mode (another listener's origin allowed)", true],
  ["real-provider mode (no origin allowed)", false],
] as const;

const fetcherFor = (simulator: boolean): MediaFetcher =>
  createMediaFetcher({ maxBytes: 1_000_000, timeoutMs: 3_000, allowedOrigins: simulator ? [allowedOrigin] : [], lookup });

function listen(server: http.Server, port: number, host: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException) => resolve(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve(null);
    });
  });
}

function victim(): http.Server {
  const server = http.createServer((_req, res) => res.writeHead(200, { "Content-Type": "image/png" }).end(BODY));
  server.on("connection", () => victimConnections++);
  return server;
}

const close = (server: http.Server) =>
  new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });

beforeAll(async () => {
  // The victim on 127.0.0.1, and on ::1 at the same port when IPv6 is there.
  for (let attempt = 0; attempt < 10 && victims.length === 0; attempt++) {
    const v4 = victim();
    const err4 = await listen(v4, 0, "127.0.0.1");
    if (err4) throw err4;
    const port = (v4.address() as AddressInfo).port;
    const v6 = victim();
    const err6 = await listen(v6, port, "::1");
    if (err6?.code === "EADDRINUSE") {
      await close(v4);
      continue;
    }
    victimPort = port;
    victims.push(v4);
    if (!err6) {
      victims.push(v6);
      victimOnIPv6 = true;
    }
  }
  if (victims.length === 0) throw new Error("no free port for the victim on 127.0.0.1 and ::1");

  allowed = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/file") return res.writeHead(200, { "Content-Type": "image/png" }).end(Buffer.from("allowed"));
    if (url.pathname === "/redirect") {
      redirectsServed++;
      return res.writeHead(Number(url.searchParams.get("status") ?? 302), { Location: url.searchParams.get("to") ?? "/" }).end();
    }
    res.writeHead(404).end();
  });
  allowed.on("connection", () => allowedConnections++);
  const err = await listen(allowed, 0, "127.0.0.1");
  if (err) throw err;
  allowedOrigin = `http://127.0.0.1:${(allowed.address() as AddressInfo).port}`;
});

afterAll(async () => {
  connectHook.disable();
  await Promise.all([...victims, allowed].filter(Boolean).map(close));
});

describe("the victim is reachable (so that a refusal means something)", () => {
  it("answers a plain request on 127.0.0.1, and on ::1 when the machine has IPv6", async () => {
    const before = victimConnections;
    expect((await fetch(`http://127.0.0.1:${victimPort}/`)).status).toBe(200);
    if (victimOnIPv6) expect((await fetch(`http://[::1]:${victimPort}/`)).status).toBe(200);
    expect(victimConnections - before).toBe(victimOnIPv6 ? 2 : 1);
    // From here on, any connection is a failure.
    victimConnections = 0;
  });
});

describe.each(MODES)("in %s", (_mode, simulator) => {
  it.each(CASES)("refuses $label: null, nothing connected to", async ({ url, redirect, name }) => {
    const fetchMedia = fetcherFor(simulator);
    const before = victimConnections;
    const redirectsBefore = redirectsServed;
    const connectsBefore = connects.length;
    looked.length = 0;
    expect(await fetchMedia(url())).toBeNull();
    expect(victimConnections - before).toBe(0);
    // Nothing else was even connected to, except the allowed origin, which redirects (simulator mode).
    const toAllowed = `127.0.0.1 ${new URL(allowedOrigin).port}`;
    expect(connectsSince(connectsBefore).filter((c) => c !== toAllowed)).toEqual([]);
    // Simulator mode follows the allowed origin's redirect and refuses the next hop; without it, the first hop is refused.
    if (redirect) expect(redirectsServed > redirectsBefore).toBe(simulator);
    // A name the guard refuses is refused in the connection's lookup, before any connection.
    if (name && (!redirect || simulator)) expect(looked).toEqual([name]);
  });

  it("fetches the allowed origin only in simulator mode; another spelling, port or scheme of it is refused", async () => {
    const fetchMedia = fetcherFor(simulator);
    const port = new URL(allowedOrigin).port;
    const file = simulator ? { bytes: new Uint8Array(Buffer.from("allowed")), contentType: "image/png" } : null;
    expect(await fetchMedia(`${allowedOrigin}/file`)).toEqual(file);
    expect(await fetchMedia(`${allowedOrigin}/redirect?to=/file`)).toEqual(file);
    // The same origin written as a decimal number is the same origin (the URL parser normalises it).
    expect(await fetchMedia(`http://2130706433:${port}/file`)).toEqual(file);
    const before = allowedConnections;
    for (const other of [`http://localhost:${port}/file`, `http://[::ffff:7f00:1]:${port}/file`, `https://127.0.0.1:${port}/file`, `http://127.0.0.2:${port}/file`]) {
      expect(await fetchMedia(other), other).toBeNull();
    }
    expect(allowedConnections).toBe(before);
  });
});

describe("after every case", () => {
  it(`the victim saw no connection at all (${CASES.length} URLs x ${MODES.length} modes)`, () => {
    expect(victimConnections).toBe(0);
  });
});
