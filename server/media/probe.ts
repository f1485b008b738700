/**
 * Reading the facts the media rules need from a file's bytes, with
 * established packages only: image-size (image type and pixel size), mp4box
 * (MP4 tracks, size and duration), music-metadata (audio container, codec and
 * duration). Each probe returns null when it cannot read the file.
 */
import { imageSize } from "image-size";
import { createFile, MP4BoxBuffer, type Movie } from "mp4box";
import { parseBuffer } from "music-metadata";

export interface ImageProbe {
  /** image-size's type name: png, jpg, webp, bmp, gif, svg, ... */
  type: string;
  width: number;
  height: number;
}

export interface ClipProbe {
  width: number;
  height: number;
  durationSeconds: number;
  codec?: string;
}

export interface AudioProbe {
  /** "wav" or "mp3" when it is one of those; otherwise "other". */
  format: "wav" | "mp3" | "other";
  /** What music-metadata calls it, for messages: "Ogg (Vorbis I)", "FLAC", ... */
  description: string;
  durationSeconds?: number;
}

export function probeImage(bytes: Uint8Array): ImageProbe | null {
  try {
    const size = imageSize(bytes);
    if (!size.type || !(size.width > 0) || !(size.height > 0)) return null;
    // EXIF orientation swaps the sides when shown; both sides are checked anyway.
    return { type: size.type, width: size.width, height: size.height };
  } catch {
    return null;
  }
}

/**
 * ISO BMFF files start with a box whose type is one of these (normally
 * "ftyp"). Checked first so that mp4box is never handed, and does not log
 * about, something that is plainly not an MP4.
 */
const FIRST_BOX_TYPES = new Set(["ftyp", "moov", "mdat", "free", "skip", "wide", "pnot"]);

function looksLikeIsoBmff(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  return FIRST_BOX_TYPES.has(String.fromCharCode(...bytes.subarray(4, 8)));
}

export function probeMp4(bytes: Uint8Array): ClipProbe | null {
  if (!looksLikeIsoBmff(bytes)) return null;
  let info: Movie | null = null;
  let failed = false;
  try {
    const file = createFile();
    file.onReady = (movie) => {
      info = movie;
    };
    file.onError = () => {
      failed = true;
    };
    // mp4box reads ArrayBuffers tagged with their offset in the file.
    const copy = bytes.slice().buffer;
    file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(copy, 0), true);
    file.flush();
  } catch {
    return null;
  }
  const movie = info as Movie | null;
  if (failed || !movie) return null;
  const track = movie.videoTracks[0];
  if (!track) return null;
  const width = track.video?.width || track.track_width;
  const height = track.video?.height || track.track_height;
  let durationSeconds = movie.timescale > 0 ? movie.duration / movie.timescale : 0;
  if (!(durationSeconds > 0) && track.timescale > 0) durationSeconds = (track.samples_duration || track.duration) / track.timescale;
  if (!(width > 0) || !(height > 0) || !(durationSeconds > 0)) return null;
  return { width, height, durationSeconds, codec: track.codec };
}

export async function probeAudio(bytes: Uint8Array): Promise<AudioProbe | null> {
  try {
    const { format } = await parseBuffer(bytes, undefined, { duration: true, skipCovers: true });
    const container = format.container ?? "";
    const codec = format.codec ?? "";
    if (!container && !codec) return null;
    const isWav = container === "WAVE";
    const isMp3 = container === "MPEG" && /layer 3/i.test(codec);
    const description = codec && codec !== container ? `${container} (${codec})` : container || codec;
    return {
      format: isWav ? "wav" : isMp3 ? "mp3" : "other",
      description,
      ...(format.duration !== undefined && Number.isFinite(format.duration) && { durationSeconds: format.duration }),
    };
  } catch {
    return null;
  }
}
