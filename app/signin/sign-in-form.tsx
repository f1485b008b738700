"use client";
import { useActionState } from "react";
import { signInAction, type SignInState } from "./actions.ts";

export function SignInForm({ next, initialError, title }: { next: string; initialError: string | null; title?: string }) {
  const [state, action, pending] = useActionState<SignInState, FormData>(signInAction, { error: initialError, email: "" });
  return (
    <form action={action} className="card form">
      {title && <h2 className="small muted">{title}</h2>}
      <input type="hidden" name="next" value={next} />
      <label>
        Email
        <input name="email" type="email" autoComplete="username" required autoFocus defaultValue={state.email} />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      {state.error && (
        <p role="alert" className="error">
          {state.error}
        </p>
      )}
      <button type="submit" disabled={pending}>
        {pending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
