"use server";
import { getServices } from "@/server/app-services.ts";
import { signIn } from "@/server/auth/auth.ts";
import { AppError, type FieldErrors } from "@/server/errors.ts";
import { resetPasswordWithToken } from "@/server/team/people.ts";

export interface ResetState {
  error: string | null;
  fieldErrors: FieldErrors;
}

/** Sets a new password through a reset link, then signs the person in with it. */
export async function resetPasswordAction(token: string, _prev: ResetState, form: FormData): Promise<ResetState> {
  const password = String(form.get("password") ?? "");
  if (password !== String(form.get("confirm") ?? "")) return { error: null, fieldErrors: { confirm: ["The two passwords differ; type the same one twice."] } };
  let email: string;
  try {
    email = (await resetPasswordWithToken(getServices().teamDeps, token, password)).email;
  } catch (err) {
    if (err instanceof AppError) return { error: err.fieldErrors ? null : err.message, fieldErrors: err.fieldErrors ?? {} };
    throw err;
  }
  await signIn("credentials", { email, password, redirectTo: "/tasks" });
  return { error: null, fieldErrors: {} };
}
