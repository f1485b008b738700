/**
 * What the portal's own web server adds to every answer, checked on the
 * production server: security headers and a CSP that the pages work under,
 * no framing by other sites, state-changing requests from other sites
 * refused, and no redirect off the site after signing in.
 */
import { readFileSync } from "node:fs";
import { expect, signIn, test } from "./fixtures.ts";
import { fixture, trpcData, trpcMutation, trpcQuery } from "./helpers.ts";
import { MAIN } from "./instances.ts";

test("every answer carries the security headers, and every script on a page carries the answer's nonce", async ({ request }) => {
  const res = await request.get("/signin");
  const headers = res.headers();
  const csp = headers["content-security-policy"] ?? "";
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce).toBeTruthy();
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).not.toContain("unsafe-eval");
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("same-origin");
  expect(headers["x-powered-by"]).toBeUndefined();
  expect(headers["strict-transport-security"]).toBeUndefined(); // served over http here
  const html = await res.text();
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  expect(scripts.length).toBeGreaterThan(0);
  for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
  // A fresh nonce per answer.
  const again = (await request.get("/signin")).headers()["content-security-policy"];
  expect(again).not.toBe(csp);
  for (const path of ["/api/health", "/api/trpc/tasks.mine", "/_next/static/not-there.js"]) {
    const h = (await request.get(path)).headers();
    expect(h["x-content-type-options"], path).toBe("nosniff");
    expect(h["x-powered-by"], path).toBeUndefined();
  }
});

test("another site cannot show the portal in a frame", async ({ browser, cspViolations }) => {
  const page = await browser.newPage();
  await page.route("https://other-site.example/", (route) =>
    route.fulfill({ contentType: "text/html", body: `<h1>Another site</h1><iframe src="${MAIN.baseURL}/signin" title="portal"></iframe>` }),
  );
  await page.goto("https://other-site.example/");
  // Chromium replaces a refused frame with its error page.
  const framed = () => page.frames().find((f) => f !== page.mainFrame());
  await expect.poll(() => framed()?.url() ?? "").toMatch(/^chrome-error:/);
  await expect(page.frameLocator("iframe").getByLabel("Email")).toHaveCount(0);
  // The same frame from the portal's own origin would load: the refusal is the header's doing.
  expect((await page.request.get(`${MAIN.baseURL}/signin`)).headers()["x-frame-options"]).toBe("DENY");
  await page.close();
  // The refusal is itself reported as a violation of the policy: the one expected here.
  expect(cspViolations.every((v) => /frame-ancestors/.test(v))).toBe(true);
  cspViolations.length = 0;
});

test("state-changing requests sent from another site's page are refused, with the session cookie or not", async ({ page }) => {
  await signIn(page);
  const api = page.request;
  const before = (await trpcData<unknown[]>(await trpcQuery(api, "tasks.mine"))).length;
  const evil = { origin: "https://evil.example" };
  const create = await trpcMutation(api, "tasks.create", { prompt: "Made by another site", image_start: `http://127.0.0.1:${MAIN.simulatorPort}/samples/first-frame.png` }, evil);
  expect(create.status()).toBe(403);
  expect(((await create.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
  expect((await trpcMutation(api, "account.signOutEverywhere", undefined, { "sec-fetch-site": "cross-site" })).status()).toBe(403);
  const upload = await api.post("/api/uploads", {
    multipart: { field: "image_start", file: { name: "a.png", mimeType: "image/png", buffer: readFileSync(fixture("image-240x240.png")) } },
    headers: evil,
  });
  expect(upload.status()).toBe(403);
  // A server action (here the sign-out form's) posted from elsewhere.
  const action = await api.post("/tasks", { headers: { ...evil, "next-action": "0".repeat(42), "content-type": "text/plain" }, data: "[]", maxRedirects: 0 });
  expect(action.status()).toBe(403);
  // Nothing happened: no task, and the session still works.
  expect((await trpcData<unknown[]>(await trpcQuery(api, "tasks.mine"))).length).toBe(before);
  // The portal's own page passes.
  const own = await trpcMutation(api, "tasks.create", { prompt: "Made on the portal's own page", image_start: `http://127.0.0.1:${MAIN.simulatorPort}/samples/first-frame.png` }, { origin: MAIN.baseURL });
  expect(own.status()).toBe(200);
});

test("signing in never sends anyone to another site", async ({ page }) => {
  const offSite = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "https:evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    " //evil.example",
    "/..//evil.example",
    "/.//evil.example",
    "/%2e%2e//evil.example",
    "/tasks/../..//evil.example",
  ];
  // Signed out: the form keeps only a path on this site.
  await page.goto(`/signin?next=${encodeURIComponent("//evil.example/")}`);
  await page.getByLabel("Email").fill("admin@e2e.test");
  await page.getByLabel("Password").fill("e2e-admin-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "My history" })).toBeVisible();
  expect(new URL(page.url()).origin).toBe(new URL(MAIN.baseURL).origin);
  // Signed in: the sign-in page sends you on, never off the site.
  for (const next of offSite) {
    const answer = await page.goto(`/signin?next=${encodeURIComponent(next)}`);
    // Wherever it lands (the history, or a page of this site that does not exist), it is this site.
    expect(answer?.url() && new URL(answer.url()).origin, JSON.stringify(next)).toBe(new URL(MAIN.baseURL).origin);
    expect(new URL(page.url()).origin, JSON.stringify(next)).toBe(new URL(MAIN.baseURL).origin);
  }
  // A path on the site is kept.
  await page.goto(`/signin?next=${encodeURIComponent("/tasks/new")}`);
  await expect(page).toHaveURL(/\/tasks\/new$/);
});
