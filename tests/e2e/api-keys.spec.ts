/**
 * Personal API keys in the browser, on the production server: a member makes
 * a key, sees it (and its signing secret) once, finds it listed by its
 * prefix, and revokes it; an admin finds another person's key (made with
 * `npm run key:add`) and revokes it, and the audit log says so. The pages
 * pass axe and fit a 390 px phone.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, expectAccessible, saveScreenshot, signedInContext, signIn, test } from "./fixtures.ts";
import { addUser, launcherEnv, MAIN } from "./instances.ts";

const PHONE = { width: 390, height: 844 };

/** `npm run key:add`'s script against the main instance (its embedded database and local secret); returns what it printed. */
function addKey(email: string, name: string): { key: string; signingSecret: string } {
  const out = execFileSync(process.execPath, ["--import", "tsx", "scripts/add-key.ts", email, name], {
    cwd: path.resolve(import.meta.dirname, "../.."),
    env: { ...process.env, ...launcherEnv(MAIN) },
    encoding: "utf8",
  });
  return { key: /key: +(wvp_\w{40})/.exec(out)?.[1] ?? "", signingSecret: /signing secret: +(wvps_[\w-]+)/.exec(out)?.[1] ?? "" };
}

test("a member makes a key, sees it once, finds it by its prefix, and revokes it", async ({ browser }, testInfo) => {
  const account = addUser(MAIN, `kim-keys-${Date.now()}@e2e.test`);
  const { context, page } = await signedInContext(browser, account);
  await page.getByRole("link", { name: "API keys" }).click();
  await expect(page.getByRole("heading", { name: "API keys", level: 1 })).toBeVisible();
  await expect(page.getByText("You have no keys yet.")).toBeVisible();

  // A name is needed.
  await page.getByRole("button", { name: "Make key" }).click();
  await expect(page.getByText("Give the key a name, e.g. what it is for.")).toBeVisible();

  await page.getByLabel("Name").fill("Notebook on my laptop");
  await page.getByLabel("Expires").selectOption({ label: "In 30 days" });
  await page.getByRole("button", { name: "Make key" }).click();
  const shown = page.getByTestId("new-key");
  await expect(shown).toContainText("you will not see it again");
  const key = await shown.getByRole("textbox", { name: "Key", exact: true }).inputValue();
  const signingSecret = await shown.getByRole("textbox", { name: "Signing secret" }).inputValue();
  expect(key).toMatch(/^wvp_[0-9A-Za-z]{40}$/);
  expect(signingSecret).toMatch(/^wvps_[\w-]{43}$/);
  await shown.getByRole("button", { name: "Copy the key" }).click();
  await expect(shown.getByRole("button", { name: "Copy the key" })).toHaveText("Copied");

  // Listed by its prefix, working, with its expiry.
  const prefix = key.slice(0, 12);
  const row = page.locator(`tr[data-key="${prefix}"]`);
  await expect(row).toContainText("Notebook on my laptop");
  await expect(row).toContainText(`${prefix}…`);
  await expect(row.getByTestId("key-status")).toHaveText("Working");
  await expect(row.locator('td[data-label="Expires"]')).not.toHaveText("Never");
  await expect(row.locator('td[data-label="Last used"]')).toHaveText("Never");
  await page.setViewportSize(PHONE);
  await expectAccessible(page, "API keys page with a new key (phone)");
  await saveScreenshot(page, testInfo, "api-keys-new-key");

  // Shown once: after "I have copied it", or on any later visit, the page holds only the prefix.
  await shown.getByRole("button", { name: "I have copied it" }).click();
  await expect(shown).toHaveCount(0);
  await page.reload();
  await expect(row.getByTestId("key-status")).toHaveText("Working");
  expect(await page.content()).not.toContain(key.slice(12));
  expect(await page.content()).not.toContain(signingSecret);

  // Revoked, after a confirmation.
  await row.getByRole("button", { name: "Revoke…" }).click();
  await row.getByRole("button", { name: 'Revoke "Notebook on my laptop" now' }).click();
  await expect(row.getByTestId("key-status")).toHaveText("Revoked");
  await expect(row.getByRole("button", { name: "Revoke…" })).toHaveCount(0);
  await expectAccessible(page, "API keys page with a revoked key (phone)");
  await context.close();
});

test("an admin finds another person's key and revokes it; the owner and the audit log see it", async ({ page, browser }, testInfo) => {
  const owner = addUser(MAIN, `lee-keys-${Date.now()}@e2e.test`);
  const { key } = addKey(owner.email, "Nightly batch");
  expect(key).toMatch(/^wvp_/);
  const prefix = key.slice(0, 12);

  await signIn(page);
  await page.getByRole("link", { name: "All API keys" }).click();
  await expect(page.getByRole("heading", { name: "API keys of the team", level: 1 })).toBeVisible();
  await page.getByLabel("Person").selectOption({ label: owner.email });
  const row = page.locator(`tr[data-key="${prefix}"]`);
  await expect(row).toContainText(owner.email);
  await expect(row).toContainText("Nightly batch");
  await expect(row.getByTestId("key-status")).toHaveText("Working");
  await page.setViewportSize(PHONE);
  await expectAccessible(page, "the admins' API keys page (phone)");
  await saveScreenshot(page, testInfo, "api-keys-admin");

  await row.getByRole("button", { name: "Revoke…" }).click();
  await row.getByRole("button", { name: `Revoke ${owner.email}'s key "Nightly batch"` }).click();
  // Working keys only: it leaves the list; with every key, it shows as revoked.
  await expect(row).toHaveCount(0);
  await page.getByLabel("Working keys only").uncheck();
  await expect(row.getByTestId("key-status")).toHaveText("Revoked by an admin");

  await page.goto("/admin/audit");
  await page.getByLabel("What").selectOption({ label: "API key revoked" });
  await expect(page.locator('tr[data-action="api_key.revoked"]').filter({ hasText: owner.email })).toContainText(`Nightly batch (${prefix}…)`);

  // The owner sees who revoked it.
  const { context, page: ownerPage } = await signedInContext(browser, owner);
  await ownerPage.goto("/account/keys");
  await expect(ownerPage.locator(`tr[data-key="${prefix}"]`).getByTestId("key-status")).toHaveText("Revoked by an admin");
  await context.close();
});
