/** Media probing and the media rules: see check.ts (rules on files), fetch.ts (downloads), probe.ts, rules.ts. */
export { checkGenerationMedia, checkMediaBytes, createMediaCheckCache, hasFieldErrors, MEDIA_KIND_OF, summarizeFieldErrors } from "./check.ts";
export type { MediaCheckCache, MediaCheckDeps, MediaCheckResult, MediaFacts, MediaKind } from "./check.ts";
export { createMediaFetcher } from "./fetch.ts";
export type { FetchedMedia, MediaFetcher, MediaFetcherOptions, ResolveHost } from "./fetch.ts";
export { probeAudio, probeImage, probeMp4 } from "./probe.ts";
export type { AudioProbe, ClipProbe, ImageProbe } from "./probe.ts";
export { formatBytes, formatSeconds, largestMediaBytes, MB, MEDIA_RULES } from "./rules.ts";
export type { MediaRules } from "./rules.ts";
