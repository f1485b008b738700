"use server";
import { AuthError } from "next-auth";
import { signIn, signOut } from "@/server/auth/auth.ts";
import { signInRefusalMessage } from "@/server/auth/messages.ts";
import { safeRedirectPath } from "@/server/auth/redirect.ts";
import { getServices } from "@/server/app-services.ts";

export interface SignInState {
  error: string | null;
  /** What was typed, so the form keeps it after a refusal (React resets a form after its action). */
  email: string;
}

export async function signInAction(_prev: SignInState, form: FormData): Promise<SignInState> {
  const email = String(form.get("email") ?? "").slice(0, 320);
  try {
    await signIn("credentials", {
      email,
      password: String(form.get("password") ?? ""),
      redirectTo: safeRedirectPath(form.get("next")),
    });
    return { error: null, email };
  } catch (err) {
    if (err instanceof AuthError && err.type === "CredentialsSignin") {
      return { error: signInRefusalMessage((err as { code?: unknown }).code, getServices().config.sso?.name), email };
    }
    if (err instanceof AuthError) {
      // Not a refusal: something failed on our side (the database, say). Auth.js has logged it.
      return { error: "Signing in is not possible right now; try again in a minute.", email };
    }
    throw err; // includes Next's redirect on success
  }
}

/** Starts single sign-on with the configured OpenID Connect provider. */
export async function ssoSignInAction(form: FormData): Promise<void> {
  await signIn("oidc", { redirectTo: safeRedirectPath(form.get("next")) });
}

export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/signin" });
}
