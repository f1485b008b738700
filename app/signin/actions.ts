"use server";
import { AuthError } from "next-auth";
import { signIn, signOut } from "@/server/auth/auth.ts";

export interface SignInState {
  error: string | null;
}

export async function signInAction(_prev: SignInState, form: FormData): Promise<SignInState> {
  const next = String(form.get("next") ?? "/tasks");
  try {
    await signIn("credentials", {
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      // Only paths on this site: never an open redirect.
      redirectTo: next.startsWith("/") && !next.startsWith("//") ? next : "/tasks",
    });
    return { error: null };
  } catch (err) {
    if (err instanceof AuthError) return { error: "Wrong email or password." };
    throw err; // includes Next's redirect on success
  }
}

export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/signin" });
}
