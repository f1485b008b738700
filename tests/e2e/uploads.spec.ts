import path from "node:path";
import type { Page } from "@playwright/test";
import { expect, openNewTaskForm, test } from "./fixtures.ts";

const media = (name: string) => path.resolve(import.meta.dirname, "../fixtures/media", name);


/** Clicks the field's "Upload…" button and picks `file` in the file chooser, as a person would. */
async function uploadFor(page: Page, field: string, file: string) {
  const chooser = page.waitForEvent("filechooser");
  await page.getByTestId(`field-${field}`).getByRole("button", { name: "Upload…" }).click();
  await (await chooser).setFiles(media(file));
}

test("upload the first frame from the computer: the URL field fills, and the task completes", async ({ page, request }) => {
  await openNewTaskForm(page);
  // Hold the upload, to see the form wait for it.
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  await page.route("**/api/uploads", async (route) => {
    await held;
    await route.continue();
  });

  await uploadFor(page, "image_start", "image-240x240.png");
  const button = page.getByTestId("field-image_start").getByRole("button", { name: "Uploading…" });
  await expect(button).toBeDisabled();
  await expect(page.getByRole("button", { name: "Generate video" })).toBeDisabled();
  release();

  const url = page.getByLabel("First frame image URL");
  await expect(url).toHaveValue(/^http:\/\/localhost:\d+\/api\/uploads\/[0-9a-f-]{36}\.png\?token=[\w-]{43}$/);
  await expect(page.getByTestId("field-image_start").getByRole("button", { name: "Upload…" })).toBeEnabled();
  // The link serves the file to anyone holding it: `request` has no session, like the provider.
  const served = await request.get(await url.inputValue());
  expect(served.status()).toBe(200);
  expect(served.headers()["content-type"]).toBe("image/png");

  await page.getByLabel("Prompt", { exact: true }).fill(`An uploaded first frame comes to life (${Date.now()})`);
  await page.getByRole("button", { name: "Generate video" }).click();
  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  await expect(page.locator('[data-status="completed"]')).toBeVisible({ timeout: 30_000 });
});

test("a file that breaks a media rule is refused beside its field, and the field keeps its URL", async ({ page }) => {
  await openNewTaskForm(page);
  const url = page.getByLabel("First frame image URL");
  const before = await url.inputValue();

  await uploadFor(page, "image_start", "image-200x200.png");
  await expect(page.locator('[data-field="image_start"]')).toHaveText("image_start is 200×200 px; each side must be at least 240 px. Use a larger image.");
  await expect(url).toHaveValue(before);

  await uploadFor(page, "audio_urls", "not-media.txt");
  await expect(page.locator('[data-field="audio_urls"]')).toHaveText("not-media.txt is not an audio file we can read; choose a WAV or MP3 file");

  // A good file afterwards clears the message.
  await uploadFor(page, "image_start", "image-320x240.jpg");
  await expect(url).toHaveValue(/\/api\/uploads\/[0-9a-f-]{36}\.jpg\?token=/);
  await expect(page.locator('[data-field="image_start"]')).toHaveCount(0);
});
