/**
 * Task lists: one's history and the admins' list of every task. Filtered
 * (list-filters.ts), sorted newest first, oldest first or dearest first, in
 * keyset pages: a page continues after the last row of the previous one,
 * named by an opaque cursor holding that row's sort value and id, so it
 * stays fast at any depth and neither skips nor repeats rows. The totals of
 * the same filtered set are the usage queries' (server/usage/usage.ts).
 */
import type { Db, Prisma } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { reportingTimeZone } from "../settings/settings.ts";
import { dayBounds } from "../usage/periods.ts";
import { likeLiteral, usageTotals, type TaskSetFilter, type UsageTotals } from "../usage/usage.ts";
import type { SessionUser } from "../users/users.ts";
import type { GENERATION_MODES } from "../generation/request-schema.ts";
import type { TASK_STATUSES, TaskListFilters, TaskSort } from "./list-filters.ts";
import { apiKeyLabels, type ApiKeyLabel } from "./source.ts";
import { TASK_VIEW_SELECT, toTaskView, type TaskOwner, type TaskView } from "./tasks.ts";

const OWNER_SELECT = { id: true, email: true, name: true } as const;

export interface TaskListScope {
  /** One person's tasks; absent: the whole team's (admins). */
  userId?: string;
  /** The owner of every row, when the list is one person's and they are known (one's own history): no join for it. */
  owner?: TaskOwner;
  /** The reporting time zone the filter's days are in. */
  timeZone: string;
  /** Created at or after / before these instants (the admins' list from the usage page). */
  since?: Date;
  until?: Date;
  /**
   * Name the API keys of tasks made through the API (TaskView.source): one
   * more query, only for a page that has such tasks. Off for callers that do
   * not show the source (the /v1 list).
   */
  withKeyNames?: boolean;
}

/** The filters as instants and conditions, one meaning for the rows and their totals. */
export function taskSetOf(scope: TaskListScope, f: TaskListFilters): TaskSetFilter {
  let from = scope.since;
  let to = scope.until;
  try {
    if (f.from) from = latest(from, dayBounds(f.from, scope.timeZone).from);
    if (f.to) to = earliest(to, dayBounds(f.to, scope.timeZone).to);
  } catch {
    throw new AppError("BAD_REQUEST", "Choose days that exist, as YYYY-MM-DD.");
  }
  if (f.from && f.to && f.to < f.from) throw new AppError("BAD_REQUEST", "The period ends before it starts: choose a later last day.");
  return {
    ...(scope.userId && { userId: scope.userId }),
    ...(from && { from }),
    ...(to && { to }),
    ...(f.status && { status: f.status }),
    ...(f.mode && { mode: f.mode }),
    ...(f.quality && { quality: f.quality }),
    ...(f.q && { search: f.q }),
  };
}

const latest = (a: Date | undefined, b: Date) => (a && a > b ? a : b);
const earliest = (a: Date | undefined, b: Date) => (a && a < b ? a : b);

function whereOf(set: TaskSetFilter): Prisma.TaskWhereInput {
  return {
    ...(set.userId && { userId: set.userId }),
    ...(set.status && { status: set.status as Prisma.TaskWhereInput["status"] }),
    ...(set.mode && { mode: set.mode as Prisma.TaskWhereInput["mode"] }),
    ...(set.quality && { quality: set.quality }),
    ...(set.search && { prompt: { contains: likeLiteral(set.search), mode: "insensitive" as const } }),
    ...((set.from || set.to) && { createdAt: { ...(set.from && { gte: set.from }), ...(set.to && { lt: set.to }) } }),
  };
}

interface Cursor {
  /** The last row's sort value: its createdAt (ISO) or its cost (decimal text, null when it has none yet). */
  v: string | null;
  id: string;
}

function encode(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.v, c.id])).toString("base64url");
}

function decode(cursor: string): Cursor {
  try {
    const [v, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [unknown, unknown];
    if (typeof id !== "string" || !(v === null || typeof v === "string")) throw new Error("shape");
    return { v, id };
  } catch {
    throw new AppError("BAD_REQUEST", "This page link is no longer valid; start from the first page.");
  }
}

function validDate(iso: string | null): Date {
  const at = new Date(iso ?? "");
  if (Number.isNaN(at.getTime())) throw new AppError("BAD_REQUEST", "This page link is no longer valid; start from the first page.");
  return at;
}

/** The order, and "after the cursor's row" in it. */
function orderOf(sort: TaskSort, cursor: Cursor | null): { orderBy: Prisma.TaskOrderByWithRelationInput[]; after: Prisma.TaskWhereInput } {
  switch (sort) {
    case "newest": {
      const at = cursor && validDate(cursor.v);
      return {
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        after: at && cursor ? { OR: [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: cursor.id } }] } : {},
      };
    }
    case "oldest": {
      const at = cursor && validDate(cursor.v);
      return {
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        after: at && cursor ? { OR: [{ createdAt: { gt: at } }, { createdAt: at, id: { gt: cursor.id } }] } : {},
      };
    }
    case "cost": {
      // Dearest first; tasks without a cost yet (running) last.
      const orderBy: Prisma.TaskOrderByWithRelationInput[] = [{ cost: { sort: "desc", nulls: "last" } }, { id: "desc" }];
      if (!cursor) return { orderBy, after: {} };
      if (cursor.v === null) return { orderBy, after: { cost: null, id: { lt: cursor.id } } };
      if (!/^\d+(\.\d+)?$/.test(cursor.v)) throw new AppError("BAD_REQUEST", "This page link is no longer valid; start from the first page.");
      return { orderBy, after: { OR: [{ cost: { lt: cursor.v } }, { cost: cursor.v, id: { lt: cursor.id } }, { cost: null }] } };
    }
  }
}

type TaskRow = Parameters<typeof toTaskView>[0] & { user: TaskOwner };

/** One page of a filtered, sorted task list, with the cursor of the next page (null on the last). */
export async function listTasks(
  db: Db,
  scope: TaskListScope,
  filters: TaskListFilters,
  page: { cursor?: string; limit?: number } = {},
): Promise<{ tasks: TaskView[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(page.limit ?? 50, 1), 200);
  const sort = filters.sort ?? "newest";
  const { orderBy, after } = orderOf(sort, page.cursor ? decode(page.cursor) : null);
  const where = { AND: [whereOf(taskSetOf(scope, filters)), after] };
  // Only the columns the list shows (not the stored request or usage); the owner joined only when not known.
  const owner = scope.owner && scope.userId === scope.owner.id ? scope.owner : null;
  const rows: Array<TaskRow> = owner
    ? (await db.task.findMany({ where, select: TASK_VIEW_SELECT, orderBy, take: limit + 1 })).map((t) => ({ ...t, user: owner }))
    : await db.task.findMany({ where, select: { ...TASK_VIEW_SELECT, user: { select: OWNER_SELECT } }, orderBy, take: limit + 1 });
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor =
    rows.length > limit && last ? encode({ v: sort === "cost" ? (last.cost === null ? null : last.cost.toString()) : last.createdAt.toISOString(), id: last.id }) : null;
  // The keys' names by the ids the rows carry: no join for a page of form-made tasks, one query for the rest (never one per row).
  const keys = scope.withKeyNames ? await apiKeyLabels(db, items.map((t) => t.apiKeyId)) : new Map<string, ApiKeyLabel>();
  return { tasks: items.map((t) => toTaskView(t, t.user, t.apiKeyId ? keys.get(t.apiKeyId) : null)), nextCursor };
}

/** Tasks, billed seconds and cost of the whole filtered set (every page), by the usage page's query. */
export function listTotals(db: Db, scope: TaskListScope, filters: TaskListFilters): Promise<UsageTotals> {
  return usageTotals(db, taskSetOf(scope, filters));
}

export interface HistoryDeps {
  db: Db;
  /** The reporting time zone when no admin has set one. */
  defaultTimeZone: string;
  currency: string;
}

/** A page of one's own history (the filters' days in the team's reporting time zone). */
export async function historyPage(deps: HistoryDeps, user: SessionUser, filters: TaskListFilters, page: { cursor?: string; limit?: number }) {
  const owner = { id: user.id, email: user.email, name: user.name };
  const zone = reportingTimeZone(deps.db, deps.defaultTimeZone);
  // Without days to place, the page does not need the time zone: both queries at once.
  const list = filters.from || filters.to ? zone.then((timeZone) => listTasks(deps.db, { userId: user.id, owner, timeZone, withKeyNames: true }, filters, page)) : listTasks(deps.db, { userId: user.id, owner, timeZone: deps.defaultTimeZone, withKeyNames: true }, filters, page);
  const [timeZone, result] = await Promise.all([zone, list]);
  return { ...result, timeZone };
}

/** The totals of one's filtered history (every page). */
export async function historyTotals(deps: HistoryDeps, user: SessionUser, filters: TaskListFilters): Promise<UsageTotals & { currency: string }> {
  const totals = await listTotals(deps.db, { userId: user.id, timeZone: await reportingTimeZone(deps.db, deps.defaultTimeZone) }, filters);
  return { ...totals, currency: deps.currency };
}

export interface AllTasksFilters {
  userId?: string;
  status?: (typeof TASK_STATUSES)[number];
  mode?: (typeof GENERATION_MODES)[number];
  /** Created at or after. */
  from?: Date;
  /** Created before. */
  to?: Date;
}

/**
 * Every task of the team for admins, newest first, filtered, in keyset pages:
 * "what is stuck?" and "what did this member make last week?".
 */
export function listAllTasks(db: Db, filters: AllTasksFilters, page: { cursor?: string; limit?: number } = {}): Promise<{ tasks: TaskView[]; nextCursor: string | null }> {
  return listTasks(
    db,
    { ...(filters.userId && { userId: filters.userId }), timeZone: "UTC", withKeyNames: true, ...(filters.from && { since: filters.from }), ...(filters.to && { until: filters.to }) },
    { ...(filters.status && { status: filters.status }), ...(filters.mode && { mode: filters.mode }) },
    page,
  );
}
