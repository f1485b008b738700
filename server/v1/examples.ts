/**
 * The copyable examples of the portal's API page (app/(portal)/account/api):
 * make a video, wait for it, read the balance, retry safely with
 * Idempotency-Key, and check a signed callback — in curl, JavaScript (fetch)
 * and Python (requests), against this portal's public base URL. The key and
 * the signing secret are read from the environment (WVP_API_KEY,
 * WVP_SIGNING_SECRET), never written into the examples. The request body is
 * checked against the /v1 contract by tests/unit/api-examples.test.ts.
 */
import { MODEL_ID } from "../provider/types.ts";
import { IDEMPOTENCY_WINDOW_HOURS } from "./v1.ts";

export const EXAMPLE_LANGUAGES = ["curl", "javascript", "python"] as const;
export type ExampleLanguage = (typeof EXAMPLE_LANGUAGES)[number];
export const EXAMPLE_LANGUAGE_LABELS: Record<ExampleLanguage, string> = { curl: "curl", javascript: "JavaScript (fetch)", python: "Python (requests)" };

export const EXAMPLE_STEPS = ["create", "poll", "balance", "idempotency", "callback"] as const;
export type ExampleStep = (typeof EXAMPLE_STEPS)[number];

export type ApiExamples = Record<ExampleLanguage, Record<ExampleStep, string>>;

export const API_KEY_VARIABLE = "WVP_API_KEY";
export const SIGNING_SECRET_VARIABLE = "WVP_SIGNING_SECRET";

/** The body of the create examples: a 5-second 720p video from one image. */
export function exampleCreateBody(imageUrl: string): Record<string, unknown> {
  return { model: MODEL_ID, prompt: "A lighthouse at dawn, waves rolling in", image_start: imageUrl, duration: 5, quality: "720p" };
}

/**
 * `baseUrl`: the portal's public base URL (no trailing slash); `imageUrl`: a
 * first-frame image the portal can fetch (the simulator's sample when it
 * runs against the simulator).
 */
export function apiExamples({ baseUrl, imageUrl }: { baseUrl: string; imageUrl: string }): ApiExamples {
  const v1 = `${baseUrl.replace(/\/+$/, "")}/v1`;
  const body = exampleCreateBody(imageUrl);
  const json = JSON.stringify(body);
  const withCallback = { ...body, callback_url: "https://hooks.example.com/video-done" };
  const pyDict = (o: Record<string, unknown>, indent: string) =>
    `{\n${Object.entries(o)
      .map(([k, v]) => `${indent}    "${k}": ${JSON.stringify(v)},`)
      .join("\n")}\n${indent}}`;
  const jsObject = (o: Record<string, unknown>, indent: string) =>
    `{\n${Object.entries(o)
      .map(([k, v]) => `${indent}  ${k}: ${JSON.stringify(v)},`)
      .join("\n")}\n${indent}}`;
  const auth = `-H "Authorization: Bearer $${API_KEY_VARIABLE}"`;

  return {
    curl: {
      create: [
        `curl -sS -X POST "${v1}/videos/generations" \\`,
        `  ${auth} \\`,
        `  -H "Content-Type: application/json" \\`,
        `  -d '${json}'`,
      ].join("\n"),
      poll: [`# Ask again every few seconds until "status" is "completed" or "failed".`, `curl -sS "${v1}/tasks/TASK_ID" \\`, `  ${auth}`].join("\n"),
      balance: [`curl -sS "${v1}/balance" \\`, `  ${auth}`].join("\n"),
      idempotency: [
        `# Sending this again with the same key and body within ${IDEMPOTENCY_WINDOW_HOURS} hours answers the same task.`,
        `curl -sS -X POST "${v1}/videos/generations" \\`,
        `  ${auth} \\`,
        `  -H "Content-Type: application/json" \\`,
        `  -H "Idempotency-Key: lighthouse-2026-001" \\`,
        `  -d '${JSON.stringify(withCallback)}'`,
      ].join("\n"),
      callback: [
        `# Your receiver got the headers X-Portal-Timestamp and X-Portal-Signature and the raw body.`,
        `# The notice is genuine when this prints the signature's hex (after "v1="):`,
        `printf '%s.%s' "$TIMESTAMP" "$BODY" | openssl dgst -sha256 -hmac "$${SIGNING_SECRET_VARIABLE}" -r | cut -d' ' -f1`,
      ].join("\n"),
    },
    javascript: {
      create: [
        `const API = "${v1}";`,
        `const headers = { Authorization: \`Bearer \${process.env.${API_KEY_VARIABLE}}\`, "Content-Type": "application/json" };`,
        ``,
        `const res = await fetch(\`\${API}/videos/generations\`, {`,
        `  method: "POST",`,
        `  headers,`,
        `  body: JSON.stringify(${jsObject(body, "  ")}),`,
        `});`,
        `const task = await res.json();`,
        `if (!res.ok) throw new Error(\`\${res.status} \${task.error.code}: \${task.error.message}\`);`,
        `console.log(task.id, task.status);`,
      ].join("\n"),
      poll: [
        `let current = task;`,
        `while (current.status === "pending" || current.status === "processing") {`,
        `  await new Promise((resolve) => setTimeout(resolve, 5000));`,
        `  current = await (await fetch(\`\${API}/tasks/\${current.id}\`, { headers })).json();`,
        `}`,
        `// results[0] is the portal's link to the video; it keeps working after 24 hours.`,
        `console.log(current.status, current.results?.[0] ?? current.error);`,
      ].join("\n"),
      balance: [`const balance = await (await fetch(\`\${API}/balance\`, { headers })).json();`, `console.log(\`\${balance.remaining} \${balance.currency} left until \${balance.period_end}\`);`].join("\n"),
      idempotency: [
        `const res = await fetch(\`\${API}/videos/generations\`, {`,
        `  method: "POST",`,
        `  headers: { ...headers, "Idempotency-Key": "lighthouse-2026-001" },`,
        `  body: JSON.stringify(${jsObject(withCallback, "  ")}),`,
        `});`,
        `// A retry with the same key and body answers the same task:`,
        `console.log(res.headers.get("Idempotency-Replayed") === "true" ? "already made" : "new");`,
      ].join("\n"),
      callback: [
        `import { createHmac, timingSafeEqual } from "node:crypto";`,
        ``,
        `/** rawBody: the request body exactly as received, as text. */`,
        `function isFromPortal(headers, rawBody) {`,
        `  const timestamp = headers["x-portal-timestamp"];`,
        `  const expected = "v1=" + createHmac("sha256", process.env.${SIGNING_SECRET_VARIABLE}).update(\`\${timestamp}.\${rawBody}\`).digest("hex");`,
        `  const given = String(headers["x-portal-signature"] ?? "");`,
        `  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;`,
        `  return fresh && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));`,
        `}`,
      ].join("\n"),
    },
    python: {
      create: [
        `import os, requests`,
        ``,
        `API = "${v1}"`,
        `headers = {"Authorization": f"Bearer {os.environ['${API_KEY_VARIABLE}']}"}`,
        ``,
        `res = requests.post(f"{API}/videos/generations", headers=headers, json=${pyDict(body, "")})`,
        `task = res.json()`,
        `if not res.ok:`,
        `    raise RuntimeError(f"{res.status_code} {task['error']['code']}: {task['error']['message']}")`,
        `print(task["id"], task["status"])`,
      ].join("\n"),
      poll: [
        `import time`,
        ``,
        `while task["status"] in ("pending", "processing"):`,
        `    time.sleep(5)`,
        `    task = requests.get(f"{API}/tasks/{task['id']}", headers=headers).json()`,
        `# results[0] is the portal's link to the video; it keeps working after 24 hours.`,
        `print(task["status"], (task.get("results") or [task.get("error")])[0])`,
      ].join("\n"),
      balance: [`balance = requests.get(f"{API}/balance", headers=headers).json()`, `print(balance["remaining"], balance["currency"], "left until", balance["period_end"])`].join("\n"),
      idempotency: [
        `res = requests.post(`,
        `    f"{API}/videos/generations",`,
        `    headers={**headers, "Idempotency-Key": "lighthouse-2026-001"},`,
        `    json=${pyDict(withCallback, "    ")},`,
        `)`,
        `# A retry with the same key and body answers the same task:`,
        `print("already made" if res.headers.get("Idempotency-Replayed") == "true" else "new")`,
      ].join("\n"),
      callback: [
        `import hashlib, hmac, os, time`,
        ``,
        `def is_from_portal(headers, raw_body: bytes) -> bool:`,
        `    timestamp = headers["X-Portal-Timestamp"]`,
        `    signed = timestamp.encode() + b"." + raw_body`,
        `    expected = "v1=" + hmac.new(os.environ["${SIGNING_SECRET_VARIABLE}"].encode(), signed, hashlib.sha256).hexdigest()`,
        `    fresh = abs(time.time() - int(timestamp)) < 300`,
        `    return fresh and hmac.compare_digest(headers.get("X-Portal-Signature", ""), expected)`,
      ].join("\n"),
    },
  };
}
