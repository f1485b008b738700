/**
 * Whether an uploaded file's link is one the provider can fetch, decided once
 * on the server from the configuration. The real provider downloads media
 * from the internet, so the portal's own address must be public https; the
 * local simulator runs on this machine, and the request schema accepts the
 * portal's own http address on loopback in that mode only (its origin is then
 * in `httpOrigins`, see httpMediaOrigins in server/config.ts). Pure, so the
 * page can pass the answer to the form as a prop.
 */
import { httpOriginOf, isAllowedMediaUrl } from "../generation/request-schema.ts";
import { parseIpAddress } from "../security/address.ts";

export type UploadAvailability = { enabled: true } | { enabled: false; reason: string };

export const UPLOADS_UNAVAILABLE = "Uploads need PUBLIC_BASE_URL to be a public https address; paste a file URL instead.";

/**
 * Host names that only mean something on a local network (.local, .internal,
 * no dot). localhost and non-public IP literals are refused by the request
 * schema's rule itself (server/security/address.ts).
 */
function isLocalNetworkName(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (parseIpAddress(host) !== null) return false;
  return host.endsWith(".local") || host.endsWith(".internal") || !host.includes(".");
}

export function uploadAvailability(opts: { publicBaseUrl: string; httpOrigins: readonly string[] }): UploadAvailability {
  const off = { enabled: false, reason: UPLOADS_UNAVAILABLE } as const;
  if (!URL.canParse(opts.publicBaseUrl)) return off;
  const base = new URL(opts.publicBaseUrl);
  // The same rule the request schema applies to the URL the form will hold.
  const sample = `${opts.publicBaseUrl.replace(/\/+$/, "")}/api/uploads/x.png`;
  if (!isAllowedMediaUrl(sample, { httpOrigins: opts.httpOrigins })) return off;
  const listed = opts.httpOrigins.some((o) => httpOriginOf(o) === base.origin);
  if (!listed && isLocalNetworkName(base.hostname)) return off;
  return { enabled: true };
}
