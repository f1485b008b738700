"use client";
import { useActionState } from "react";
import { NewPasswordFields } from "@/app/_components/password-fields.tsx";
import { acceptInvitationAction, type AcceptState } from "./actions.ts";

export function AcceptForm({ token, email }: { token: string; email: string }) {
  const [state, action, pending] = useActionState<AcceptState, FormData>(acceptInvitationAction.bind(null, token), { error: null, fieldErrors: {}, name: "" });
  const nameError = state.fieldErrors.name?.join(" ");
  return (
    <form action={action} className="card form">
      <div className="field">
        <label htmlFor="email">Email</label>
        <input id="email" type="email" value={email} readOnly autoComplete="username" />
      </div>
      <div className="field">
        <label htmlFor="name">Your name</label>
        <input id="name" name="name" autoComplete="name" required defaultValue={state.name} aria-invalid={Boolean(nameError)} aria-describedby={nameError ? "name-error" : undefined} />
        {nameError && (
          <span className="field-error" id="name-error">
            {nameError}
          </span>
        )}
      </div>
      <NewPasswordFields errors={state.fieldErrors} />
      {state.error && (
        <p role="alert" className="error">
          {state.error}
        </p>
      )}
      <button type="submit" disabled={pending}>
        {pending ? "Joining…" : "Join the team"}
      </button>
    </form>
  );
}
