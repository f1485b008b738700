import { getServices } from "@/server/app-services.ts";
import { currentUser } from "@/server/auth/current-user.ts";
import { invitationForToken } from "@/server/team/invitations.ts";
import { signOutAction } from "../../signin/actions.ts";
import { AcceptForm } from "./accept-form.tsx";
import { joinWithSsoAction } from "./actions.ts";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "Join the team" };

export const dynamic = "force-dynamic";

export default async function InvitationPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const { teamDeps, config } = getServices();
  const invitation = await invitationForToken(teamDeps, token);
  const signedIn = await currentUser();
  return (
    <main id="main" tabIndex={-1} className="narrow">
      <h1>Join the team</h1>
      {!invitation || invitation.state !== "pending" ? (
        <p className="error" role="alert">
          {invitation?.state === "expired"
            ? "This invitation has expired. Ask an admin to send it again."
            : "This invitation link no longer works (used, revoked or replaced). Ask an admin for a new one."}
        </p>
      ) : signedIn ? (
        <form action={signOutAction} className="card form">
          <p>
            You are signed in as {signedIn.email}. Sign out first to accept the invitation for {invitation.email}.
          </p>
          <button type="submit">Sign out</button>
        </form>
      ) : (
        <>
          <p className="muted">
            You are invited as {invitation.role === "admin" ? "an admin" : "a member"} ({invitation.email}).
          </p>
          {config.sso && (
            <form action={joinWithSsoAction.bind(null, token)} className="card form">
              <p>Join with your {config.sso.name} account for {invitation.email}.</p>
              <button type="submit">Join with {config.sso.name}</button>
            </form>
          )}
          {!(config.sso && config.passwordSignIn === "admins" && invitation.role === "member") && (
            <>
              <p className="muted">{config.sso ? "Or choose" : "Choose"} your name and a password.</p>
              <AcceptForm token={token} email={invitation.email} />
            </>
          )}
        </>
      )}
    </main>
  );
}
