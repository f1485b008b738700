import { redirect } from "next/navigation";
import { auth } from "@/server/auth/auth.ts";
import { SignInForm } from "./sign-in-form.tsx";

export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const { next } = await searchParams;
  if ((await auth())?.user) redirect(next ?? "/tasks");
  return (
    <main className="narrow">
      <h1>Wan video portal</h1>
      <p className="muted">Sign in with the account your admin gave you.</p>
      <SignInForm next={next ?? "/tasks"} />
    </main>
  );
}
