import { getServices } from "@/server/app-services.ts";
import { passwordResetForToken } from "@/server/team/people.ts";
import { ResetForm } from "./reset-form.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "Set a new password" };

export const dynamic = "force-dynamic";

export default async function ResetPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const reset = await passwordResetForToken(getServices().teamDeps, token);
  return (
    <main id="main" tabIndex={-1} className="narrow">
      <h1>Set a new password</h1>
      {reset?.usable ? (
        <ResetForm token={token} email={reset.email} />
      ) : (
        <p className="error" role="alert">
          This link no longer works (used, replaced or expired). Ask an admin for a new one.
        </p>
      )}
    </main>
  );
}
