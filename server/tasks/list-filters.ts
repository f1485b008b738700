/**
 * The filters of a task list (one's history, the admins' list of every
 * task): status, mode, quality, days of the reporting time zone, words of
 * the prompt, and the order. One schema for the tRPC input and the page's
 * URL, so a view can be shared and reloaded. Pure: safe in the browser.
 */
import { z } from "zod";
import { GENERATION_MODES, QUALITIES } from "../generation/request-schema.ts";

export const TASK_STATUSES = ["submitting", "pending", "processing", "completed", "failed"] as const;
export const TASK_SORTS = ["newest", "oldest", "cost"] as const;
export type TaskSort = (typeof TASK_SORTS)[number];

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a day is YYYY-MM-DD");

export const taskListFiltersSchema = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  mode: z.enum(GENERATION_MODES).optional(),
  quality: z.enum(QUALITIES).optional(),
  /** First day (inclusive), in the reporting time zone. */
  from: day.optional(),
  /** Last day (inclusive), in the reporting time zone. */
  to: day.optional(),
  /** Words the prompt contains (case-insensitive). */
  q: z.string().trim().min(1).max(200).optional(),
  sort: z.enum(TASK_SORTS).optional(),
});
export type TaskListFilters = z.infer<typeof taskListFiltersSchema>;

const KEYS = ["status", "mode", "quality", "from", "to", "q", "sort"] as const satisfies ReadonlyArray<keyof TaskListFilters>;

/** The filters in a page's URL; what does not parse is left out rather than refused (an old or edited link still opens). */
export function filtersFromSearchParams(params: URLSearchParams | Record<string, string | string[] | undefined>): TaskListFilters {
  const get = (k: string) => {
    const v = params instanceof URLSearchParams ? params.get(k) : params[k];
    return Array.isArray(v) ? v[0] : (v ?? undefined);
  };
  const out: Record<string, string> = {};
  for (const key of KEYS) {
    const value = get(key);
    if (value === undefined || value === "") continue;
    const one = taskListFiltersSchema.shape[key].safeParse(value);
    if (one.success && one.data !== undefined) out[key] = one.data;
  }
  return out as TaskListFilters;
}

/** The URL query of the filters, in a stable order, without empty ones (and without the default order). */
export function filtersToSearchParams(filters: TaskListFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = filters[key];
    if (value === undefined || value === "" || (key === "sort" && value === "newest")) continue;
    params.set(key, value);
  }
  return params;
}
