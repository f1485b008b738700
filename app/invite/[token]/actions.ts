"use server";
import { cookies } from "next/headers";
import { getServices } from "@/server/app-services.ts";
import { signIn } from "@/server/auth/auth.ts";
import { INVITATION_COOKIE } from "@/server/auth/sso.ts";
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

/**
 * Joins through single sign-on from the invitation's own link: the link's
 * token rides along in a short-lived cookie, so the sign-in takes this
 * invitation (an invitation to be an admin is taken only this way).
 */
export async function joinWithSsoAction(token: string): Promise<void> {
  const { config } = getServices();
  (await cookies()).set(INVITATION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: config.publicBaseUrl.startsWith("https:"),
    path: "/",
    maxAge: 600,
  });
  await signIn("oidc", { redirectTo: "/tasks" });
}
