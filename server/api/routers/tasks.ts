import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { httpMediaOrigins, type Config } from "../../config.ts";
import { createGenerationInputSchema } from "../../generation/request-schema.ts";
import { taskListFiltersSchema } from "../../tasks/list-filters.ts";
import { historyPage, historyTotals, type HistoryDeps } from "../../tasks/listing.ts";
import { draftFromTask } from "../../tasks/drafts.ts";
import { createTask, getTaskForUser, listTaskCallbacks, listTasksForUser, toTaskView } from "../../tasks/tasks.ts";
import { createTRPCRouter, protectedProcedure } from "../trpc.ts";

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

  get: protectedProcedure
    .input(z.object({ id: z.string().min(1).max(100) }))
    .query(async ({ ctx, input }) => {
      const task = await getTaskForUser(ctx.services.db, ctx.user, input.id);
      return toTaskView(task, task.user);
    }),

  callbacks: protectedProcedure
    .input(z.object({ id: z.string().min(1).max(100) }))
    .query(({ ctx, input }) => listTaskCallbacks(ctx.services.db, ctx.user, input.id)),

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
      draftFromTask({ db: ctx.services.db, uploads: ctx.services.uploadDeps, limit: ctx.services.config.mediaCheckLimit }, ctx.user, input),
    ),

  mine: protectedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).optional() }).optional())
    .query(async ({ ctx, input }) => (await listTasksForUser(ctx.services.db, ctx.user, { limit: input?.limit })).map((t) => toTaskView(t, ctx.user))),
});
