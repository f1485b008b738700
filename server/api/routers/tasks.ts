import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { httpMediaOrigins, type Config } from "../../config.ts";
import { createGenerationInputSchema } from "../../generation/request-schema.ts";
import type { Services } from "../../services.ts";
import { getTaskDetail, listTaskTimeline, type DetailDeps } from "../../tasks/detail.ts";
import { draftFromTask } from "../../tasks/drafts.ts";
import { deleteTaskFiles, type FilesDeps } from "../../tasks/files.ts";
import { taskListFiltersSchema } from "../../tasks/list-filters.ts";
import { historyPage, historyTotals, type HistoryDeps } from "../../tasks/listing.ts";
import { cancelTask, createTask, listTasksForUser, taskActivity, toTaskView } from "../../tasks/tasks.ts";
import { createTRPCRouter, protectedProcedure } from "../trpc.ts";

const taskId = z.object({ id: z.string().min(1).max(100) });

const filesDeps = (s: Services): FilesDeps => ({ db: s.db, storage: s.storage, serverSecret: s.config.authSecret });
const detailDeps = (s: Services): DetailDeps => ({ ...filesDeps(s), policy: s.config.worker, uploadAvailability: s.uploadAvailability });

/**
 * The create input for one configuration: the request fields, with the http
 * origins it allows (the simulator's and the portal's own, in simulator mode
 * only), and the form's idempotency key.
 */
function buildCreateInput(config: Config) {
  const generationInput = createGenerationInputSchema({ httpOrigins: httpMediaOrigins(config).request });
  return z.intersection(generationInput, z.object({ clientRequestId: z.uuid().optional() }));
}
type CreateInput = z.input<ReturnType<typeof buildCreateInput>>;
const createInputs = new WeakMap<Config, ReturnType<typeof buildCreateInput>>();
/** Built once per configuration (the process has one). */
function createInputFor(config: Config): ReturnType<typeof buildCreateInput> {
  let schema = createInputs.get(config);
  if (!schema) createInputs.set(config, (schema = buildCreateInput(config)));
  return schema;
}

const historyDeps = (services: { db: HistoryDeps["db"]; config: Config }): HistoryDeps => ({
  db: services.db,
  defaultTimeZone: services.config.defaultTimeZone,
  currency: services.config.prices.currency,
});

export const tasksRouter = createTRPCRouter({
  create: protectedProcedure
    // Typed here for the client; parsed below, with the http origins of the configuration in the context.
    .input((raw: unknown) => raw as CreateInput)
    .mutation(async ({ ctx, input }) => {
      const parsed = createInputFor(ctx.services.config).safeParse(input);
      // As tRPC does for its own input parser: the zod error is the cause (fieldErrors in trpc.ts).
      if (!parsed.success) throw new TRPCError({ code: "BAD_REQUEST", cause: parsed.error });
      const { clientRequestId, ...request } = parsed.data;
      return toTaskView(await createTask(ctx.services.taskDeps, ctx.user, request, { clientRequestId }), ctx.user);
    }),

  /** A task's page: parameters, inputs, what the portal is doing, why it failed, the viewer's actions. */
  get: protectedProcedure.input(taskId).query(({ ctx, input }) => getTaskDetail(detailDeps(ctx.services), ctx.user, input.id)),

  /** A task's timeline (its event log). */
  timeline: protectedProcedure.input(taskId).query(({ ctx, input }) => listTaskTimeline(ctx.services.db, ctx.user, input.id)),

  /** The owner cancels a task whose paid call has not been attempted. */
  cancel: protectedProcedure.input(taskId).mutation(async ({ ctx, input }) => toTaskView(await cancelTask(ctx.services.db, ctx.user, input.id), ctx.user)),

  /** The owner deletes a finished task's video and uploaded inputs from the portal's storage. */
  deleteFiles: protectedProcedure.input(taskId).mutation(({ ctx, input }) => deleteTaskFiles(filesDeps(ctx.services), ctx.user, input.id)),

  /** One's running tasks and those that ended since `since` (the portal-wide "task ended" notice). */
  activity: protectedProcedure
    .input(z.object({ since: z.coerce.date().optional() }).optional())
    .query(({ ctx, input }) => taskActivity(ctx.services.db, ctx.user, input?.since)),

  /** One's history: filtered, sorted, in keyset pages. */
  history: protectedProcedure
    .input(taskListFiltersSchema.extend({ cursor: z.string().max(500).optional(), limit: z.number().int().min(1).max(100).optional() }))
    .query(({ ctx, input: { cursor, limit, ...filters } }) => historyPage(historyDeps(ctx.services), ctx.user, filters, { cursor, limit })),

  /** The totals of one's filtered history (every page). */
  historyTotals: protectedProcedure.input(taskListFiltersSchema).query(({ ctx, input }) => historyTotals(historyDeps(ctx.services), ctx.user, input)),

  /**
   * The form's values from one of the caller's tasks (or anyone's, for
   * admins): "again" with its settings, "continue" with its portal copy as
   * the clip (copied into uploads, which writes storage: a mutation).
   */
  draftFrom: protectedProcedure
    .input(z.object({ taskId: z.string().min(1).max(100), as: z.enum(["again", "continue"]) }))
    .mutation(({ ctx, input }) =>
      draftFromTask(
        { db: ctx.services.db, uploads: ctx.services.uploadDeps, limit: ctx.services.config.mediaCheckLimit, uploadAvailability: ctx.services.uploadAvailability },
        ctx.user,
        input,
      ),
    ),

  mine: protectedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).optional() }).optional())
    .query(async ({ ctx, input }) => (await listTasksForUser(ctx.services.db, ctx.user, { limit: input?.limit })).map((t) => toTaskView(t, ctx.user))),
});
