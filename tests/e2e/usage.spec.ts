/**
 * The usage page and budgets as an admin and a member use them, on the
 * production server: periods and grouping, a click into a person's tasks, the
 * CSV download read back and checked against the page, a budget set from the
 * page and the member over it refused before anything is sent (and by the
 * server too). A screenshot of the usage page is attached to the results.
 */
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import type { Page } from "@playwright/test";
import { expect, expectAccessible, fileChecked, saveScreenshot, signedInContext, signIn, test } from "./fixtures.ts";
import { trpcMutation } from "./helpers.ts";
import { addUser, MAIN } from "./instances.ts";

/** Submits a first-frame video with the sample image and waits for its page. */
async function makeVideo(page: Page, prompt: string) {
  await page.getByRole("link", { name: "New video" }).click();
  await page.getByLabel("Prompt", { exact: true }).fill(prompt);
  // The form checks its first frame link on its own and disables Generate meanwhile: click once that check has ended.
  await fileChecked(page);
  await page.getByRole("button", { name: "Generate video" }).click();
  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  await expect(page.locator('[data-status="completed"]')).toBeVisible({ timeout: 30_000 });
}

test("an admin reviews the month: periods, grouping, a person's tasks, the CSV; a member over budget is refused", async ({ page, browser }, testInfo) => {
  test.setTimeout(150_000);
  const member = addUser(MAIN, `uma-${Date.now()}@e2e.test`);
  const uma = await signedInContext(browser, member);
  await makeVideo(uma.page, "Uma's first video of the month");
  // Her own month at the top of her history.
  await uma.page.getByRole("link", { name: "My history", exact: true }).click();
  await expect(uma.page.getByTestId("my-usage")).toContainText("1 videos");
  await expect(uma.page.getByTestId("my-cost")).toHaveText("0.43 USD");

  // The admin's usage page.
  await signIn(page);
  await page.getByRole("link", { name: "Usage" }).click();
  await expect(page.getByRole("heading", { name: "Usage", level: 1 })).toBeVisible();
  await expect(page.getByTestId("period-label")).toContainText("UTC");
  const row = page.locator(`tr[data-person="${member.email}"]`);
  await expect(row.getByTestId("person-cost")).toHaveText("0.43 USD");
  const pageTotal = (await page.getByTestId("cost-total").locator(".stat-value").textContent())!;
  await expect(page.locator(".recharts-surface").first()).toBeVisible();
  await expect(page.getByTestId("compared-with")).toContainText("(as far as now)"); // this month so far against last month as far
  await expectAccessible(page, "usage");
  await saveScreenshot(page, testInfo, "usage-page");

  // Other periods and groupings.
  await page.getByLabel("Period", { exact: true }).selectOption("last-month");
  await expect(page.getByTestId("period-label")).not.toContainText(new Date().toLocaleDateString("en-GB", { month: "long", timeZone: "UTC" }));
  await page.getByLabel("Period", { exact: true }).selectOption("week");
  await expect(page.getByTestId("period-label")).toContainText("Week of");
  await expect(row).toHaveCount(1);
  await page.getByLabel("Chart by").selectOption("quality");
  await expect(page.locator(".recharts-legend-item-text", { hasText: "720p" })).toBeVisible();
  await page.getByLabel("Period", { exact: true }).selectOption("this-month");

  // The CSV of every task: read back, it adds up to the page.
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download every task (CSV)" }).click();
  const file = await (await download).path();
  const rows = parse(readFileSync(file), { bom: true, columns: true }) as Array<Record<string, string>>;
  expect(rows.some((r) => r.owner_email === member.email && r.cost === "0.430000")).toBe(true);
  const csvTotal = rows.reduce((s, r) => s + Math.round(Number(r.cost || 0) * 1e6), 0) / 1e6;
  expect(`${csvTotal.toFixed(2)} USD`).toBe(pageTotal);
  const peopleDownload = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download people (CSV)" }).click();
  const people = parse(readFileSync(await (await peopleDownload).path()), { bom: true, columns: true }) as Array<Record<string, string>>;
  expect(people.find((p) => p.email === member.email)).toMatchObject({ tasks: "1", cost: "0.430000" });

  // A budget for Uma, set on the page: room for one more video only.
  await row.getByRole("button", { name: `Set monthly budget of ${member.email}` }).click();
  await row.getByLabel(`monthly budget of ${member.email}`).fill("1");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(row).toContainText("0.43 / 1.00 USD");

  // Uma sees what is left, makes one more, then is refused before anything is sent.
  await makeVideo(uma.page, "Uma's second video");
  await uma.page.getByRole("link", { name: "New video" }).click();
  await expect(uma.page.getByTestId("budget-left")).toContainText("Your budget: 0.14 USD left this month (86 % used)");
  const sent: string[] = [];
  uma.page.on("request", (r) => r.url().includes("tasks.create") && sent.push(r.url()));
  await uma.page.getByLabel("Prompt", { exact: true }).fill("Uma's third video");
  await fileChecked(uma.page);
  await uma.page.getByRole("button", { name: "Generate video" }).click();
  await expect(uma.page.getByText(/^This video is estimated at 0\.43 USD, but your monthly budget has 0\.14 USD left \(of 1\.00 USD\)\. It renews on 1 /)).toBeVisible();
  expect(sent).toEqual([]);
  // The server refuses it too, whatever the browser does.
  const direct = await trpcMutation(uma.page.request, "tasks.create", { prompt: "Around the form", image_start: await uma.page.getByLabel("First frame image URL").inputValue() });
  expect(direct.status()).toBe(402);
  expect(await direct.text()).toContain("your monthly budget has 0.14 USD left");
  // The admin sees the threshold on the usage page.
  // The admin sees it reached: 86 % used and a video refused (one notice, no mail server here).
  await page.reload();
  await expect(row.locator("[data-threshold]")).toContainText("used up");
  await uma.context.close();

  // Anyone's own budget, also for someone with no task this month.
  const newcomer = addUser(MAIN, `newcomer-${Date.now()}@e2e.test`);
  await page.reload();
  const form = page.getByRole("form", { name: "A person's own budget" });
  await form.getByLabel("Person").selectOption({ label: newcomer.email });
  await form.getByLabel(/Own monthly budget/).fill("2.5");
  await form.getByRole("button", { name: "Set" }).click();
  await expect(form.getByRole("status")).toHaveText(`${newcomer.email} now has 2.50 USD a month.`);
});

test("a click on a person opens their tasks for the period", async ({ page }) => {
  await signIn(page);
  await page.goto("/admin/usage");
  const first = page.getByTestId("people").locator("tbody tr").first();
  const email = (await first.getAttribute("data-person"))!;
  await first.getByRole("link").click();
  await expect(page).toHaveURL(/\/admin\/tasks\?user=.+&since=.+&until=/);
  await expect(page.getByTestId("since-until")).toBeVisible();
  await expect(page.getByTestId("all-tasks")).toBeVisible();
  const owners = await page.getByTestId("all-tasks").locator("tbody tr td[data-label='Owner']").allTextContents();
  expect(owners.length).toBeGreaterThan(0);
  expect(new Set(owners)).toEqual(new Set([email]));
});
