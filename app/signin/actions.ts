"use server";
import { AuthError } from "next-auth";
import { signIn, signOut } from "@/server/auth/auth.ts";
import { safeRedirectPath } from "@/server/auth/redirect.ts";
import { retryAfterOf, signInRefusalMessage } from "@/server/auth/messages.ts";

export interface SignInState {
  error: string | null;
}

export async function signInAction(_prev: SignInState, form: FormData): Promise<SignInState> {
  try {
    await signIn("credentials", {
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      redirectTo: safeRedirectPath(form.get("next")),
    });
    return { error: null };
  } catch (err) {
    if (err instanceof AuthError) return { error: signInRefusalMessage(retryAfterOf((err as { code?: unknown }).code)) };
    throw err; // includes Next's redirect on success
  }
}

export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/signin" });
}
