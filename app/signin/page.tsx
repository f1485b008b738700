import { redirect } from "next/navigation";
import { currentUser } from "@/server/auth/current-user.ts";
import { retryAfterOf, signInRefusalMessage } from "@/server/auth/messages.ts";
import { safeRedirectPath } from "@/server/auth/redirect.ts";
import { SignInForm } from "./sign-in-form.tsx";

export const dynamic = "force-dynamic";

const NOTICES: Record<string, string> = {
  "password-changed": "Your password was changed and every session was signed out. Sign in with the new password.",
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
  // Auth.js's own endpoint (a form posted without JavaScript) comes back here with ?error=&code=.
  const refusal = error ? signInRefusalMessage(retryAfterOf(code)) : null;
  return (
    <main className="narrow">
      <h1>Wan video portal</h1>
      <p className="muted">Sign in with the account your admin gave you.</p>
      {notice && NOTICES[notice] && (
        <p className="notice" role="status">
          {NOTICES[notice]}
        </p>
      )}
      <SignInForm next={next} initialError={refusal} />
    </main>
  );
}
