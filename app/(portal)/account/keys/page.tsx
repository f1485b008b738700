import { getServices } from "@/server/app-services.ts";
import { requireUser } from "../../guards.ts";
import { ApiKeys } from "./api-keys.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "API keys" };

export const dynamic = "force-dynamic";

export default async function ApiKeysPage() {
  await requireUser();
  const { config } = getServices();
  return (
    <>
      <h1>API keys</h1>
      <p className="muted">
        A personal key lets your scripts, notebooks and agents work as you: what they make counts against your budget and shows in your history. Keep each key
        secret; revoke it when it is no longer used or may have leaked. You can have up to {config.apiKeys.maxActivePerPerson} working keys.
      </p>
      <ApiKeys />
    </>
  );
}
