import { z } from "zod";
import { changeOwnPassword, signOutEverywhere } from "../../auth/account.ts";
import { listLiveSessions } from "../../auth/sessions.ts";
import { passwordSchema } from "../../users/users.ts";
import { createTRPCRouter, protectedProcedure } from "../trpc.ts";

/** The new-password form's rules, shared by the form and the procedure. */
export const changePasswordInput = z
  .object({
    currentPassword: z.string().min(1, "Enter your current password").max(1000),
    newPassword: passwordSchema,
  })
  .refine((v) => v.newPassword !== v.currentPassword, { path: ["newPassword"], message: "Choose a password different from the current one" });

export const accountRouter = createTRPCRouter({
  sessions: protectedProcedure.query(({ ctx }) => listLiveSessions(ctx.services.db, ctx.user.id, ctx.sessionId ?? null)),

  changePassword: protectedProcedure
    .input(changePasswordInput)
    .mutation(({ ctx, input }) =>
      changeOwnPassword({ db: ctx.services.db, throttle: ctx.services.config.signInThrottle }, { user: ctx.user, clientAddress: ctx.clientAddress ?? null }, input),
    ),

  signOutEverywhere: protectedProcedure.mutation(({ ctx }) => signOutEverywhere(ctx.services.db, ctx.user)),
});
