"use client";
import { useState, type ReactNode } from "react";
import { CodeBlock } from "@/app/_components/code-block.tsx";
import type { ApiExamples, ExampleLanguage, ExampleStep } from "@/server/v1/examples.ts";

/** The steps' titles and what each one says, in the order the page shows them. */
export interface ExampleSection {
  step: ExampleStep;
  heading: string;
  intro: ReactNode;
}

/** The examples in one language at a time (curl first), chosen with a radio group; each block copyable. */
export function ApiExamplesView({
  examples,
  languages,
  sections,
}: {
  examples: ApiExamples;
  languages: Array<{ id: ExampleLanguage; label: string }>;
  sections: ExampleSection[];
}) {
  const [language, setLanguage] = useState<ExampleLanguage>("curl");
  const label = languages.find((l) => l.id === language)?.label ?? language;
  return (
    <>
      <fieldset className="card language-choice">
        <legend>Show the examples in</legend>
        <div className="row">
          {languages.map((l) => (
            <label key={l.id} className="choice">
              <input type="radio" name="example-language" value={l.id} checked={language === l.id} onChange={() => setLanguage(l.id)} /> {l.label}
            </label>
          ))}
        </div>
      </fieldset>
      {sections.map((s) => (
        <section key={s.step} className="card stack-small" aria-labelledby={`api-${s.step}`}>
          <h2 id={`api-${s.step}`}>{s.heading}</h2>
          {s.intro}
          <CodeBlock title={`${label}: ${s.heading.toLowerCase()}`} code={examples[language][s.step]} testId={`example-${s.step}`} />
        </section>
      ))}
    </>
  );
}
