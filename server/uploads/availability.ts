/**
 * Whether an uploaded file's link is one the provider can fetch, decided once
 * on the server from the configuration. The real provider downloads media
 * from the internet, so the portal's own address must be public https; the
 * local simulator runs on this machine, and the request schema accepts http
 * links on loopback in that mode only. Pure, so the page can pass the answer
 * to the form as a prop.
 */
import net from "node:net";
import { isPublicAddress } from "../media/fetch.ts";
import { isAllowedMediaUrl } from "../generation/request-schema.ts";

export type UploadAvailability = { enabled: true } | { enabled: false; reason: string };

export const UPLOADS_UNAVAILABLE = "Uploads need PUBLIC_BASE_URL to be a public https address; paste a file URL instead.";

/** Host names that never lead to this machine from the internet. */
function isLocalHostname(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (net.isIP(host) !== 0) return !isPublicAddress(host);
  return host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal") || !host.includes(".");
}

export function uploadAvailability(opts: { publicBaseUrl: string; simulator: boolean }): UploadAvailability {
  const off = { enabled: false, reason: UPLOADS_UNAVAILABLE } as const;
  if (!URL.canParse(opts.publicBaseUrl)) return off;
  // The same rule the request schema applies to the URL the form will hold.
  const sample = `${opts.publicBaseUrl.replace(/\/+$/, "")}/api/uploads/x.png`;
  if (!isAllowedMediaUrl(sample, { allowLoopbackHttp: opts.simulator })) return off;
  if (!opts.simulator && isLocalHostname(new URL(opts.publicBaseUrl).hostname)) return off;
  return { enabled: true };
}
