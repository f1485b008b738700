import { z } from "zod";
import { MATERIALS } from "../../generation/request-schema.ts";
import { checkMediaFile } from "../../media/file-check.ts";
import { createTRPCRouter, protectedProcedure } from "../trpc.ts";

/** Media files as the form is given them. */
export const mediaRouter = createTRPCRouter({
  /**
   * Checks one file (an upload's link or a typed URL) with its field's media
   * rules. A mutation: the link may carry an upload token, which stays out
   * of URLs and logs, and each check counts against the person's rate limit.
   */
  check: protectedProcedure
    .input(z.object({ field: z.enum(MATERIALS), url: z.string().max(4096) }))
    .mutation(({ ctx, input }) => checkMediaFile(ctx.services.fileCheckDeps, ctx.user, input)),
});
