import type { Metadata } from "next";
import Link from "next/link";

export const metadata: Metadata = { title: "Not found" };

export default function NotFound() {
  return (
    <main id="main" tabIndex={-1} className="narrow">
      <h1>Not found</h1>
      <p>There is nothing at this address. It may have been moved, or the link may be incomplete.</p>
      <p>
        <Link href="/tasks">Go to your history</Link>
      </p>
    </main>
  );
}
