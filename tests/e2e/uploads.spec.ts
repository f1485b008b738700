import path from "node:path";
import type { Page } from "@playwright/test";
import { expect, openNewTaskForm, test } from "./fixtures.ts";

const media = (name: string) => path.resolve(import.meta.dirname, "../fixtures/media", name);

/** Clicks the field's own upload button ("Upload first frame image…") and picks `file` in the file chooser, as a person would. */
async function uploadFor(page: Page, field: string, label: string, file: string) {
  const chooser = page.waitForEvent("filechooser");
  await page.getByTestId(`field-${field}`).getByRole("button", { name: `Upload ${label}…` }).click();
  await (await chooser).setFiles(media(file));
}

test("upload the first frame from the computer: a preview with its name and what was measured, and the task completes", async ({ page, request }) => {
  await openNewTaskForm(page);
  // Hold the upload, to see the form wait for it.
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  await page.route("**/api/uploads", async (route) => {
    await held;
    await route.continue();
  });

  await uploadFor(page, "image_start", "first frame image", "image-240x240.png");
  const button = page.getByTestId("field-image_start").getByRole("button", { name: "Uploading first frame image…" });
  await expect(button).toBeDisabled();
  await expect(page.getByRole("button", { name: "Generate video" })).toBeDisabled();
  release();

  // The file, not its raw tokened link: a preview, its name, what was measured, and Remove.
  const field = page.getByTestId("field-image_start");
  await expect(field.getByTestId("file-name-image_start")).toHaveText("image-240x240.png");
  await expect(field.getByTestId("facts-image_start")).toHaveText(/^Measured: PNG · 240×240 px · [\d.]+ (kB|bytes) · meets the rules$/);
  const preview = field.getByRole("img", { name: "Preview of the first frame image (image-240x240.png)" });
  await expect(preview).toBeVisible();
  await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(240);
  await expect(page.getByLabel("First frame image URL")).toHaveCount(0);
  await expect(field).not.toContainText("token=");
  await expect(field.getByRole("button", { name: "Remove first frame image" })).toBeVisible();
  // The link serves the file to anyone holding it: `request` has no session, like the provider.
  const link = (await preview.getAttribute("src"))!;
  expect(link).toMatch(/^http:\/\/localhost:\d+\/api\/uploads\/[0-9a-f-]{36}\.png\?token=[\w-]{43}$/);
  const served = await request.get(link);
  expect(served.status()).toBe(200);
  expect(served.headers()["content-type"]).toBe("image/png");

  await page.getByLabel("Prompt", { exact: true }).fill(`An uploaded first frame comes to life (${Date.now()})`);
  await page.getByRole("button", { name: "Generate video" }).click();
  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  await expect(page.locator('[data-status="completed"]')).toBeVisible({ timeout: 30_000 });
});

test("a refused upload is said beside its field without taking the field's file; the next change clears it", async ({ page }) => {
  await openNewTaskForm(page);
  const url = page.getByLabel("First frame image URL");
  const before = await url.inputValue();

  await uploadFor(page, "image_start", "first frame image", "image-200x200.png");
  const refusal = page.locator('[data-field="image_start"][data-upload="refused"]');
  await expect(refusal).toHaveText(
    "The first frame image is 200×200 px; each side must be at least 240 px. Use a larger image. (image-200x200.png was not used; the field keeps first-frame.png.)",
  );
  await expect(url).toHaveValue(before);
  // The field itself still holds a valid file: it is not marked invalid.
  await expect(url).not.toHaveAttribute("aria-invalid", "true");

  await uploadFor(page, "audio_urls", "driving audio", "not-media.txt");
  await expect(page.locator('[data-field="audio_urls"]')).toHaveText("not-media.txt is not an audio file we can read; choose a WAV or MP3 file");

  // A good file afterwards clears the message: an old upload's error never sticks beside a valid file.
  await uploadFor(page, "image_start", "first frame image", "image-320x240.jpg");
  await expect(page.getByTestId("file-name-image_start")).toHaveText("image-320x240.jpg");
  await expect(page.locator('[data-field="image_start"]')).toHaveCount(0);
  // A bad upload over a good upload: said, and the good one stays.
  await uploadFor(page, "image_start", "first frame image", "clip-3s-320x240.mp4");
  await expect(page.locator('[data-field="image_start"]')).toHaveText(
    /^The first frame image is a video \(MP4, 3 s\), not an image\. A first frame must be an image\. To continue this video, switch to Continue a video .*\(clip-3s-320x240\.mp4 was not used; the field keeps image-320x240\.jpg\.\)$/,
  );
  // Remove empties the field and clears the message; the link field is back.
  await page.getByRole("button", { name: "Remove first frame image" }).click();
  await expect(page.getByLabel("First frame image URL")).toHaveValue("");
  await expect(page.locator('[data-field="image_start"][data-upload="refused"]')).toHaveCount(0);
});
