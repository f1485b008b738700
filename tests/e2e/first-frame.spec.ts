import { E2E_ADMIN, expect, fileChecked, signIn, test } from "./fixtures.ts";
import { simulatorFaults } from "./helpers.ts";


test("a wrong password is refused with a message", async ({ page }) => {
  await page.goto("/signin");
  await page.getByLabel("Email").fill(E2E_ADMIN.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText("Wrong email or password.")).toBeVisible();
  await page.goto("/tasks");
  await expect(page).toHaveURL(/\/signin/);
});

test("the form refuses an invalid request beside the field, before any submission", async ({ page }) => {
  await signIn(page);
  await page.getByRole("link", { name: "New video" }).click();
  await page.getByLabel("Duration (seconds)").fill("16");
  // The form checks its first frame link on its own and disables Generate meanwhile: click once that check has ended.
  await fileChecked(page);
  await page.getByRole("button", { name: "Generate video" }).click();
  await expect(page.locator('[data-field="prompt"]')).toHaveText("Describe the video in the prompt.");
  await expect(page.locator('[data-field="duration"]')).toHaveText("The duration must be a whole number of seconds from 2 to 15.");
  // Focus moves to the first field with an error, and no price is shown for 16 s.
  await expect(page.getByLabel("Prompt", { exact: true })).toBeFocused();
  await expect(page.getByTestId("estimate")).not.toContainText("USD");
  await expect(page).toHaveURL(/\/tasks\/new$/);
});

test("sign in, generate a first_frame video, watch it complete, find it in history", async ({ page }) => {
  await signIn(page);
  await page.getByRole("link", { name: "New video" }).click();
  await expect(page.getByLabel("First frame image URL")).toHaveValue(/\/samples\/first-frame\.png$/);
  await expect(page.getByTestId("estimate")).toContainText("5 s × 0.086 USD/s = 0.430 USD");

  // Paced (five steps of 1.5 s at the provider), so the task is still running when its page is up: at the simulator's
  // own pace it ends about 2 s after the submit, which a loaded machine may take to show the page.
  const marker = `#paced-${Date.now()}`;
  await simulatorFaults(page.request, { pace: { marker, count: 1, stepMs: 1500 } });
  const prompt = `A lighthouse at dawn, waves rolling in ${marker}`;
  await page.getByLabel("Prompt", { exact: true }).fill(prompt);
  // The form checks its first frame link on its own and disables Generate meanwhile: click once that check has ended.
  await fileChecked(page);
  await page.getByRole("button", { name: "Generate video" }).click();

  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  // Progress is shown without a reload while the task runs…
  await expect(page.getByRole("progressbar")).toBeVisible();
  // …until the simulator completes it and the video plays.
  await expect(page.locator('[data-status="completed"]')).toBeVisible({ timeout: 30_000 });
  const video = page.getByTestId("result-video");
  await expect(video).toBeVisible();
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.duration), { timeout: 15_000 }).toBeGreaterThan(4);
  await expect(page.getByTestId("billed")).toHaveText("5 s");
  await expect(page.getByTestId("cost")).toHaveText("0.430 USD");
  // The worker copies the result into the portal's storage; the page then plays our copy.
  await expect(page.getByTestId("archive")).toHaveText("Saved in the portal", { timeout: 30_000 });
  await expect(video).toHaveAttribute("src", /^\/api\/media\/[0-9a-f-]{36}$/);
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.duration), { timeout: 15_000 }).toBeGreaterThan(4);

  await page.getByRole("link", { name: "My history" }).first().click();
  const row = page.getByRole("row").filter({ hasText: prompt });
  await expect(row).toHaveCount(1);
  await expect(row.locator('[data-status="completed"]')).toBeVisible();
  await expect(row.getByTestId("billed")).toHaveText("5 s");
  await expect(row.getByTestId("cost")).toHaveText("0.430 USD");
  await expect(row).toContainText("First frame");
});
