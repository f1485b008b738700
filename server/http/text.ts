/**
 * Text the portal cannot store is bad input, refused as such (400) before it
 * reaches the database: PostgreSQL refuses NUL characters in text, and
 * invalid UTF-8 (or a lone UTF-16 surrogate from a JSON escape) would be
 * silently replaced. Without these checks such input surfaced as a database
 * error (500, with the driver's message).
 */
import { AppError } from "../errors.ts";

const NOT_TEXT = "The request contains characters that are not text (a NUL byte or invalid UTF-8); remove them and try again.";

/** A NUL character or a UTF-16 surrogate without its pair. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/** `value` with every unstorable character replaced by U+FFFD, for log lines built from input. */
export function storableText(value: string): string {
  return value.replace(new RegExp(UNSTORABLE.source, "g"), "\ufffd");
}

/** The path (dotted) of the first string in `value` that cannot be stored, or null; object keys count too. */
export function findUnstorableText(value: unknown, path = "", depth = 0): string | null {
  if (typeof value === "string") return isStorableText(value) ? null : path || "(input)";
  if (depth > 32 || typeof value !== "object" || value === null) return null;
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (!isStorableText(key)) return at;
    const found = findUnstorableText(child, at, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Throws BAD_REQUEST when some string in `value` cannot be stored; names the field. */
export function assertStorableInput(value: unknown): void {
  const at = findUnstorableText(value);
  if (at !== null) throw new AppError("BAD_REQUEST", NOT_TEXT, { [at.split(".")[0] || "_form"]: [NOT_TEXT] });
}

/** Throws BAD_REQUEST for a URL whose path or query decodes to something that is not storable text. */
export function assertCleanUrl(url: string): void {
  const { pathname, search } = new URL(url);
  for (const part of [pathname, search]) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(part.replace(/\+/g, " "));
    } catch {
      throw new AppError("BAD_REQUEST", NOT_TEXT);
    }
    if (!isStorableText(decoded)) throw new AppError("BAD_REQUEST", NOT_TEXT);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes bytes as UTF-8, refusing invalid sequences and NUL characters (BAD_REQUEST). */
export function decodeStrictUtf8(bytes: Uint8Array): string {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new AppError("BAD_REQUEST", NOT_TEXT);
  }
  if (text.includes("\u0000")) throw new AppError("BAD_REQUEST", NOT_TEXT);
  return text;
}
