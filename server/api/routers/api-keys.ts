import { z } from "zod";
import { createApiKey, listMyApiKeys, revokeMyApiKey } from "../../apikeys/apikeys.ts";
import { createApiKeyInput } from "../../apikeys/schema.ts";
import { createTRPCRouter, protectedProcedure } from "../trpc.ts";

/** One's own personal API keys (admins' view of everyone's: admin.apiKeys, admin.revokeApiKey). */
export const apiKeysRouter = createTRPCRouter({
  mine: protectedProcedure.query(({ ctx }) => listMyApiKeys(ctx.services.apiKeyDeps, ctx.user.id)),

  /** The answer holds the key and its signing secret: the only time they are shown. */
  create: protectedProcedure.input(createApiKeyInput).mutation(({ ctx, input }) => createApiKey(ctx.services.apiKeyDeps, ctx.user, input, ctx.user)),

  revoke: protectedProcedure.input(z.object({ id: z.string().min(1).max(100) })).mutation(({ ctx, input }) => revokeMyApiKey(ctx.services.apiKeyDeps, ctx.user, input.id)),
});
