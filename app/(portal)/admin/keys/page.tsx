import { requireAdmin } from "../../guards.ts";
import { AllApiKeys } from "./all-api-keys.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "API keys of the team" };

export const dynamic = "force-dynamic";

export default async function AllApiKeysPage() {
  await requireAdmin();
  return (
    <>
      <h1>API keys of the team</h1>
      <p className="muted">
        Every personal key, by its first characters (nobody can see a whole key after it was made). Revoke one that leaked or is no longer needed: it stops working at
        once. A deactivated person’s keys do not work while they are deactivated.
      </p>
      <AllApiKeys />
    </>
  );
}
