/**
 * One file checked as soon as the form is given it (an upload's link, or a
 * URL typed in), so a file that breaks a rule is refused beside its field
 * before anything is submitted: the request's URL rule, then the file itself
 * with the media rules (check.ts), fetched through the portal's media source
 * (own upload links from storage, anything else through the SSRF-guarded
 * fetcher). Each download is counted against the person's rate limit, shared
 * by every web instance (server/security/rate-limit.ts): the portal fetches
 * what people name, so nobody may make it download without bound. The submit
 * checks the files again (createTask), whatever this said.
 */
import { AppError } from "../errors.ts";
import { mediaUrlMessage, type MaterialName } from "../generation/request-schema.ts";
import { takeRateLimit, type RateLimitPolicy } from "../security/rate-limit.ts";
import type { Db } from "../db/client.ts";
import type { SessionUser } from "../users/users.ts";
import { checkMediaUrl, uncheckedMessage, type MediaCheckDeps, type MediaFacts } from "./check.ts";

export interface FileCheckDeps extends MediaCheckDeps {
  db: Db;
  /** The http origins links may use (config.ts `httpMediaOrigins(config).request`). */
  httpOrigins: readonly string[];
  /** Checks per person and window. */
  limit: RateLimitPolicy;
}

export type FileCheck =
  /** The file meets its field's rules. */
  | { status: "ok"; facts: MediaFacts; errors: [] }
  /** It does not (or its link is not one the provider could fetch); facts when it could be read. */
  | { status: "refused"; errors: string[]; facts?: MediaFacts }
  /** It could not be downloaded: not a refusal, the provider will judge it. */
  | { status: "unchecked"; notice: string; errors: [] };

export const rateLimitKey = (userId: string) => `media-check:${userId}`;

export async function checkMediaFile(deps: FileCheckDeps, user: Pick<SessionUser, "id">, input: { field: MaterialName; url: string }): Promise<FileCheck> {
  const url = input.url.trim();
  // The link rule costs nothing: not counted.
  const linkProblem = mediaUrlMessage(input.field, url, { httpOrigins: deps.httpOrigins });
  if (linkProblem) return { status: "refused", errors: [linkProblem] };
  const verdict = await takeRateLimit(deps.db, rateLimitKey(user.id), deps.limit);
  if (!verdict.allowed) {
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `That is a lot of files in a short time; the portal checks at most ${deps.limit.limit} ${deps.limit.windowSeconds === 60 ? "a minute" : `every ${deps.limit.windowSeconds} s`} for each person. It will check this one when you submit, or try again in ${verdict.retryAfterSeconds} s.`,
      undefined,
      { retryAfterSeconds: verdict.retryAfterSeconds },
    );
  }
  const checked = await checkMediaUrl(input.field, url, deps);
  if (checked.unchecked) return { status: "unchecked", notice: uncheckedMessage(input.field), errors: [] };
  if (checked.errors.length > 0 || !checked.facts) return { status: "refused", errors: checked.errors, ...(checked.facts && { facts: checked.facts }) };
  return { status: "ok", facts: checked.facts, errors: [] };
}
