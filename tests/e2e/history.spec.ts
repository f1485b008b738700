/**
 * One's history as a member uses it, on the production server: totals of the
 * filtered set, filters kept in the URL (shared and reloaded), search, order,
 * keyset pages, thumbnails, live progress, whole prompts on focus, and cards
 * on a phone. Screenshots of the history (desktop and phone) are attached.
 */
import type { APIRequestContext } from "@playwright/test";
import { expect, expectAccessible, saveScreenshot, signedInContext, test } from "./fixtures.ts";
import { simulatorFaults, trpcData, trpcMutation, upload } from "./helpers.ts";
import { addUser, MAIN } from "./instances.ts";

async function create(api: APIRequestContext, image: string, input: Record<string, unknown>): Promise<string> {
  return (await trpcData<{ id: string }>(await trpcMutation(api, "tasks.create", { image_start: image, ...input }))).id;
}

test("a member browses their history: totals, filters in the URL, search, order, pages, cards on a phone", async ({ browser }, testInfo) => {
  test.setTimeout(180_000);
  const member = addUser(MAIN, `hana-${Date.now()}@e2e.test`);
  const { page, context } = await signedInContext(browser, member);
  const api = page.request;
  const { url: image } = (await (await upload(api, "image_start", "image-240x240.png")).json()) as { url: string };
  const long = `Lighthouse keeper climbing the spiral stairs at night, lamp in hand, ${"storm outside the windows, ".repeat(8)}the end.`;
  await simulatorFaults(api, { failTask: { marker: "[refuse-me]", code: "content_policy_violation" } });
  await create(api, image, { prompt: "Lighthouse at dawn" });
  await create(api, image, { prompt: "Fox in the snow", quality: "1080p", duration: 10 });
  await create(api, image, { prompt: "Desert road at noon [refuse-me]" });
  await create(api, image, { prompt: long, duration: 3 });
  // 20 more, so the list has a second page.
  for (let i = 0; i < 20; i++) await create(api, image, { prompt: `Filler shot ${i}`, duration: 2 });
  await expect.poll(async () => (await trpcData<{ running: number }>(await api.get(`/api/trpc/tasks.historyTotals?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`))).running, { timeout: 60_000 }).toBe(0);

  await page.goto("/tasks");
  await expect(page).toHaveTitle("My history · Wan video portal");
  const totals = page.getByTestId("history-totals");
  await expect(totals).toContainText("24 tasks");
  const rows = page.getByTestId("history").locator("tbody tr");
  await expect(rows).toHaveCount(20);
  await page.getByRole("button", { name: "Show more" }).click();
  await expect(rows).toHaveCount(24);
  await expect(page.getByRole("button", { name: "Show more" })).toHaveCount(0);
  // Finished videos have a thumbnail drawn by the browser from the video.
  await expect(rows.first().locator("video.thumb")).toHaveAttribute("src", /#t=0\.1$/);

  // The whole prompt is the link's name; shown whole when focused.
  const longLink = page.getByRole("link", { name: long });
  const clamped = (await longLink.boundingBox())!.height;
  await longLink.focus();
  await expect.poll(async () => (await longLink.boundingBox())!.height).toBeGreaterThan(clamped);

  // Search: in the URL, kept on reload.
  await page.getByLabel("Prompt contains").fill("lighthouse");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/\?q=lighthouse$/);
  await expect(rows).toHaveCount(2);
  await expect(totals).toContainText("2 tasks");
  await page.reload();
  await expect(page.getByLabel("Prompt contains")).toHaveValue("lighthouse");
  await expect(rows).toHaveCount(2);

  // Status, order, quality.
  await page.getByRole("button", { name: "Clear filters" }).click();
  await page.getByLabel("Status").selectOption("failed");
  await expect(page).toHaveURL(/status=failed/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("Desert road at noon");
  await expect(totals).toContainText("1 task ·");
  await page.getByLabel("Status").selectOption("");
  await page.getByLabel("Order").selectOption("cost");
  await expect(rows.first()).toContainText("Fox in the snow");
  await page.getByLabel("Quality").selectOption("1080p");
  await expect(rows).toHaveCount(1);
  await expect(totals).toContainText("1 task · 10 s billed · 1.44 USD for these filters");
  // A shared link opens the same view (the address is replaced by the page itself: read it once it holds the view).
  await expect(page).toHaveURL(/quality=1080p&sort=cost$/);
  const shared = page.url();
  const other = await context.newPage();
  await other.goto(shared);
  await expect(other.getByTestId("history").locator("tbody tr")).toHaveCount(1);
  await other.close();
  await page.getByRole("button", { name: "Clear filters" }).click();

  // Mode and days (in the reporting time zone; a wide window around today holds every task, one in the future none).
  await page.getByLabel("Mode", { exact: true }).selectOption("first_last_frame");
  await expect(page).toHaveURL(/\?mode=first_last_frame&sort=cost$/); // "Clear filters" keeps the order
  // No rows while the list loads, too: the list has answered when it says so.
  await expect(page.getByText("No task matches these filters.")).toBeVisible();
  await expect(rows).toHaveCount(0);
  await expect(totals).toContainText("0 tasks");
  await page.getByLabel("Mode", { exact: true }).selectOption("first_frame");
  await expect(totals).toContainText("24 tasks");
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel("From", { exact: true }).fill(day(-2));
  await page.getByLabel("To", { exact: true }).fill(day(2));
  await expect(page).toHaveURL(new RegExp(`\\?mode=first_frame&from=${day(-2)}&to=${day(2)}&sort=cost$`));
  await expect(totals).toContainText("24 tasks");
  await page.getByLabel("To", { exact: true }).fill(day(4));
  await page.getByLabel("From", { exact: true }).fill(day(3));
  await expect(totals).toContainText("0 tasks");
  await expect(page.getByText("No task matches these filters.")).toBeVisible();
  await expect(rows).toHaveCount(0);
  await page.getByRole("button", { name: "Clear filters" }).click();
  await page.getByLabel("Order").selectOption("newest");
  // "Clear filters" alone (highest cost first) also shows 20 rows: wait for the newest-first view itself before
  // the axe check and the screenshot, which would otherwise run while the list replaces itself.
  await expect(page).toHaveURL(/\/tasks$/);
  await expect(rows.first()).toContainText("Filler shot 19");
  await expect(rows).toHaveCount(20);

  await expectAccessible(page, "history");
  await saveScreenshot(page, testInfo, "history-desktop");

  // A phone: rows are cards, nothing scrolls sideways, the menu opens.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByRole("navigation", { name: "Main" })).toBeHidden();
  await page.getByRole("button", { name: "Menu" }).click();
  await expect(page.getByRole("link", { name: "My history" })).toHaveAttribute("aria-current", "page");
  await page.getByRole("button", { name: "Menu" }).click();
  await expectAccessible(page, "history on a phone");
  await saveScreenshot(page, testInfo, "history-phone");
  await context.close();
});

test("a running task shows live progress, and the list updates when it ends", async ({ browser }) => {
  const member = addUser(MAIN, `rita-${Date.now()}@e2e.test`);
  const { page, context } = await signedInContext(browser, member);
  const { url: image } = (await (await upload(page.request, "image_start", "image-240x240.png")).json()) as { url: string };
  // A slow task (five steps of 1.5 s at the provider): still running when the page shows it. (A callback delayed after a
  // quick task did not hold it: the reconciler's first poll, due at once, could end it before the page was up.)
  const marker = `[slow-run-${Date.now()}]`;
  await simulatorFaults(page.request, { pace: { marker, count: 1, stepMs: 1500 } });
  await create(page.request, image, { prompt: `Slow run ${marker}` });
  await page.goto("/tasks");
  const row = page.getByTestId("history").locator("tbody tr").first();
  await expect(row.getByRole("progressbar")).toBeVisible();
  await expect(row.locator('[data-status="completed"]')).toBeVisible({ timeout: 30_000 });
  await expect(row.getByRole("progressbar")).toHaveCount(0);
  await context.close();
});
