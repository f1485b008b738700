import { z } from "zod";
import { setBudget } from "../../budgets/budgets.ts";
import { setReportingTimeZone } from "../../settings/settings.ts";
import { periodSpecSchema } from "../../usage/periods.ts";
import { myBudget, myUsage, teamUsage, type UsageDeps } from "../../usage/service.ts";
import type { Context } from "../trpc.ts";
import { adminProcedure, createTRPCRouter, protectedProcedure } from "../trpc.ts";

const usageDeps = (ctx: Context): UsageDeps => ({ db: ctx.services.db, defaultTimeZone: ctx.services.config.defaultTimeZone, currency: ctx.services.config.prices.currency });

/** Usage and budgets: the team's (admins) and one's own. */
export const usageRouter = createTRPCRouter({
  team: adminProcedure
    .input(z.object({ period: periodSpecSchema, groupBy: z.enum(["person", "quality", "mode"]).default("person") }))
    .query(({ ctx, input }) => teamUsage(usageDeps(ctx), input.period, input.groupBy)),

  mine: protectedProcedure.input(z.object({ period: periodSpecSchema })).query(({ ctx, input }) => myUsage(usageDeps(ctx), ctx.user.id, input.period)),

  myBudget: protectedProcedure.query(({ ctx }) => myBudget(usageDeps(ctx), ctx.user.id)),

  setBudget: adminProcedure
    .input(
      z.object({
        scope: z.enum(["team", "default", "user"]),
        userId: z.string().min(1).max(100).optional(),
        /** null removes the budget. */
        monthlyLimit: z.number().min(0).max(1e8).nullable(),
      }),
    )
    .mutation(({ ctx, input }) => setBudget(ctx.services.db, { id: ctx.user.id, email: ctx.user.email }, input)),

  setTimeZone: adminProcedure
    .input(z.object({ timeZone: z.string().min(1).max(64) }))
    .mutation(({ ctx, input }) => setReportingTimeZone(ctx.services.db, { id: ctx.user.id, email: ctx.user.email }, input.timeZone, ctx.services.config.defaultTimeZone)),
});
