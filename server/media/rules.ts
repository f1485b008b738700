/**
 * The provider's limits on the media files themselves (seed reference,
 * summarised in /work/shared/evolink/API-NOTES.md). Pure data: the form may
 * import it for hints. "MB" is read as 1,000,000 bytes, the stricter reading,
 * so a file we pass is never over the provider's limit.
 */
export const MB = 1_000_000;

export interface MediaRules {
  image: { minSide: number; maxSide: number; maxBytes: number; formats: readonly string[] };
  clip: { minSeconds: number; maxSeconds: number; minSide: number; maxSide: number; maxBytes: number };
  audio: { minSeconds: number; maxSeconds: number; maxBytes: number; formats: readonly ("wav" | "mp3")[] };
}

export const MEDIA_RULES: MediaRules = {
  // image-size type names; the formats the model's own API documents.
  image: { minSide: 240, maxSide: 8000, maxBytes: 20 * MB, formats: ["png", "jpg", "webp", "bmp"] },
  clip: { minSeconds: 2, maxSeconds: 10, minSide: 240, maxSide: 4096, maxBytes: 100 * MB },
  audio: { minSeconds: 2, maxSeconds: 30, maxBytes: 15 * MB, formats: ["wav", "mp3"] },
};

/** The largest file any rule accepts: the cap for a fetcher shared by all media. */
export function largestMediaBytes(rules: MediaRules = MEDIA_RULES): number {
  return Math.max(rules.image.maxBytes, rules.clip.maxBytes, rules.audio.maxBytes);
}

export function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${Number((bytes / MB).toFixed(1))} MB`;
  if (bytes >= 1000) return `${Number((bytes / 1000).toFixed(1))} kB`;
  return `${bytes} bytes`;
}

export function formatSeconds(seconds: number): string {
  return `${Number(seconds.toFixed(3))} s`;
}
