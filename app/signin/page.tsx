import { redirect } from "next/navigation";
import { getServices } from "@/server/app-services.ts";
import { currentUser } from "@/server/auth/current-user.ts";
import { signInRefusalMessage } from "@/server/auth/messages.ts";
import { safeRedirectPath } from "@/server/auth/redirect.ts";
import { ssoSignInAction } from "./actions.ts";
import { SignInForm } from "./sign-in-form.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "Sign in" };

export const dynamic = "force-dynamic";

const NOTICES: Record<string, string> = {
  "password-changed": "Your password was changed and every session was signed out. Sign in with the new password.",
  "password-set": "Your new password is set. Sign in with it.",
  "signed-out-everywhere": "You were signed out on every device.",
};

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string; error?: string; code?: string; notice?: string }>;
}) {
  const { next: rawNext, error, code, notice } = await searchParams;
  const next = safeRedirectPath(rawNext);
  if (await currentUser()) redirect(next);
  const { sso, passwordSignIn } = getServices().config;
  // Auth.js's own endpoints come back here with ?error=&code= (a refused single sign-on, a form posted without JavaScript).
  const refusal = error ? signInRefusalMessage(error === "AccessDenied" && !code ? "not_invited" : code, sso?.name) : null;
  return (
    <main id="main" tabIndex={-1} className="narrow">
      <h1>Wan video portal</h1>
      <p className="muted">{sso ? `Sign in with ${sso.name}, or with the password your admin gave you.` : "Sign in with the account your admin gave you."}</p>
      {notice && NOTICES[notice] && (
        <p className="notice" role="status">
          {NOTICES[notice]}
        </p>
      )}
      {sso && (
        <form action={ssoSignInAction} className="card form">
          <input type="hidden" name="next" value={next} />
          <button type="submit">Sign in with {sso.name}</button>
        </form>
      )}
      <SignInForm next={next} initialError={refusal} title={sso && passwordSignIn === "admins" ? "Admins: sign in with your password" : undefined} />
    </main>
  );
}
