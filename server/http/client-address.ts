/**
 * The client address of a request, decided once by the portal's web server
 * (server/http/web-server.ts) and handed to the app in one header that the
 * server always overwrites, so no client can choose it. X-Forwarded-For,
 * which any client can send, is believed only when the connection comes from
 * a proxy named in TRUSTED_PROXIES, and then only up to the first address
 * that is not itself a trusted proxy (read from the right). The app believes
 * the header only in a process where that server runs (under `next start`
 * alone, anyone could send it).
 */
import ipaddr from "ipaddr.js";
import { parseIpAddress, unmapped } from "../security/address.ts";

/** Set by the web server on every request it passes to Next.js; any incoming copy is replaced. */
export const CLIENT_ADDRESS_HEADER = "x-portal-client-address";

const SERVED_BY_PORTAL = Symbol.for("wan-video-portal.web-server");

/** Called by the web server: from now on, this process's requests carry a client address it decided. */
export function markServedByPortalServer(): void {
  (globalThis as Record<symbol, unknown>)[SERVED_BY_PORTAL] = true;
}

/** Canonical text of an IP address (RFC 5952 for IPv6; IPv4-mapped as IPv4); null when not an IP address. */
export function normalizeAddress(raw: string | undefined | null): string | null {
  if (!raw) return null;
  const ip = parseIpAddress(raw.trim().replace(/%.*$/, ""));
  return ip ? unmapped(ip).toString() : null;
}

/**
 * The part of an address that stands for one client when counting failures:
 * the address itself for IPv4, its /64 for IPv6 (a subscriber gets a whole
 * /64, so single IPv6 addresses cost nothing to change).
 */
export function clientKeyOf(address: string): string {
  const ip = parseIpAddress(address);
  if (!ip || ip.kind() === "ipv4") return address;
  const prefix = ip.toNormalizedString().split(":").slice(0, 4).map((h) => h.replace(/^0+(?=.)/, "")).join(":");
  return `${prefix}::/64`;
}

export interface TrustedProxies {
  trusts(address: string): boolean;
}

/** TRUSTED_PROXIES: comma-separated addresses and CIDR ranges, and/or "loopback". Throws on a malformed entry. */
export function parseTrustedProxies(spec: string): TrustedProxies {
  const ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  for (const raw of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (raw === "loopback") {
      ranges.push(ipaddr.parseCIDR("127.0.0.0/8"), ipaddr.parseCIDR("::1/128"));
      continue;
    }
    const [addr = "", prefix] = raw.split("/");
    const ip = parseIpAddress(addr);
    if (!ip) throw new Error(`TRUSTED_PROXIES: "${raw}" is not an address or CIDR range`);
    const max = ip.kind() === "ipv6" ? 128 : 32;
    const bits = prefix === undefined ? max : Number(prefix);
    if (!Number.isInteger(bits) || bits < 0 || bits > max || (prefix !== undefined && !/^\d+$/.test(prefix))) {
      throw new Error(`TRUSTED_PROXIES: bad prefix in "${raw}"`);
    }
    ranges.push([ip, bits]);
  }
  return {
    trusts(address) {
      const parsed = parseIpAddress(address.replace(/%.*$/, ""));
      if (!parsed) return false;
      const ip = unmapped(parsed);
      return ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net as never, bits));
    },
  };
}

/**
 * The client's address: the connection's peer, unless the peer is a trusted
 * proxy; then the right-most X-Forwarded-For entry that is not a trusted
 * proxy (an unparsable entry stops the walk at the last good address).
 */
export function resolveClientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: TrustedProxies): string | null {
  let client = normalizeAddress(peer);
  if (client === null || !trusted.trusts(client)) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? "")).split(",").map((s) => s.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]);
    if (hop === null) break;
    client = hop;
    if (!trusted.trusts(hop)) break;
  }
  return client;
}

/** The client address the web server decided for this request, or null (not served by it). */
export function clientAddressOf(headers: Pick<Headers, "get">): string | null {
  if ((globalThis as Record<symbol, unknown>)[SERVED_BY_PORTAL] !== true) return null;
  return normalizeAddress(headers.get(CLIENT_ADDRESS_HEADER));
}
