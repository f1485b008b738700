import { z } from "zod";
import { GenerationMode, TaskStatus } from "../../db/client.ts";
import { AUDIT_ACTIONS, listAudit, listSignIns } from "../../audit/audit.ts";
import { listAllApiKeys, revokeApiKey } from "../../apikeys/apikeys.ts";
import { listAllTasks } from "../../tasks/listing.ts";
import { adminProcedure, createTRPCRouter } from "../trpc.ts";

const page = { cursor: z.string().max(200).optional(), limit: z.number().int().min(1).max(200).optional() };
const period = { from: z.date().optional(), to: z.date().optional() };
const id = z.string().min(1).max(100);

/** Admins' views over the whole team: every task, the audit log. */
export const adminRouter = createTRPCRouter({
  tasks: adminProcedure
    .input(
      z.object({
        userId: id.optional(),
        status: z.enum(TaskStatus).optional(),
        mode: z.enum(GenerationMode).optional(),
        ...period,
        ...page,
      }),
    )
    .query(({ ctx, input: { cursor, limit, ...filters } }) => listAllTasks(ctx.services.db, filters, { cursor, limit })),

  audit: adminProcedure
    .input(z.object({ actorId: id.optional(), action: z.enum(AUDIT_ACTIONS).optional(), targetId: id.optional(), ...period, ...page }))
    .query(({ ctx, input: { cursor, limit, ...filters } }) => listAudit(ctx.services.db, filters, { cursor, limit })),

  signIns: adminProcedure
    .input(z.object({ userId: id.optional(), refusedOnly: z.boolean().optional(), ...period, ...page }))
    .query(({ ctx, input: { cursor, limit, ...filters } }) => listSignIns(ctx.services.db, filters, { cursor, limit })),

  /** Every personal API key of the team (never a secret). */
  apiKeys: adminProcedure
    .input(z.object({ userId: id.optional(), workingOnly: z.boolean().optional(), ...page }))
    .query(({ ctx, input: { cursor, limit, ...filters } }) => listAllApiKeys(ctx.services.apiKeyDeps, filters, { cursor, limit })),

  /** Revoke anyone's key (audited). */
  revokeApiKey: adminProcedure.input(z.object({ id })).mutation(({ ctx, input }) => revokeApiKey(ctx.services.apiKeyDeps, ctx.user, input.id)),
});
