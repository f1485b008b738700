/**
 * The client address of a request, decided once by the portal's web server
 * (server/http/web-server.ts) and handed to the app in one header that the
 * server always overwrites, so no client can choose it. X-Forwarded-For,
 * which any client can send, is believed only when the connection comes from
 * a proxy named in TRUSTED_PROXIES, and then only up to the first address
 * that is not itself a trusted proxy (read from the right).
 */
import net from "node:net";

/** Set by the web server on every request it passes to Next.js; any incoming copy is replaced. */
export const CLIENT_ADDRESS_HEADER = "x-portal-client-address";

/** `::ffff:1.2.3.4` -> `1.2.3.4`; brackets and zone ids removed; null when not an IP address. */
export function normalizeAddress(raw: string | undefined | null): string | null {
  if (!raw) return null;
  let address = raw.trim().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) address = mapped[1];
  return net.isIP(address) === 0 ? null : address.toLowerCase();
}

export interface TrustedProxies {
  trusts(address: string): boolean;
}

/** TRUSTED_PROXIES: comma-separated addresses and CIDR ranges, and/or "loopback". Throws on a malformed entry. */
export function parseTrustedProxies(spec: string): TrustedProxies {
  const list = new net.BlockList();
  let any = false;
  for (const raw of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    any = true;
    if (raw === "loopback") {
      list.addSubnet("127.0.0.0", 8, "ipv4");
      list.addAddress("::1", "ipv6");
      continue;
    }
    const [addr, prefix] = raw.split("/");
    const address = normalizeAddress(addr);
    if (!address) throw new Error(`TRUSTED_PROXIES: "${raw}" is not an address or CIDR range`);
    const type = net.isIP(address) === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(address, type);
    else {
      const bits = Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (type === "ipv6" ? 128 : 32)) throw new Error(`TRUSTED_PROXIES: bad prefix in "${raw}"`);
      list.addSubnet(address, bits, type);
    }
  }
  return {
    trusts(address) {
      if (!any) return false;
      const a = normalizeAddress(address);
      return a !== null && list.check(a, net.isIP(a) === 6 ? "ipv6" : "ipv4");
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
  return normalizeAddress(headers.get(CLIENT_ADDRESS_HEADER));
}
