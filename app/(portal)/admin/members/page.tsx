import { getServices } from "@/server/app-services.ts";
import { requireAdmin } from "../../guards.ts";
import { MembersAdmin } from "./members-admin.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "Members" };

export const dynamic = "force-dynamic";

export default async function MembersPage() {
  const viewer = await requireAdmin();
  const { config } = getServices();
  return (
    <>
      <h1>Members</h1>
      <p className="muted">
        Everyone in the team, and the invitations still open. Tasks and spend count what was submitted this month, in the team’s reporting time zone.
        {config.team.mail ? " Invitation and reset links are also emailed." : " Links are shown here to pass on (no mail server is configured)."}
      </p>
      <MembersAdmin currency={config.prices.currency} viewerId={viewer.id} />
    </>
  );
}
