import { expect, type Page } from "@playwright/test";

export const E2E_ADMIN = { email: "admin@e2e.test", password: "e2e-admin-password" };

/** Signs in as the bootstrap admin from a signed-out page, landing on "My history". */
export async function signIn(page: Page) {
  await page.goto("/tasks");
  await expect(page).toHaveURL(/\/signin/);
  await page.getByLabel("Email").fill(E2E_ADMIN.email);
  await page.getByLabel("Password").fill(E2E_ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
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
}
