/**
 * The API page in the browser, on the production server: a member makes a
 * key, opens the API page from the keys page, copies the curl example (from
 * the real clipboard), runs that request with the key, and the task appears
 * in their history and on its page marked as made with that key; the
 * admins' list and usage review (by source) name the key too. The page
 * passes axe and fits a 390 px phone, its code scrolling inside its boxes.
 */
import { E2E_ADMIN, expect, expectAccessible, saveScreenshot, signedInContext, test } from "./fixtures.ts";
import { addUser, MAIN } from "./instances.ts";

/** The parts of a copied curl command: method, URL, headers (the key's variable filled in), body. */
function parseCurl(command: string, key: string) {
  const text = command.replace(/\\\n\s*/g, " ");
  const url = /"(https?:\/\/[^"]+)"/.exec(text)?.[1];
  const method = /-X (\w+)/.exec(text)?.[1] ?? "GET";
  const headers = Object.fromEntries(
    [...text.matchAll(/-H "([^:"]+): ([^"]*)"/g)].map(([, name, value]) => [name!, value!.replace("$WVP_API_KEY", key)]),
  );
  const body = /-d '([^']*)'/.exec(text)?.[1];
  return { url, method, headers, body };
}

test("a member copies the curl example, runs it with their new key, and the task shows in their history as made with that key", async ({ browser }, testInfo) => {
  const account = addUser(MAIN, `api-page-${Date.now()}@e2e.test`);
  const { context, page } = await signedInContext(browser, account);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: MAIN.baseURL });

  await page.getByRole("link", { name: "API keys", exact: true }).click();
  await page.getByLabel("Name").fill("Notebook for the API page");
  await page.getByRole("button", { name: "Make key" }).click();
  const key = await page.getByTestId("new-key").getByRole("textbox", { name: "Key", exact: true }).inputValue();
  expect(key).toMatch(/^wvp_[0-9A-Za-z]{40}$/);
  const prefix = key.slice(0, 12);

  await page.getByRole("link", { name: /How to use a key/ }).click();
  await expect(page).toHaveURL(/\/account\/api$/);
  await expect(page.getByRole("heading", { name: "API", level: 1 })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).locator('[aria-current="page"]')).toHaveText("API");
  await expect(page.getByRole("textbox", { name: "Base URL" })).toHaveValue(`${MAIN.baseURL}/v1`);
  await expect(page.getByRole("link", { name: /OpenAPI document/ })).toHaveAttribute("href", "/v1/openapi.json");

  // The curl example, as the clipboard holds it.
  const create = page.getByTestId("example-create");
  await create.getByRole("button", { name: /^Copy/ }).click();
  await expect(create.getByRole("button", { name: /^Copy/ })).toHaveText("Copied");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(await create.locator("pre").innerText());
  expect(copied).toContain("$WVP_API_KEY");
  expect(copied).not.toContain(key);

  // The same request, with the key (no session: the key alone).
  const curl = parseCurl(copied, key);
  expect(curl).toMatchObject({ url: `${MAIN.baseURL}/v1/videos/generations`, method: "POST" });
  const res = await fetch(curl.url!, { method: curl.method, headers: curl.headers, body: curl.body });
  const made = (await res.json()) as { id: string; status: string; object: string };
  expect(res.status, JSON.stringify(made)).toBe(200);
  expect(made.object).toBe("video.generation.task");

  // The other languages are one choice away.
  await page.getByRole("radio", { name: "Python (requests)" }).check();
  await expect(create.locator("pre")).toContainText("requests.post(");
  await page.getByRole("radio", { name: "JavaScript (fetch)" }).check();
  await expect(create.locator("pre")).toContainText("await fetch(");
  await page.getByRole("radio", { name: "curl" }).check();

  // On a phone: readable, no sideways scrolling of the page (the code scrolls in its box).
  await page.setViewportSize({ width: 390, height: 844 });
  await expectAccessible(page, "API page (phone)");
  const pre = create.locator("pre");
  expect(await pre.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
  await saveScreenshot(page, testInfo, "api-page-phone");
  await page.setViewportSize({ width: 1280, height: 900 });
  await expectAccessible(page, "API page");

  // In the history, marked with the key; and on the task's page.
  const label = `API key “Notebook for the API page” (${prefix}…)`;
  await page.getByRole("link", { name: "My history" }).click();
  const row = page.locator(`tr[data-task-id="${made.id}"]`);
  await expect(row.getByTestId("source")).toHaveText(label);
  await row.getByRole("link").first().click();
  await expect(page).toHaveURL(new RegExp(`/tasks/${made.id}$`));
  await expect(page.getByTestId("source")).toHaveText(label);
  await context.close();

  // The admins see the key on their list of every task, and in the usage review by source, with its owner.
  const admin = await signedInContext(browser, E2E_ADMIN);
  await admin.page.goto("/admin/tasks");
  await expect(admin.page.locator(`tr[data-task-id="${made.id}"]`).getByTestId("source")).toHaveText(label);
  await admin.page.goto("/admin/usage");
  const bySource = admin.page.getByTestId("usage-by-source");
  await expect(bySource).toContainText(label);
  await expect(bySource.getByRole("row").filter({ hasText: label })).toContainText(account.email);
  await admin.context.close();
});
