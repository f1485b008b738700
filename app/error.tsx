"use client";
import Link from "next/link";
import { useEffect } from "react";
/** What a person sees when a page fails on the server: no internals, a reference an admin can find in the log. */
export default function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    document.title = "Something went wrong · Wan video portal";
  }, []);
  return (
    <main id="main" tabIndex={-1} className="narrow">
      <h1>Something went wrong</h1>
      <p>The page could not be shown. Try again; if it happens again, give an admin this reference:</p>
      <p>
        <code data-testid="error-reference">{error.digest ?? "(none)"}</code>
      </p>
      <p className="row">
        <button type="button" onClick={reset}>
          Try again
        </button>
        <Link href="/tasks">Go to your history</Link>
      </p>
    </main>
  );
}
