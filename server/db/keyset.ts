/**
 * Keyset pages for newest-first lists (the audit log, the admins' task list):
 * a page continues after the last row of the previous one, named by an
 * opaque cursor holding that row's time and id. Unlike an offset, it stays
 * fast at any depth and does not skip or repeat rows when new ones arrive.
 */
import { AppError } from "../errors.ts";

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString("base64url");
}

export function decodeCursor(cursor: string): { at: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const at = new Date(iso ?? "");
  if (!id || Number.isNaN(at.getTime())) throw new AppError("BAD_REQUEST", "This page link is no longer valid; start from the first page.");
  return { at, id };
}

/** The Prisma condition "older than the cursor's row" for a list ordered by (`field` desc, id desc). */
export function olderThan<F extends string>(field: F, cursor: string | undefined): Record<string, unknown> {
  if (!cursor) return {};
  const after = decodeCursor(cursor);
  return { OR: [{ [field]: { lt: after.at } }, { [field]: after.at, id: { lt: after.id } }] };
}

/** The page's rows and the cursor of the next page (null on the last), from `limit + 1` rows fetched. */
export function pageOf<T extends { id: string }>(rows: T[], limit: number, timeOf: (row: T) => Date): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(timeOf(last), last.id) : null };
}
