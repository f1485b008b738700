import Link from "next/link";
import type { Metadata } from "next";
import { CopyField } from "@/app/_components/api-keys.tsx";
import { getServices } from "@/server/app-services.ts";
import { API_KEY_VARIABLE, apiExamples, EXAMPLE_LANGUAGE_LABELS, EXAMPLE_LANGUAGES, SIGNING_SECRET_VARIABLE } from "@/server/v1/examples.ts";
import { IDEMPOTENCY_WINDOW_HOURS } from "@/server/v1/v1.ts";
import { requireUser } from "../../guards.ts";
import { ApiExamplesView, type ExampleSection } from "./api-examples.tsx";

export const metadata: Metadata = { title: "API" };

export const dynamic = "force-dynamic";

/** What the /v1 API is for, its base URL, and copyable examples (server/v1/examples.ts). */
export default async function ApiPage() {
  await requireUser();
  const { config } = getServices();
  const base = config.publicBaseUrl;
  // Against the simulator, the examples use its sample image, so they run as they are.
  const imageUrl = config.provider.simulator ? `${config.provider.baseUrl}/samples/first-frame.png` : "https://example.com/first-frame.png";
  const examples = apiExamples({ baseUrl: base, imageUrl });
  const limit = config.apiKeys.requestLimit;
  const code = (text: string) => <code className="mono">{text}</code>;

  const sections: ExampleSection[] = [
    {
      step: "create",
      heading: "Make a video",
      intro: (
        <p>
          Send the request as you would to the video service. The portal checks it and the image before anything is spent, holds the estimate against your budget, and
          answers with the task at once: keep its {code("id")}.{!config.provider.simulator && " Replace the image link with your own."}
        </p>
      ),
    },
    {
      step: "poll",
      heading: "Wait for it",
      intro: (
        <p>
          Ask for the task every few seconds until its {code("status")} is {code("completed")} or {code("failed")}. A completed task has the link to its video in{" "}
          {code("results")}: it works with your key or its own token, and keeps working after the video service&apos;s 24 hours. A failed one says why in {code("error")}.
        </p>
      ),
    },
    {
      step: "balance",
      heading: "Read your balance",
      intro: (
        <p>
          What you can still spend this month: your {code("budget")}, what you have {code("spent")}, what is {code("reserved")} for running tasks, what{" "}
          {code("remaining")} (the smaller of yours and the team&apos;s; empty when there is no limit) and when the month ends ({code("period_end")}).
        </p>
      ),
    },
    {
      step: "idempotency",
      heading: "Retry safely with Idempotency-Key",
      intro: (
        <p>
          A network error does not tell you whether the task was made. Send an {code("Idempotency-Key")} header of your choosing with the request: sending it again with the
          same key and the same body within {IDEMPOTENCY_WINDOW_HOURS} hours answers the same task (with {code("Idempotency-Replayed: true")}), so nothing is made or
          spent twice. The same key with a different body is refused ({code("409 idempotency_conflict")}): use a new key for a new video. This example also asks for a
          notice when the task ends ({code("callback_url")}, below).
        </p>
      ),
    },
    {
      step: "callback",
      heading: "Check a callback's signature",
      intro: (
        <>
          <p>
            With {code("callback_url")} (an https address) the portal sends the task, as JSON, to that address when it ends, instead of you asking: within 10 seconds,
            retried 3 times (after 1, 2 and 4 seconds) if your receiver does not answer with a 2xx.
          </p>
          <p>
            Unlike the video service&apos;s, the portal&apos;s notices are signed, so your receiver can check that they come from the portal. Each carries{" "}
            {code("X-Portal-Timestamp")} (Unix seconds) and {code("X-Portal-Signature: v1=<hex>")}, the HMAC-SHA-256 of {code("<timestamp>.<body>")} (the body exactly as
            received) under the signing secret shown with your key when you made it (here in {code(SIGNING_SECRET_VARIABLE)}). Refuse a notice whose signature differs
            or whose timestamp is more than a few minutes old.
          </p>
        </>
      ),
    },
  ];

  return (
    <>
      <h1>API</h1>
      <div className="stack">
        <section className="card stack-small" aria-labelledby="api-what">
          <h2 id="api-what">What it is for</h2>
          <p>
            Scripts, notebooks and AI agents can make videos through the portal instead of calling the video service directly. The portal speaks the video
            service&apos;s own API for {code("wan2.7-image-to-video")}: a program written for it works here by changing only its base URL and its key. What it makes is
            checked before anything is spent, counts against your budget, and shows in your history marked with the key that made it.
          </p>
          <p>
            Each request needs one of your personal keys in the {code("Authorization: Bearer <key>")} header.{" "}
            <Link href="/account/keys">Make or revoke keys on the API keys page</Link>. The examples read it from the environment variable {code(API_KEY_VARIABLE)}
            , for example after {code(`export ${API_KEY_VARIABLE}=wvp_…`)}; never write a key into code you share.
          </p>
          <CopyField id="api-base-url" label="Base URL" value={`${base}/v1`} />
          <p className="small">
            Every endpoint, field and answer is described in the <a href="/v1/openapi.json">OpenAPI document (/v1/openapi.json)</a>, which tools can read to make a client.
            Errors come in the video service&apos;s shape, {code('{"error": {"code", "message", "param"}}')}: 400 names the field to change ({code("param")}), 401 a key
            that does not work, 402 a spent budget, 404 a task that is not yours, 429 too many requests ({limit.limit} a minute per key; wait {code("Retry-After")}{" "}
            seconds).
          </p>
        </section>
        <ApiExamplesView examples={examples} languages={EXAMPLE_LANGUAGES.map((id) => ({ id, label: EXAMPLE_LANGUAGE_LABELS[id] }))} sections={sections} />
      </div>
    </>
  );
}
