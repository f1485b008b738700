import { z } from "zod";
import { loadConfig } from "../../config.ts";
import { createGenerationInputSchema } from "../../generation/request-schema.ts";
import { createTask, getTaskForUser, listTaskCallbacks, listTasksForUser, toTaskView } from "../../tasks/tasks.ts";
import { createTRPCRouter, protectedProcedure } from "../trpc.ts";

// The simulator serves sample media over http on loopback; accept it only then.
const generationInput = createGenerationInputSchema({ allowLoopbackHttp: loadConfig().provider.simulator });
/** The form's idempotency key rides along with the request fields. */
const createInput = z.intersection(generationInput, z.object({ clientRequestId: z.uuid().optional() }));

export const tasksRouter = createTRPCRouter({
  create: protectedProcedure
    .input(createInput)
    .mutation(async ({ ctx, input: { clientRequestId, ...request } }) =>
      toTaskView(await createTask(ctx.services.taskDeps, ctx.user, request, { clientRequestId })),
    ),

  get: protectedProcedure
    .input(z.object({ id: z.string().min(1).max(100) }))
    .query(async ({ ctx, input }) => toTaskView(await getTaskForUser(ctx.services.db, ctx.user, input.id))),

  callbacks: protectedProcedure
    .input(z.object({ id: z.string().min(1).max(100) }))
    .query(({ ctx, input }) => listTaskCallbacks(ctx.services.db, ctx.user, input.id)),

  mine: protectedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).optional() }).optional())
    .query(async ({ ctx, input }) => (await listTasksForUser(ctx.services.db, ctx.user, { limit: input?.limit })).map(toTaskView)),
});
