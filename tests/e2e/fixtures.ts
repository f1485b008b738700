/**
 * Shared steps of the browser tests, and `test` itself: every test fails if
 * the page reports a Content-Security-Policy violation, so the policy is
 * checked on everything a person does.
 */
import AxeBuilder from "@axe-core/playwright";
import path from "node:path";
import { test as base, expect, type Browser, type BrowserContext, type ConsoleMessage, type Page, type TestInfo } from "@playwright/test";
import { E2E_ADMIN, MAIN } from "./instances.ts";

export { E2E_ADMIN };
export { expect };

export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ page, browser }, use) => {
      const violations: string[] = [];
      const watch = (msg: ConsoleMessage) => {
        if (/Content Security Policy|Content-Security-Policy/i.test(msg.text())) violations.push(msg.text());
      };
      page.on("console", watch);
      // Pages of contexts the test opens itself (other devices, other servers) are watched too.
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const context = await newContext(options);
        context.on("console", watch);
        return context;
      };
      try {
        await use(violations);
      } finally {
        browser.newContext = newContext;
      }
      expect(violations, "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
});

/** Signs in from a signed-out page (of any server: paths are its context's), landing on "My history". */
export async function signIn(page: Page, account: { email: string; password: string } = E2E_ADMIN) {
  await page.goto("/tasks");
  await expect(page).toHaveURL(/\/signin/);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "My history" })).toBeVisible();
}

/** Opens the "New video" form, signing in first when needed. */
export async function openNewTaskForm(page: Page) {
  await page.goto("/tasks/new");
  if (/\/signin/.test(page.url())) {
    await signIn(page);
    await page.getByRole("link", { name: "New video" }).click();
  }
  await expect(page.getByRole("heading", { name: "New video" })).toBeVisible();
  await formReady(page);
}

/**
 * Waits until the new video form is live: the page is server-rendered, so its fields show before React has
 * taken them over; a choice made before that (a mode selected, a prompt typed) could be lost, and a saved
 * draft is restored just after.
 */
export async function formReady(page: Page) {
  await expect(page.locator('form[aria-label="New video"]')).toHaveAttribute("data-ready", "true");
}

/**
 * Waits until the new video form has checked the file link in `field` (the sample first frame the form opens
 * with, or a link just typed). The form checks a link on its own a moment after it is given and disables
 * "Generate video" while the check runs: a click whose actionability check passed just before the check
 * started lands on a disabled button and submits nothing. Once the check has ended the button stays as it is.
 */
export async function fileChecked(page: Page, field = "image_start") {
  await expect(page.getByTestId(`facts-${field}`)).toHaveAttribute("data-status", /^(ok|refused|unchecked)$/);
}

/** A new browser context (another device) signed in as `account`; `headers` go with every request. */
export async function signedInContext(
  browser: Browser,
  account: { email: string; password: string },
  opts: { baseURL?: string; headers?: Record<string, string> } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: opts.baseURL ?? MAIN.baseURL, extraHTTPHeaders: opts.headers });
  const page = await context.newPage();
  await signIn(page, account);
  return { context, page };
}

/** The page passes an axe check (WCAG 2.1 A and AA) and does not scroll sideways at its current width. */
export async function expectAccessible(page: Page, what: string) {
  const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(violations.map((v) => `${what}: ${v.id} (${v.nodes.length}): ${v.help}`)).toEqual([]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${what} scrolls sideways by ${overflow} px`).toBeLessThanOrEqual(0);
}

/**
 * A full-page screenshot at `test-results/screenshots/<name>.png` (one fixed
 * folder, so the paths can be listed), attached to the test's results too.
 */
export async function saveScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<string> {
  const file = path.join(testInfo.project.outputDir, "screenshots", `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
  return file;
}
