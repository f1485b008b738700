"use client";
import { useActionState } from "react";
import { NewPasswordFields } from "@/app/_components/password-fields.tsx";
import { resetPasswordAction, type ResetState } from "./actions.ts";

export function ResetForm({ token, email }: { token: string; email: string }) {
  const [state, action, pending] = useActionState<ResetState, FormData>(resetPasswordAction.bind(null, token), { error: null, fieldErrors: {} });
  return (
    <form action={action} className="card form">
      <div className="field">
        <label htmlFor="email">Email</label>
        <input id="email" type="email" value={email} readOnly autoComplete="username" />
      </div>
      <NewPasswordFields errors={state.fieldErrors} />
      {state.error && (
        <p role="alert" className="error">
          {state.error}
        </p>
      )}
      <button type="submit" disabled={pending}>
        {pending ? "Saving…" : "Set the new password"}
      </button>
    </form>
  );
}
