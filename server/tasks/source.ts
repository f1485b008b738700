/**
 * Where a task came from: the form, or the /v1 API with one of its owner's
 * personal keys (Task.apiKeyId). The words are shared by the history, the
 * task page, the admins' lists, the usage review and the CSV export.
 * Pure (the database is passed in), so client components import it too.
 */
import type { Db } from "../db/client.ts";

/** What names a key where people see it: its name and the prefix the keys page lists. */
export interface ApiKeyLabel {
  id: string;
  name: string;
  prefix: string;
}

export const API_KEY_LABEL_SELECT = { id: true, name: true, prefix: true } as const;

export type TaskSource =
  | { kind: "form" }
  /** name and prefix null when the key's row was not looked up (lists that do not show the source). */
  | { kind: "api"; keyId: string; name: string | null; prefix: string | null };

export function taskSourceOf(apiKeyId: string | null, label?: ApiKeyLabel | null): TaskSource {
  if (!apiKeyId) return { kind: "form" };
  return { kind: "api", keyId: apiKeyId, name: label?.name ?? null, prefix: label?.prefix ?? null };
}

/** The key as the keys page lists it: “Mia's notebook” (wvp_Ab3dE6gH…). */
export function keyLabel(name: string, prefix: string): string {
  return `“${name}” (${prefix}…)`;
}

/** "Form", or "API key “Mia's notebook” (wvp_Ab3dE6gH…)". */
export function sourceLabel(source: TaskSource): string {
  if (source.kind === "form") return "Form";
  return source.name !== null && source.prefix !== null ? `API key ${keyLabel(source.name, source.prefix)}` : "API key";
}

/**
 * The names of the keys `ids` (repeats and nulls allowed), in one query, and
 * none at all when there is no key among them: a page of form-made tasks
 * costs nothing more.
 */
export async function apiKeyLabels(db: Db, ids: Iterable<string | null>): Promise<Map<string, ApiKeyLabel>> {
  const wanted = [...new Set([...ids].filter((id): id is string => id !== null))];
  if (wanted.length === 0) return new Map();
  const rows = await db.apiKey.findMany({ where: { id: { in: wanted } }, select: API_KEY_LABEL_SELECT });
  return new Map(rows.map((k) => [k.id, k]));
}
