/**
 * The production build's own bugs (issue 7), on servers that nothing has
 * touched yet (this file runs first, see playwright.config.ts), so the tests
 * decide which route builds the process's services: another route's bundle
 * than the one that then checks the error. Before domain errors were
 * recognised by brand, a provider refusal left the task "checking" for ten
 * minutes and a range past the end answered 500.
 */
import { readFileSync } from "node:fs";
import { expect, fileChecked, signIn, test } from "./fixtures.ts";
import { fixture, simulatorFaults, trpcData, trpcMutation, trpcQuery, upload } from "./helpers.ts";
import { METRICS_TOKEN, UNREACHABLE } from "./instances.ts";

test.describe.configure({ mode: "serial" });

interface TaskView {
  id: string;
  status: string;
  billedSeconds: number | null;
  errorMessage: string | null;
  archiveStatus: string;
}

test("the simulator portal: a refused create fails at once, ranges past the end are 416, NUL bytes are 400", async ({ page }) => {
  // 1. The first request to build the services: the sign-in page's bundle.
  await signIn(page);
  const api = page.request;

  // 2. The provider refuses the create (400): checked in the tRPC bundle.
  await simulatorFaults(api, { http: { endpoint: "create", status: 400, count: 1, message: "image_start could not be downloaded." } });
  await page.getByRole("link", { name: "New video" }).click();
  const prompt = `Refused by the provider (${Date.now()})`;
  await page.getByLabel("Prompt", { exact: true }).fill(prompt);
  // The form checks its first frame link on its own and disables Generate meanwhile: click once that check has ended.
  await fileChecked(page);
  await page.getByRole("button", { name: "Generate video" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "The video service refused this request: image_start could not be downloaded" })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: "Nothing was charged." })).toBeVisible();
  await expect(page).toHaveURL(/\/tasks\/new$/);
  await page.getByRole("link", { name: "My history" }).click();
  const row = page.getByRole("row").filter({ hasText: prompt });
  await expect(row.locator('[data-status="failed"]')).toBeVisible();
  await expect(row.getByTestId("billed")).toHaveText("0 s");
  const refused = (await trpcData<TaskView[]>(await trpcQuery(api, "tasks.mine"))).find((t) => t.errorMessage?.startsWith("The video service refused"));
  expect(refused).toMatchObject({ status: "failed", billedSeconds: 0 });

  // 3. A range past the end of an upload (741 bytes or whatever the file is): the uploads/[name] bundle.
  const file = "image-240x240.png";
  const size = readFileSync(fixture(file)).length;
  const uploaded = await upload(api, "image_start", file);
  expect(uploaded.status()).toBe(200);
  const { url } = (await uploaded.json()) as { url: string };
  const pastEnd = await api.get(url, { headers: { range: `bytes=${size}-` } });
  expect(pastEnd.status()).toBe(416);
  expect(pastEnd.headers()["content-range"]).toBe(`bytes */${size}`);
  expect((await pastEnd.json()) as unknown).toMatchObject({ error: { code: "RANGE_NOT_SATISFIABLE" } });
  expect((await api.get(url, { headers: { range: `bytes=0-9` } })).status()).toBe(206);

  // 4. The same on an archived video: the media bundle.
  const created = await trpcData<TaskView>(await trpcMutation(api, "tasks.create", { prompt: "A range past the end", image_start: url }));
  await expect
    .poll(async () => (await trpcData<TaskView>(await trpcQuery(api, "tasks.get", { id: created.id }))).archiveStatus, { timeout: 30_000 })
    .toBe("archived");
  const first = await api.get(`/api/media/${created.id}`, { headers: { range: "bytes=0-0" } });
  expect(first.status()).toBe(206);
  const videoSize = Number(first.headers()["content-range"]?.split("/")[1]);
  expect(videoSize).toBeGreaterThan(1);
  const videoPastEnd = await api.get(`/api/media/${created.id}`, { headers: { range: `bytes=${videoSize}-` } });
  expect(videoPastEnd.status()).toBe(416);
  expect(videoPastEnd.headers()["content-range"]).toBe(`bytes */${videoSize}`);

  // 5. NUL bytes and invalid UTF-8 are bad input (400), never a database error (500).
  const leaks = /prisma|postgres|invalid byte sequence|22021|0x00/i;
  for (const res of [
    await trpcQuery(api, "tasks.get", { id: "abc\u0000def" }),
    await trpcMutation(api, "tasks.create", { prompt: "A cat\u0000", image_start: url }),
    await api.get("/api/media/abc%00def"),
    await api.post("/api/callbacks/evolink/abc%00?token=x", { data: "{}" }),
    await api.post("/api/trpc/tasks.create", { data: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), headers: { "content-type": "application/json" } }),
  ]) {
    expect(res.status(), await res.text()).toBe(400);
    expect(await res.text()).not.toMatch(leaks);
  }

  // 6. Metrics counted inside the route bundles reach the web server's one registry; its gauges come from the database.
  expect((await api.get("/metrics")).status()).toBe(401);
  const scraped = await api.get("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(scraped.status()).toBe(200);
  const text = await scraped.text();
  expect(text).toMatch(/^portal_provider_requests_total\{operation="create",outcome="bad_request"\} 1$/m);
  expect(text).toMatch(/^portal_provider_requests_total\{operation="create",outcome="ok"\} [1-9]\d*$/m);
  expect(text).toMatch(/^portal_tasks\{status="completed"\} [1-9]\d*$/m);
  expect(text).toMatch(/^portal_tasks\{status="failed"\} [1-9]\d*$/m);
});

test("the unreachable provider: the submit fails at once with a plain reason, unbilled", async ({ browser }) => {
  const context = await browser.newContext({ baseURL: UNREACHABLE.baseURL });
  const page = await context.newPage();
  // 1. The first request to build the services: the uploads/[name] bundle.
  expect((await page.request.get("/api/uploads/00000000-0000-4000-8000-000000000000.png?token=x")).status()).toBe(404);
  // 2. Signing in (the sign-in page's bundle), then the submit (the tRPC bundle).
  await signIn(page);
  await page.getByRole("link", { name: "New video" }).click();
  await page.getByLabel("First frame image URL").fill("https://media.invalid/first-frame.png");
  const prompt = `Nobody answers (${Date.now()})`;
  await page.getByLabel("Prompt", { exact: true }).fill(prompt);
  // The form checks the typed link on its own (here it cannot be fetched: unchecked) and disables Generate meanwhile.
  await fileChecked(page);
  await page.getByRole("button", { name: "Generate video" }).click();
  const reason = page.getByRole("alert").filter({ hasText: "The video service could not be reached, so nothing was sent." });
  await expect(reason).toBeVisible();
  await expect(reason).not.toContainText("127.0.0.1");
  await page.getByRole("link", { name: "My history" }).click();
  const row = page.getByRole("row").filter({ hasText: prompt });
  await expect(row.locator('[data-status="failed"]')).toBeVisible();
  await expect(row.getByTestId("billed")).toHaveText("0 s");
  await row.getByRole("link").click();
  await expect(page.getByText("could not be reached, so nothing was sent")).toBeVisible();
  await expect(page.getByText("The provider did not confirm the submission yet")).toHaveCount(0);
  await context.close();
});
