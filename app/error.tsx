"use client";
/** What a person sees when a page fails on the server: no internals, a reference an admin can find in the log. */
export default function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="narrow">
      <h1>Something went wrong</h1>
      <p>The page could not be shown. Try again; if it happens again, give an admin this reference:</p>
      <p>
        <code data-testid="error-reference">{error.digest ?? "(none)"}</code>
      </p>
      <button type="button" onClick={reset}>
        Try again
      </button>
    </main>
  );
}
