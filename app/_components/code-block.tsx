"use client";
import { useId, useState } from "react";

/**
 * A block of code to copy: its title, a Copy button, and the code, which
 * scrolls sideways inside its own box (focusable, so a keyboard can scroll
 * it) rather than widening the page.
 */
export function CodeBlock({ title, code, testId }: { title: string; code: string; testId?: string }) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  return (
    <div className="code-block" data-testid={testId}>
      <div className="code-head">
        <span id={id} className="small muted">
          {title}
        </span>
        <button
          type="button"
          className="secondary"
          aria-label={`Copy: ${title}`}
          onClick={async () => {
            await navigator.clipboard?.writeText(code).catch(() => {});
            setCopied(true);
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      <pre tabIndex={0} role="region" aria-labelledby={id}>
        <code>{code}</code>
      </pre>
    </div>
  );
}
