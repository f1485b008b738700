/**
 * Every page passes an axe check (WCAG 2 A and AA rules) and fits a 390 px
 * phone without sideways scrolling.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { expect, signIn, test } from "./fixtures.ts";
import { trpcData, trpcQuery } from "./helpers.ts";

async function expectAccessible(page: Page, what: string) {
  const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(violations.map((v) => `${what}: ${v.id} (${v.nodes.length}): ${v.help}`)).toEqual([]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${what} scrolls sideways by ${overflow} px`).toBeLessThanOrEqual(0);
}

for (const width of [1280, 390]) {
  test(`the pages pass axe and fit the screen at ${width} px`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    await page.goto("/signin");
    await expectAccessible(page, "sign-in");
    await signIn(page);
    await expectAccessible(page, "history");
    await page.goto("/tasks/new");
    await expect(page.getByRole("heading", { name: "New video" })).toBeVisible();
    await expectAccessible(page, "new video");
    await page.goto("/account");
    await expect(page.getByTestId("sessions")).toBeVisible();
    await expectAccessible(page, "account");
    const tasks = await trpcData<Array<{ id: string }>>(await trpcQuery(page.request, "tasks.mine"));
    if (tasks[0]) {
      await page.goto(`/tasks/${tasks[0].id}`);
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      await expectAccessible(page, "task");
    }
    await page.goto("/no-such-page");
    await expectAccessible(page, "not found");
  });
}
