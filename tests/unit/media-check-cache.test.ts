/**
 * Recent checks of the same file are reused for a short time
 * (createMediaCheckCache): one download for many submits of one image, none
 * kept for a file that could not be had, none past the time, and never for
 * URLs the cache is told not to keep (own uploads).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkMediaUrl, createMediaCheckCache, type MediaCheckDeps } from "@/server/media/check.ts";
import type { FetchedMedia } from "@/server/media/fetch.ts";

const png = new Uint8Array(readFileSync(new URL("../fixtures/media/image-239x320.png", import.meta.url)));
const URL_A = "https://cdn.example.com/a.png";

function counting(answer: () => FetchedMedia | null): { fetchMedia: MediaCheckDeps["fetchMedia"]; calls: string[] } {
  const calls: string[] = [];
  return { calls, fetchMedia: async (url) => (calls.push(url), answer()) };
}

describe("media check cache", () => {
  it("checks a file once for concurrent and repeated checks within the time, again after it", async () => {
    let now = 0;
    const cache = createMediaCheckCache({ ttlMs: 30_000, maxEntries: 10, now: () => now });
    const f = counting(() => ({ bytes: png, contentType: "image/png" }));
    const results = await Promise.all(Array.from({ length: 5 }, () => checkMediaUrl("image_start", URL_A, { fetchMedia: f.fetchMedia, cache })));
    expect(f.calls).toHaveLength(1);
    for (const r of results) expect(r).toMatchObject({ facts: { kind: "image", width: 239, height: 320 } });
    now = 29_999;
    await checkMediaUrl("image_start", URL_A, { fetchMedia: f.fetchMedia, cache });
    expect(f.calls).toHaveLength(1);
    now = 30_000;
    await checkMediaUrl("image_start", URL_A, { fetchMedia: f.fetchMedia, cache });
    expect(f.calls).toHaveLength(2);
    // Another field (other words, other limits) is its own check.
    await checkMediaUrl("image_end", URL_A, { fetchMedia: f.fetchMedia, cache });
    expect(f.calls).toHaveLength(3);
  });

  it("keeps nothing for a file that could not be fetched, nor for URLs it must not keep, and holds at most maxEntries", async () => {
    const cache = createMediaCheckCache({ ttlMs: 30_000, maxEntries: 2, cacheable: (url) => !url.includes("/api/uploads/") });
    const missing = counting(() => null);
    expect(await checkMediaUrl("image_start", URL_A, { fetchMedia: missing.fetchMedia, cache })).toMatchObject({ unchecked: true });
    await checkMediaUrl("image_start", URL_A, { fetchMedia: missing.fetchMedia, cache });
    expect(missing.calls).toHaveLength(2);

    const f = counting(() => ({ bytes: png }));
    const own = "https://portal.example.com/api/uploads/x.png?token=t";
    await checkMediaUrl("image_start", own, { fetchMedia: f.fetchMedia, cache });
    await checkMediaUrl("image_start", own, { fetchMedia: f.fetchMedia, cache });
    expect(f.calls).toHaveLength(2);

    for (const u of ["https://e.example/1.png", "https://e.example/2.png", "https://e.example/3.png", "https://e.example/1.png"]) {
      await checkMediaUrl("image_start", u, { fetchMedia: f.fetchMedia, cache });
    }
    // 1 was pushed out by 3 (two entries at most), so it was fetched again.
    expect(f.calls.filter((u) => u === "https://e.example/1.png")).toHaveLength(2);
  });
});
