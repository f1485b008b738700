import { z } from "zod";
import { Role } from "../../db/client.ts";
import { inviteMember, resendInvitation, revokeInvitation } from "../../team/invitations.ts";
import { listMembers } from "../../team/members.ts";
import { createPasswordReset, deactivateUser, reactivateUser, setRole } from "../../team/people.ts";
import { emailSchema } from "../../users/users.ts";
import { adminProcedure, createTRPCRouter } from "../trpc.ts";

const id = z.string().min(1).max(100);
const role = z.enum([Role.member, Role.admin]);

/** The invite form's rules, shared by the form and the procedure. */
export const inviteInput = z.object({ email: emailSchema, role });

/** Team administration: admins only. */
export const teamRouter = createTRPCRouter({
  members: adminProcedure.query(({ ctx }) => listMembers(ctx.services.teamDeps)),

  invite: adminProcedure.input(inviteInput).mutation(({ ctx, input }) => inviteMember(ctx.services.teamDeps, ctx.user, input)),

  resendInvitation: adminProcedure.input(z.object({ id })).mutation(({ ctx, input }) => resendInvitation(ctx.services.teamDeps, ctx.user, input.id)),

  revokeInvitation: adminProcedure.input(z.object({ id })).mutation(({ ctx, input }) => revokeInvitation(ctx.services.teamDeps, ctx.user, input.id)),

  setRole: adminProcedure.input(z.object({ userId: id, role })).mutation(({ ctx, input }) => setRole(ctx.services.teamDeps, ctx.user, input.userId, input.role)),

  deactivate: adminProcedure.input(z.object({ userId: id })).mutation(({ ctx, input }) => deactivateUser(ctx.services.teamDeps, ctx.user, input.userId)),

  reactivate: adminProcedure.input(z.object({ userId: id })).mutation(({ ctx, input }) => reactivateUser(ctx.services.teamDeps, ctx.user, input.userId)),

  resetPassword: adminProcedure.input(z.object({ userId: id })).mutation(({ ctx, input }) => createPasswordReset(ctx.services.teamDeps, ctx.user, input.userId)),
});
