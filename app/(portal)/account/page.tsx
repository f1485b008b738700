import { AccountSettings } from "./account-settings.tsx";

export const dynamic = "force-dynamic";

export default function AccountPage() {
  return (
    <>
      <h1>Account</h1>
      <AccountSettings />
    </>
  );
}
