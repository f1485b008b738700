import type { Page } from "@playwright/test";
import { expect, openNewTaskForm, test } from "./fixtures.ts";


/** Records calls to tasks.create, to prove that nothing was submitted. */
function watchSubmissions(page: Page): string[] {
  const calls: string[] = [];
  page.on("request", (req) => {
    if (req.url().includes("tasks.create")) calls.push(req.url());
  });
  return calls;
}

const FIELDS = {
  image_start: "First frame image URL",
  image_end: "Last frame image URL",
  video_urls: "Video clip URL",
  audio_urls: "Driving audio URL",
} as const;

async function expectFields(page: Page, shown: Array<keyof typeof FIELDS>) {
  for (const [name, label] of Object.entries(FIELDS)) {
    if (shown.includes(name as keyof typeof FIELDS)) await expect(page.getByLabel(label)).toBeVisible();
    else await expect(page.getByLabel(label)).toHaveCount(0);
  }
}

test("choosing a mode shows the fields that mode takes", async ({ page }) => {
  await openNewTaskForm(page);
  const mode = page.getByLabel("Mode");
  await expect(mode).toHaveValue("");
  await expectFields(page, ["image_start", "image_end", "video_urls", "audio_urls"]);
  await expect(page.getByTestId("detected-mode")).toHaveText("Detected from the materials: First frame (first_frame).");

  await mode.selectOption("first_frame");
  await expectFields(page, ["image_start", "audio_urls"]);

  await mode.selectOption("first_last_frame");
  await expectFields(page, ["image_start", "image_end", "audio_urls"]);

  await mode.selectOption("video_continuation");
  await expectFields(page, ["video_urls", "image_end"]);
  await expect(page.getByText("A continuation is billed for the whole duration, the input clip included.")).toBeVisible();

  await mode.selectOption("");
  await expectFields(page, ["image_start", "image_end", "video_urls", "audio_urls"]);
});

test("an over-long prompt turns the counter red, and Truncate cuts it to the limit", async ({ page }) => {
  const submissions = watchSubmissions(page);
  await openNewTaskForm(page);
  const prompt = page.getByLabel("Prompt", { exact: true });
  const counter = page.getByTestId("prompt-counter");
  await expect(counter).toHaveText("0 / 5000 characters");

  // Chinese characters count one each, as the provider counts them.
  await prompt.fill("猫".repeat(5003));
  await expect(counter).toHaveText("5003 / 5000 characters (3 over)");
  await expect(counter).toHaveAttribute("data-over", "true");
  await expect(counter).toHaveCSS("color", "rgb(201, 42, 42)");
  await expect(page.locator('[data-field="prompt"]')).toHaveText(
    "prompt is 5003 characters; the limit is 5000 (3 over). Shorten it or truncate it to 5000 characters; the provider would cut the rest silently.",
  );

  await page.getByRole("button", { name: "Truncate to 5000 characters" }).click();
  await expect(counter).toHaveText("5000 / 5000 characters");
  await expect(counter).not.toHaveAttribute("data-over", "true");
  await expect(page.locator('[data-field="prompt"]')).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Truncate to 5000 characters" })).toHaveCount(0);
  expect(await prompt.inputValue()).toBe("猫".repeat(5000));

  // The negative prompt has its own counter and limit.
  await page.getByLabel("Negative prompt").fill("🎹".repeat(501));
  await expect(page.getByTestId("negative_prompt-counter")).toHaveText("501 / 500 characters (1 over)");
  await page.getByRole("button", { name: "Truncate to 500 characters" }).click();
  await expect(page.getByTestId("negative_prompt-counter")).toHaveText("500 / 500 characters");
  expect(submissions).toEqual([]);
});

test("a refused combination shows its message beside the field without any submission", async ({ page }) => {
  const submissions = watchSubmissions(page);
  await openNewTaskForm(page);
  await expect(page.getByLabel("First frame image URL")).toHaveValue(/\/samples\/first-frame\.png$/);

  // Automatic mode: a first frame and a clip to continue do not go together.
  await page.getByRole("button", { name: "Use the sample clip" }).click();
  await expect(page.getByLabel("Video clip URL")).toHaveValue(/\/files\/sample\.mp4$/);
  await expect(page.locator('[data-field="image_start"]')).toHaveText(
    "image_start cannot be combined with video_urls (video_continuation starts from the clip); remove one of them",
  );
  await expect(page.getByLabel("First frame image URL")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("detected-mode")).toHaveText("No mode fits these materials yet: give a first frame image, or a clip to continue.");

  // Driving audio with a clip is refused too, beside the audio field.
  await page.getByLabel("Driving audio URL").fill("https://media.example/voice.mp3");
  await expect(page.locator('[data-field="audio_urls"]')).toHaveText(
    "audio_urls cannot be combined with video_urls (video_continuation takes no driving audio); remove one of them",
  );

  // Removing the first frame and the audio leaves a valid continuation.
  await page.getByLabel("First frame image URL").fill("");
  await page.getByLabel("Driving audio URL").fill("");
  await expect(page.locator("[data-field]")).toHaveCount(0);
  await expect(page.getByTestId("detected-mode")).toHaveText("Detected from the materials: Continue a video clip (video_continuation).");

  // A plain-http URL elsewhere is refused beside its field, still without submitting.
  await page.getByLabel("Last frame image URL").fill("http://media.example/last.png");
  await expect(page.locator('[data-field="image_end"]')).toHaveText("image_end must be an https:// URL that the provider can download");
  expect(submissions).toEqual([]);
});

test("a continuation of the sample clip is estimated on its whole duration and submitted", async ({ page }) => {
  await openNewTaskForm(page);
  await page.getByLabel("Mode").selectOption("video_continuation");
  await page.getByRole("button", { name: "Use the sample clip" }).click();
  await page.getByLabel("Duration (seconds)").fill("8");
  await page.getByLabel("Quality").selectOption("1080p");
  await expect(page.getByTestId("estimate")).toHaveText("Estimated cost: 8 s × 0.144 USD/s = 1.152 USD");
  await page.getByLabel("Prompt", { exact: true }).fill(`The camera keeps drifting forward (${Date.now()})`);
  await page.getByRole("button", { name: "Generate video" }).click();
  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  await expect(page.locator('[data-status="completed"]')).toBeVisible({ timeout: 30_000 });
});
