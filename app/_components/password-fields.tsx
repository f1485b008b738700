"use client";
/**
 * The fields for choosing a password (the invitation and reset pages): the
 * password twice, with the rule and the errors the server sent back.
 */
export function NewPasswordFields({ errors }: { errors: Record<string, string[] | undefined> }) {
  const err = (f: string) => errors[f]?.join(" ");
  return (
    <>
      <div className="field">
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={8}
          required
          aria-invalid={Boolean(err("password"))}
          aria-describedby={err("password") ? "password-error password-hint" : "password-hint"}
        />
        <span className="muted small" id="password-hint">
          At least 8 characters.
        </span>
        {err("password") && (
          <span className="field-error" id="password-error">
            {err("password")}
          </span>
        )}
      </div>
      <div className="field">
        <label htmlFor="confirm">Password, again</label>
        <input
          id="confirm"
          name="confirm"
          type="password"
          autoComplete="new-password"
          required
          aria-invalid={Boolean(err("confirm"))}
          aria-describedby={err("confirm") ? "confirm-error" : undefined}
        />
        {err("confirm") && (
          <span className="field-error" id="confirm-error">
            {err("confirm")}
          </span>
        )}
      </div>
    </>
  );
}
