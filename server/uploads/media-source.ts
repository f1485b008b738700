/**
 * Where the portal gets a media file to check it: its own upload links
 * (<publicBaseUrl>/api/uploads/<uuid>.<ext>?token=...) are read straight from
 * storage through openUpload, which checks the token, and are never fetched
 * over HTTP (the portal does not call itself, so its own address never has
 * to be reachable or exempt from the network guard); every other URL goes to
 * the guarded network fetcher. Same contract as a MediaFetcher: null when the
 * file cannot be had, { tooLarge } over the cap.
 */
import type { FetchedMedia, MediaFetcher } from "../media/fetch.ts";
import { openUpload, type UploadDeps } from "./uploads.ts";

export interface MediaSourceDeps {
  /** The guarded network fetcher (createMediaFetcher), for every other URL. */
  fetcher: MediaFetcher;
  uploads: Pick<UploadDeps, "storage" | "serverSecret" | "publicBaseUrl">;
  /** Never keeps more than this many bytes of one upload (as the fetcher's own cap). */
  maxBytes: number;
}

/** The upload's file name when `url` is one of the portal's own upload links; null for any other URL. */
function ownUploadName(url: URL, publicBaseUrl: string): string | null {
  if (!URL.canParse(publicBaseUrl)) return null;
  const prefix = new URL(`${publicBaseUrl.replace(/\/+$/, "")}/api/uploads/`);
  if (url.origin !== prefix.origin || !url.pathname.startsWith(prefix.pathname)) return null;
  return url.pathname.slice(prefix.pathname.length);
}

/** Whether `url` is one of the portal's own upload links (the form shows those as files, not as links). */
export function isOwnUploadLink(url: string, publicBaseUrl: string): boolean {
  return URL.canParse(url) && ownUploadName(new URL(url), publicBaseUrl) !== null;
}

/** Reads an upload within `cap` bytes; null when there is no such file or the token does not open it. */
async function readUpload(deps: MediaSourceDeps["uploads"], name: string, token: string | null, cap: number): Promise<FetchedMedia | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    return null;
  }
  const object = await openUpload(deps, decoded, token).catch(() => null);
  if (!object) return null;
  const { contentType } = object;
  if (object.size > cap) {
    await object.body.cancel().catch(() => {});
    return { tooLarge: true, size: object.size, contentType };
  }
  const bytes = new Uint8Array(await new Response(object.body).arrayBuffer());
  return bytes.length > cap ? { tooLarge: true, size: bytes.length, contentType } : { bytes, contentType };
}

export function createMediaSource(deps: MediaSourceDeps): MediaFetcher {
  return async (url, opts = {}) => {
    if (!URL.canParse(url)) return null;
    const target = new URL(url);
    const name = ownUploadName(target, deps.uploads.publicBaseUrl);
    if (name === null) return deps.fetcher(url, opts);
    const cap = Math.min(deps.maxBytes, opts.maxBytes ?? Number.POSITIVE_INFINITY);
    return readUpload(deps.uploads, name, target.searchParams.get("token"), cap).catch(() => null);
  };
}
