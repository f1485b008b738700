import { requireUser } from "../guards.ts";
import { AccountSettings } from "./account-settings.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "Account" };

export const dynamic = "force-dynamic";

export default async function AccountPage() {
  await requireUser();
  return (
    <>
      <h1>Account</h1>
      <AccountSettings />
    </>
  );
}
