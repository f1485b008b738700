/**
 * Which addresses the portal may fetch media from: public unicast only, never
 * this computer, a private network, link-local (cloud metadata), shared or
 * reserved space. The classification is ipaddr.js's (its `range()` names every
 * special-purpose range); this module only adds what that table does not
 * decide. Also used in the browser by the request schema, so no Node imports.
 */
import ipaddr from "ipaddr.js";

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

/**
 * IPv6 global unicast (RFC 4291 2.4). ipaddr.js calls every address outside
 * its special table "unicast", including unassigned space and the deprecated
 * IPv4-compatible form ::a.b.c.d (::/96), which it does not list.
 */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3") as [IPv6, number];

/** NAT64's well-known prefix (RFC 6052): the IPv4 address is the last 32 bits. */
const NAT64_WELL_KNOWN = ipaddr.parseCIDR("64:ff9b::/96") as [IPv6, number];

/**
 * An IP address written the plain way (dotted decimal, or IPv6 with optional
 * brackets), parsed; null for anything else. The URL parser and the resolver
 * always give these spellings; other IPv4 spellings (127.1, 0x7f000001, octal)
 * are not accepted here so that nothing is classified differently from how it
 * would be connected to.
 */
export function parseIpAddress(text: string): IPv4 | IPv6 | null {
  const bare = text.replace(/^\[(.*)\]$/, "$1");
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (!bare.includes(":") || !ipaddr.IPv6.isValid(bare)) return null;
  // ipaddr.js reads "::a.b.c.d" as IPv4-mapped (::ffff:a.b.c.d); the system
  // reads it as the IPv4-compatible address ::a.b.c.d (and prints those so).
  const compatible = /^::(\d+\.\d+\.\d+\.\d+)$/.exec(bare)?.[1];
  if (compatible !== undefined) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(compatible)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(compatible).octets;
    return new ipaddr.IPv6([0, 0, 0, 0, 0, 0, (a << 8) | b, (c << 8) | d]);
  }
  return ipaddr.IPv6.parse(bare);
}

/** The IPv4 address an IPv6 one stands for when the network hands it to IPv4: IPv4-mapped and NAT64. */
function embeddedIPv4(ip: IPv6): IPv4 | null {
  if (ip.isIPv4MappedAddress()) return ip.toIPv4Address();
  if (ip.match(NAT64_WELL_KNOWN)) {
    const [hi = 0, lo = 0] = ip.parts.slice(6);
    return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  }
  return null;
}

/**
 * Whether the portal may connect to `address` (an IP address, brackets
 * allowed): public unicast only. An IPv4-mapped or NAT64 address is judged by
 * the IPv4 address inside it; the other transition forms (6to4, Teredo,
 * RFC 6145, local-use NAT64, IPv4-compatible) are refused outright, since no
 * media host needs them and their embedded address is easy to disguise.
 * Anything that is not an IP address is not public.
 */
export function isPublicAddress(address: string): boolean {
  const ip = parseIpAddress(address);
  if (!ip) return false;
  if (ip instanceof ipaddr.IPv4) return ip.range() === "unicast";
  // A zone only makes sense on a link-local address; never public.
  if (ip.zoneId) return false;
  const inner = embeddedIPv4(ip);
  if (inner) return inner.range() === "unicast";
  return ip.range() === "unicast" && ip.match(GLOBAL_UNICAST_V6);
}

/** A URL host name without brackets, lower case, without the trailing dot of a fully qualified name. */
function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase().replace(/\.$/, "");
}

function isLocalhostName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost");
}

/**
 * Whether a URL's host (as `new URL(...).hostname` spells it) names this
 * computer or a private network by its spelling alone: `localhost`,
 * `*.localhost`, or an IP literal that is not public. A syntactic check for
 * messages; the fetcher still checks the addresses a name resolves to.
 */
export function isLocalHostname(hostname: string): boolean {
  const host = bareHost(hostname);
  if (isLocalhostName(host)) return true;
  return parseIpAddress(host) !== null && !isPublicAddress(host);
}

/** An IPv4-mapped IPv6 address as the IPv4 address it is; any other address as it is. */
export function unmapped(ip: IPv4 | IPv6): IPv4 | IPv6 {
  return ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress() ? ip.toIPv4Address() : ip;
}

/** Whether an IP address (a TCP peer's, say) is loopback: 127.0.0.0/8, ::1, or IPv4-mapped 127.x.x.x. */
export function isLoopbackAddress(address: string): boolean {
  const ip = parseIpAddress(address.replace(/%.*$/, ""));
  return ip !== null && unmapped(ip).range() === "loopback";
}

/** Whether a URL's host is this computer: `localhost`, `*.localhost`, or a loopback IP literal (IPv4-mapped included). */
export function isLoopbackHostname(hostname: string): boolean {
  const host = bareHost(hostname);
  return isLocalhostName(host) || isLoopbackAddress(host);
}
