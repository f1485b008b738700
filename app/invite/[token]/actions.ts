"use server";
import { getServices } from "@/server/app-services.ts";
import { signIn } from "@/server/auth/auth.ts";
import { AppError, type FieldErrors } from "@/server/errors.ts";
import { acceptInvitation } from "@/server/team/invitations.ts";

export interface AcceptState {
  error: string | null;
  fieldErrors: FieldErrors;
  /** What was typed, kept after a refusal. */
  name: string;
}

/** Accepts an invitation with the name and password chosen, then signs the new member in. */
export async function acceptInvitationAction(token: string, _prev: AcceptState, form: FormData): Promise<AcceptState> {
  const name = String(form.get("name") ?? "").slice(0, 100);
  const password = String(form.get("password") ?? "");
  if (password !== String(form.get("confirm") ?? "")) {
    return { error: null, fieldErrors: { confirm: ["The two passwords differ; type the same one twice."] }, name };
  }
  let email: string;
  try {
    email = (await acceptInvitation(getServices().teamDeps, token, { name, password })).email;
  } catch (err) {
    if (err instanceof AppError) return { error: err.fieldErrors ? null : err.message, fieldErrors: err.fieldErrors ?? {}, name };
    throw err;
  }
  await signIn("credentials", { email, password, redirectTo: "/tasks" });
  return { error: null, fieldErrors: {}, name };
}
