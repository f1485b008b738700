/**
 * The new video form as a member uses it, in Chromium on the production
 * server: each mode end to end (upload with preview and measured facts,
 * estimate, submit, the task completes), each kind of rule refused before
 * anything is sent with a message in the person's words, focus on the first
 * error, the draft surviving navigation and the question before leaving,
 * ?again= and ?continue= filling the form from a task, axe and 390 px with
 * files in every mode. Screenshots of the form in each mode are attached.
 */
import type { Browser, Page, TestInfo } from "@playwright/test";
import { expect, expectAccessible, fileChecked, formReady, saveScreenshot, signedInContext, test } from "./fixtures.ts";
import { fixture, trpcData, trpcMutation, trpcQuery, upload } from "./helpers.ts";
import { addUser, MAIN } from "./instances.ts";

/** API names: never in a message a person reads (they may follow as small secondary text, outside the messages). */
const API_NAME = /\b(image_start|image_end|video_urls|audio_urls|first_frame|first_last_frame|video_continuation|generation_mode)\b/;

/** A member of their own for each test: their own draft, their own rate limit. */
async function member(browser: Browser, name: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const account = addUser(MAIN, `${name}-${Date.now()}@e2e.test`);
  const { context, page } = await signedInContext(browser, account);
  return { page, close: () => context.close() };
}

async function openForm(page: Page, path = "/tasks/new") {
  await page.goto(path);
  await expect(page.getByRole("heading", { name: "New video" })).toBeVisible();
  await formReady(page);
}

/** Records calls to tasks.create, to prove that nothing was submitted. */
function watchSubmissions(page: Page): string[] {
  const calls: string[] = [];
  page.on("request", (req) => {
    if (req.url().includes("tasks.create")) calls.push(req.url());
  });
  return calls;
}

const LABELS = { image_start: "first frame image", image_end: "last frame image", video_urls: "clip to continue", audio_urls: "driving audio" } as const;
type Field = keyof typeof LABELS;

/** Clicks the field's own upload button and picks `file`, as a person would; waits for its preview. */
async function uploadFor(page: Page, field: Field, file: string) {
  const chooser = page.waitForEvent("filechooser");
  await page.getByTestId(`field-${field}`).getByRole("button", { name: `Upload ${LABELS[field]}…` }).click();
  await (await chooser).setFiles(fixture(file));
}

async function expectUploaded(page: Page, field: Field, file: string, measured: RegExp) {
  const box = page.getByTestId(`field-${field}`);
  await expect(box.getByTestId(`file-name-${field}`)).toHaveText(file);
  await expect(box.getByTestId(`facts-${field}`)).toHaveText(measured);
  await expect(box).not.toContainText("token=");
  const preview = box.getByTestId(`preview-${field}`);
  await expect(preview).toBeVisible();
  await expect(preview).toHaveAccessibleName(`Preview of the ${LABELS[field]} (${file})`);
  return preview;
}

/** The visible fields' test ids, in page order. */
async function fieldOrder(page: Page): Promise<string[]> {
  return page.locator('[data-testid^="field-"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-testid")!.slice("field-".length)));
}

async function screenshot(page: Page, testInfo: TestInfo, mode: string) {
  await saveScreenshot(page, testInfo, `form-${mode}`);
}

/**
 * Submits, then follows the task as its owner would: the video playing from
 * the portal's copy, Download, the history row with its billed seconds and
 * cost, and Run again filling the form. (Live progress, which the simulator's
 * quick tasks skip past, is watched in task-page.spec.ts and history.spec.ts
 * with a paced task.)
 */
async function submitAndComplete(page: Page, expected?: { seconds: number; cost: string }) {
  const prompt = await page.getByLabel("Prompt", { exact: true }).inputValue();
  await page.getByRole("button", { name: "Generate video" }).click();
  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  const id = page.url().split("/").pop()!;
  await expect(page.locator('[data-status="completed"]')).toBeVisible({ timeout: 30_000 });
  if (!expected) return;
  await expect(page.getByTestId("archive")).toHaveText("Saved in the portal", { timeout: 30_000 });
  const video = page.getByTestId("result-video");
  await expect(video).toHaveAttribute("src", `/api/media/${id}`);
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => (Number.isFinite(v.duration) ? v.duration : 0)), { timeout: 15_000 }).toBeGreaterThan(0);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download video" }).click()]);
  expect(download.suggestedFilename()).toMatch(new RegExp(`^wan-\\d{4}-\\d{2}-\\d{2}-${id.slice(0, 8)}\\.mp4$`));

  await page.goto("/tasks");
  const row = page.getByTestId("history").locator(`tbody tr[data-task-id="${id}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId("billed")).toContainText(`${expected.seconds} s`);
  await expect(row.getByTestId("cost")).toContainText(expected.cost);

  await page.goto(`/tasks/${id}`);
  await page.getByRole("link", { name: "Run again with these settings" }).click();
  // The form drops ?again= from the address once it is filled (a reload then keeps the person's changes):
  // either address may be seen, depending on how fast the draft came back.
  await expect(page).toHaveURL(new RegExp(`/tasks/new(\\?again=${id})?$`));
  await expect(page.getByTestId("form-notice")).toHaveText("Filled in with the settings of an earlier video. Change what you like, then generate.");
  await expect(page.getByLabel("Prompt", { exact: true })).toHaveValue(prompt);
  await expect(page.getByLabel("Duration (seconds)")).toHaveValue(String(expected.seconds));
}

test.describe("each mode, end to end from the form", () => {
  test("first frame with driving audio: uploads with previews and measured facts, estimate, submit", async ({ browser }, testInfo) => {
    const { page, close } = await member(browser, "form-first");
    await openForm(page);
    await page.getByLabel("Mode").selectOption("first_frame");
    expect(await fieldOrder(page)).toEqual(["generation_mode", "prompt", "negative_prompt", "image_start", "audio_urls", "quality", "duration", "seed"]);
    await expect(page.getByTestId("detected-mode")).toHaveText("Starts the video from one image; driving audio is optional. first_frame");
    await uploadFor(page, "image_start", "image-320x240.jpg");
    const image = await expectUploaded(page, "image_start", "image-320x240.jpg", /^Measured: JPEG · 320×240 px · [\d.]+ (kB|bytes) · meets the rules$/);
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(320);
    await uploadFor(page, "audio_urls", "audio-3s.mp3");
    const audio = await expectUploaded(page, "audio_urls", "audio-3s.mp3", /^Measured: MP3 · 3\.168 s · [\d.]+ kB · meets the rules$/);
    await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.duration)).toBeGreaterThan(2.9);
    await page.getByLabel("Duration (seconds)").fill("2");
    await expect(page.getByTestId("notice")).toHaveText("The driving audio is 3.168 s long; only its first 2 s drive the video.");
    await page.getByLabel("Duration (seconds)").fill("6");
    await page.getByLabel("Prompt", { exact: true }).fill(`A singer on a rooftop at dusk (${Date.now()})`);
    await expect(page.getByTestId("estimate")).toHaveText("Estimated cost: 6 s × 0.086 USD/s = 0.516 USD");
    await screenshot(page, testInfo, "first_frame");
    await submitAndComplete(page, { seconds: 6, cost: "0.516 USD" });
    await close();
  });

  test("first and last frame: two uploaded images, submit", async ({ browser }, testInfo) => {
    const { page, close } = await member(browser, "form-firstlast");
    await openForm(page);
    await page.getByLabel("Mode").selectOption("first_last_frame");
    expect(await fieldOrder(page)).toEqual(["generation_mode", "prompt", "negative_prompt", "image_start", "image_end", "audio_urls", "quality", "duration", "seed"]);
    await uploadFor(page, "image_start", "image-240x240.png");
    await expectUploaded(page, "image_start", "image-240x240.png", /^Measured: PNG · 240×240 px/);
    // Without the last frame the mode says what it needs, in words.
    await page.getByRole("button", { name: "Generate video" }).click();
    await expect(page.locator('[data-field="image_end"]')).toHaveText(
      "A first-and-last-frame video needs a last frame image: give its URL or upload it, or switch to First frame.",
    );
    await uploadFor(page, "image_end", "image-320x240.webp");
    await expectUploaded(page, "image_end", "image-320x240.webp", /^Measured: WebP · 320×240 px/);
    await page.getByLabel("Prompt", { exact: true }).fill(`A door opens onto the sea (${Date.now()})`);
    await page.getByLabel("Quality").selectOption("1080p");
    await expect(page.getByTestId("estimate")).toHaveText("Estimated cost: 5 s × 0.144 USD/s = 0.720 USD");
    await screenshot(page, testInfo, "first_last_frame");
    await submitAndComplete(page, { seconds: 5, cost: "0.720 USD" });
    await close();
  });

  test("continue a video: the clip comes first, its length decides the duration and the estimate, submit", async ({ browser }, testInfo) => {
    const { page, close } = await member(browser, "form-continue");
    await openForm(page);
    await page.getByLabel("Mode").selectOption("video_continuation");
    // The clip before the optional last frame.
    expect(await fieldOrder(page)).toEqual(["generation_mode", "prompt", "negative_prompt", "video_urls", "image_end", "quality", "duration", "seed"]);
    await uploadFor(page, "video_urls", "clip-3s-320x240.mp4");
    const clip = await expectUploaded(page, "video_urls", "clip-3s-320x240.mp4", /^Measured: MP4 · 320×240 px · 3 s · [\d.]+ kB · meets the rules$/);
    await expect.poll(() => clip.evaluate((v: HTMLVideoElement) => v.duration)).toBeGreaterThan(2.9);
    // Shorter than the clip: said before any submit, and no price.
    await page.getByLabel("Duration (seconds)").fill("2");
    await expect(page.locator('[data-field="duration"]')).toHaveText(
      "The duration (2 s) is shorter than the clip to continue (3 s): a continued video's duration is the whole output, clip included. Set it to at least 3 s.",
    );
    await expect(page.getByTestId("estimate")).not.toContainText("USD");
    await page.getByLabel("Duration (seconds)").fill("7");
    await expect(page.getByTestId("estimate")).toHaveText("Estimated cost: 7 s × 0.086 USD/s = 0.602 USD");
    await expect(page.getByTestId("billing-rule")).toHaveText("A continuation is billed for the whole duration, the input clip included. Here: the 3 s clip and 4 s more.");
    await page.getByLabel("Prompt", { exact: true }).fill(`The camera keeps drifting forward (${Date.now()})`);
    await screenshot(page, testInfo, "video_continuation");
    await submitAndComplete(page, { seconds: 7, cost: "0.602 USD" });
    await close();
  });

  test("automatic mode: the mode is detected from the materials, and the sample clip continues", async ({ browser }, testInfo) => {
    const { page, close } = await member(browser, "form-auto");
    await openForm(page);
    await expect(page.getByTestId("detected-mode")).toHaveText("Detected from the materials: First frame. first_frame");
    await expect(page.getByTestId("facts-image_start")).toHaveText(/^Measured: PNG · \d+×\d+ px/);
    await screenshot(page, testInfo, "automatic");
    await page.getByLabel("First frame image URL").fill("");
    await page.getByRole("button", { name: "Use the sample clip" }).click();
    await expect(page.getByTestId("detected-mode")).toHaveText("Detected from the materials: Continue a video. video_continuation");
    await expect(page.getByTestId("facts-video_urls")).toHaveText(/^Measured: MP4 · 640×360 px · 5 s/);
    await page.getByLabel("Duration (seconds)").fill("8");
    await page.getByLabel("Quality").selectOption("1080p");
    await expect(page.getByTestId("estimate")).toHaveText("Estimated cost: 8 s × 0.144 USD/s = 1.152 USD");
    await expect(page.getByTestId("billing-rule")).toContainText("Here: the 5 s clip and 3 s more.");
    await page.getByLabel("Prompt", { exact: true }).fill(`The sample keeps going (${Date.now()})`);
    await submitAndComplete(page, { seconds: 8, cost: "1.152 USD" });
    await close();
  });
});

test("each kind of rule is refused before submit, beside its field, in the person's words", async ({ browser }) => {
  const { page, close } = await member(browser, "form-rules");
  const submissions = watchSubmissions(page);
  await openForm(page);
  const sampleImage = await page.getByLabel("First frame image URL").inputValue();
  const sampleClip = sampleImage.replace("/samples/first-frame.png", "/files/sample.mp4");

  // A refused combination (automatic mode): a first frame and a clip to continue.
  await page.getByRole("button", { name: "Use the sample clip" }).click();
  await expect(page.locator('[data-field="image_start"]')).toHaveText(
    "A first frame image and a clip to continue do not go together: a continued video starts from the clip. Remove one of them.",
  );
  await expect(page.getByLabel("First frame image URL")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("detected-mode")).toHaveText("No mode fits these materials yet: give a first frame image, or a clip to continue.");
  await page.getByLabel("Driving audio URL").fill("https://media.example/voice.mp3");
  await expect(page.locator('[data-field="audio_urls"]')).toHaveText(
    "Driving audio and a clip to continue do not go together: a continued video takes no audio. Remove one of them.",
  );
  await expect(page.getByTestId("estimate")).not.toContainText("USD");
  await page.getByLabel("Clip to continue URL").fill("");
  await page.getByLabel("Driving audio URL").fill("");

  // A video given as the first frame: measured, and told which mode it belongs to.
  await page.getByLabel("First frame image URL").fill(sampleClip);
  await expect(page.locator('[data-field="image_start"]')).toHaveText(
    "The first frame image is a video (MP4, 5 s), not an image. A first frame must be an image. To continue this video, switch to Continue a video and give it as the clip to continue.",
  );
  await expect(page.getByTestId("facts-image_start")).toHaveText(/^Measured: MP4 · 640×360 px · 5 s/);
  await expect(page.getByTestId("estimate")).not.toContainText("USD");
  // The same, uploaded.
  await page.getByLabel("First frame image URL").fill("");
  await uploadFor(page, "image_start", "clip-3s-320x240.mp4");
  await expect(page.locator('[data-field="image_start"][data-upload="refused"]')).toHaveText(/^The first frame image is a video \(MP4, 3 s\), not an image\./);

  // An image given as the clip.
  await page.getByLabel("Mode").selectOption("video_continuation");
  await page.getByLabel("Clip to continue URL").fill(sampleImage);
  await expect(page.locator('[data-field="video_urls"]')).toHaveText(
    /^The clip to continue is an image \(PNG, \d+×\d+ px\), not a video\. The clip to continue must be an MP4 video\. To start a video from this image, switch to First frame and give it as the first frame image\.$/,
  );

  // Measured rules on uploads: a clip too long or too short, an image too large, audio too short.
  await page.getByLabel("Clip to continue URL").fill("");
  await uploadFor(page, "video_urls", "clip-11s-320x240.mp4");
  await expect(page.locator('[data-field="video_urls"][data-upload="refused"]')).toContainText(/is 11 s long; it must be 2 to 10 s\. Trim it to 10 s or less\./);
  await uploadFor(page, "video_urls", "clip-1.5s-320x240.mp4");
  await expect(page.locator('[data-field="video_urls"][data-upload="refused"]')).toContainText(/is 1\.5 s long; it must be 2 to 10 s\. Use a longer clip\./);
  await uploadFor(page, "image_end", "image-8001x240.png");
  await expect(page.locator('[data-field="image_end"][data-upload="refused"]')).toContainText("is 8001×240 px; each side must be at most 8000 px. Scale it down.");
  await page.getByLabel("Mode").selectOption("first_frame");
  await uploadFor(page, "audio_urls", "audio-1s.mp3");
  await expect(page.locator('[data-field="audio_urls"][data-upload="refused"]')).toContainText(/long; it must be \d+ to \d+ s\. Use a longer recording\./);
  await page.getByLabel("Mode").selectOption("video_continuation");

  // A duration shorter than the clip; focus goes to it on submit.
  await page.getByLabel("Clip to continue URL").fill(sampleClip);
  await expect(page.getByTestId("facts-video_urls")).toHaveText(/5 s/);
  await page.getByLabel("Duration (seconds)").fill("3");
  await expect(page.locator('[data-field="duration"]')).toHaveText(/^The duration \(3 s\) is shorter than the clip to continue \(5 s\)/);
  await page.getByLabel("Prompt", { exact: true }).fill("Refused before submit");
  await page.getByRole("button", { name: "Generate video" }).click();
  await expect(page.getByLabel("Duration (seconds)")).toBeFocused();

  // Durations that are not whole seconds from 2 to 15, or none: no price, never a silent 5 s.
  for (const duration of ["16", "2.5", ""]) {
    await page.getByLabel("Duration (seconds)").fill(duration);
    await expect(page.locator('[data-field="duration"]')).toHaveText("The duration must be a whole number of seconds from 2 to 15.");
    await expect(page.getByTestId("estimate")).not.toContainText("USD");
  }
  await page.getByLabel("Duration (seconds)").fill("6");
  await expect(page.getByTestId("estimate")).toHaveText("Estimated cost: 6 s × 0.086 USD/s = 0.516 USD");

  // Links the video service could not fetch.
  await page.getByLabel("Last frame image URL").fill("http://media.example/last.png");
  await expect(page.locator('[data-field="image_end"]')).toHaveText("The last frame image must be an https:// link the video service can download.");
  await page.getByLabel("Last frame image URL").fill("https://192.168.1.10/last.png");
  await expect(page.locator('[data-field="image_end"]')).toHaveText(
    "The last frame image is on a private network or this computer, where the video service cannot fetch it; use a public address.",
  );

  // No message names an API field; the names stay as small secondary text.
  const messages = await page.locator(".field-error").allTextContents();
  expect(messages.length).toBeGreaterThan(0);
  for (const m of messages) expect(m).not.toMatch(API_NAME);
  await expect(page.getByLabel("Mode").locator("option")).toHaveText(["Automatic (from the materials)", "First frame", "First and last frame", "Continue a video"]);
  expect(submissions).toEqual([]);
  await close();
});

test("an over-long prompt turns its counter red, and Truncate cuts it to the limit; counters and upload buttons are named for their fields", async ({ browser }) => {
  const { page, close } = await member(browser, "form-counter");
  const submissions = watchSubmissions(page);
  await openForm(page);
  const prompt = page.getByLabel("Prompt", { exact: true });
  const counter = page.getByTestId("prompt-counter");
  await expect(counter).toHaveText("0 / 5000 characters");
  // The counter describes its own field.
  await expect(prompt).toHaveAccessibleDescription("0 / 5000 characters");
  await expect(page.getByLabel("Negative prompt")).toHaveAccessibleDescription("0 / 500 characters");

  // Chinese characters count one each, as the provider counts them.
  await prompt.fill("猫".repeat(5003));
  await expect(counter).toHaveText("5003 / 5000 characters (3 over)");
  await expect(counter).toHaveAttribute("data-over", "true");
  await expect(counter).toHaveCSS("color", "rgb(201, 42, 42)");
  await expect(page.locator('[data-field="prompt"]')).toHaveText(
    "The prompt is 5003 characters; the limit is 5000 (3 over). Shorten it or truncate it to 5000 characters; the video service would cut the rest silently.",
  );
  await page.getByRole("button", { name: "Truncate to 5000 characters" }).click();
  await expect(counter).toHaveText("5000 / 5000 characters");
  await expect(page.locator('[data-field="prompt"]')).toHaveCount(0);
  expect(await prompt.inputValue()).toBe("猫".repeat(5000));
  await page.getByLabel("Negative prompt").fill("🎹".repeat(501));
  await expect(page.getByTestId("negative_prompt-counter")).toHaveText("501 / 500 characters (1 over)");
  await page.getByRole("button", { name: "Truncate to 500 characters" }).click();
  await expect(page.getByTestId("negative_prompt-counter")).toHaveText("500 / 500 characters");

  // One upload button per field, each with its own name.
  const uploads = await page.getByRole("button", { name: /^Upload / }).evaluateAll((els) => els.map((e) => e.textContent));
  expect(uploads).toEqual(["Upload first frame image…", "Upload last frame image…", "Upload clip to continue…", "Upload driving audio…"]);
  expect(submissions).toEqual([]);
  await close();
});

test("a draft survives navigation, and leaving with unsent changes asks first", async ({ browser }) => {
  const { page, close } = await member(browser, "form-draft");
  await openForm(page);
  await page.getByLabel("Mode").selectOption("first_frame");
  await page.getByLabel("Prompt", { exact: true }).fill("A draft worth keeping");
  await page.getByLabel("Seed").fill("1234");
  await uploadFor(page, "image_start", "image-320x240.jpg");
  await expectUploaded(page, "image_start", "image-320x240.jpg", /^Measured: JPEG/);

  // In-app navigation asks; saying no stays on the form.
  const asked: string[] = [];
  page.once("dialog", (d) => {
    asked.push(d.message());
    void d.dismiss();
  });
  await page.getByRole("link", { name: "My history" }).click();
  await expect.poll(() => asked).toEqual([
    "Leave the new video form? Your unsent changes are kept as a draft on this device, and come back when you open New video again.",
  ]);
  await expect(page).toHaveURL(/\/tasks\/new$/);
  // Closing the tab asks too (beforeunload).
  const unload = new Promise<string>((resolve) => page.once("dialog", (d) => (resolve(d.type()), void d.dismiss())));
  await page.close({ runBeforeUnload: true });
  expect(await unload).toBe("beforeunload");
  expect(page.isClosed()).toBe(false);

  page.once("dialog", (d) => void d.accept());
  await page.getByRole("link", { name: "My history" }).click();
  await expect(page.getByRole("heading", { name: "My history" })).toBeVisible();

  // Back on the form: everything as it was, the file too.
  await page.getByRole("link", { name: "New video" }).click();
  await expect(page.getByTestId("form-notice")).toContainText("Your unsent draft");
  await expect(page.getByLabel("Mode")).toHaveValue("first_frame");
  await expect(page.getByLabel("Prompt", { exact: true })).toHaveValue("A draft worth keeping");
  await expect(page.getByLabel("Seed")).toHaveValue("1234");
  await expectUploaded(page, "image_start", "image-320x240.jpg", /^Measured: JPEG · 320×240 px/);
  // And after a reload.
  page.once("dialog", (d) => void d.accept());
  await page.reload();
  await expect(page.getByLabel("Prompt", { exact: true })).toHaveValue("A draft worth keeping");

  // Start over: the empty form, and nothing asked when leaving it.
  await page.getByRole("button", { name: "Start over" }).click();
  await expect(page.getByLabel("Prompt", { exact: true })).toHaveValue("");
  await expect(page.getByLabel("Mode")).toHaveValue("");
  let askedAgain = false;
  page.on("dialog", (d) => ((askedAgain = true), void d.dismiss()));
  await page.getByRole("link", { name: "My history" }).click();
  await expect(page.getByRole("heading", { name: "My history" })).toBeVisible();
  expect(askedAgain).toBe(false);

  // A sent form leaves no draft behind.
  await page.getByRole("link", { name: "New video" }).click();
  await page.getByLabel("Prompt", { exact: true }).fill(`Sent, so not a draft (${Date.now()})`);
  // The form checks its first frame link on its own and disables Generate meanwhile: submit once that check has ended.
  await fileChecked(page);
  await submitAndComplete(page);
  // Nothing is stored to come back: the empty form below is then not merely the moment before a draft is restored.
  expect(await page.evaluate(() => Object.keys(window.localStorage).filter((k) => k.startsWith("wan-video-portal:new-video-draft:")))).toEqual([]);
  await page.getByRole("link", { name: "New video" }).click();
  await expect(page.getByLabel("Prompt", { exact: true })).toHaveValue("");
  await expect(page.getByTestId("form-notice")).toHaveCount(0);
  expect(askedAgain).toBe(false);
  await close();
});

test("?again= fills the form with a task's settings; another person's task is not found", async ({ browser }) => {
  const { page, close } = await member(browser, "form-again");
  const api = page.request;
  // An upload of the member's: shown as a file when the form is filled again, not as its tokened link.
  const { url: frame } = (await (await upload(api, "image_start", "image-240x240.png")).json()) as { url: string };
  const task = await trpcData<{ id: string }>(
    await trpcMutation(api, "tasks.create", {
      generation_mode: "first_last_frame",
      prompt: "Run me again",
      negative_prompt: "blurry",
      image_start: frame,
      image_end: frame,
      quality: "1080p",
      duration: 4,
      seed: 77,
      prompt_extend: true,
    }),
  );
  await openForm(page, `/tasks/new?again=${task.id}`);
  await expect(page.getByTestId("form-notice")).toHaveText("Filled in with the settings of an earlier video. Change what you like, then generate.");
  await expect(page).toHaveURL(/\/tasks\/new$/);
  await expect(page.getByLabel("Mode")).toHaveValue("first_last_frame");
  await expect(page.getByLabel("Prompt", { exact: true })).toHaveValue("Run me again");
  await expect(page.getByLabel("Negative prompt")).toHaveValue("blurry");
  await expect(page.getByLabel("Quality")).toHaveValue("1080p");
  await expect(page.getByLabel("Duration (seconds)")).toHaveValue("4");
  await expect(page.getByLabel("Seed")).toHaveValue("77");
  await expect(page.getByLabel("Let the video service rewrite the prompt")).toBeChecked();
  await expect(page.getByTestId("file-name-image_start")).toHaveText("Uploaded earlier (PNG)");
  await expect(page.getByTestId("facts-image_end")).toHaveText(/^Measured: PNG · 240×240 px/);
  await expect(page.getByTestId("estimate")).toHaveText("Estimated cost: 4 s × 0.144 USD/s = 0.576 USD");
  await submitAndComplete(page);

  // Someone else's task: not found, and an empty form.
  const other = await member(browser, "form-again-other");
  await openForm(other.page, `/tasks/new?again=${task.id}`);
  await expect(other.page.getByTestId("form-notice")).toHaveText("No such task in your history");
  await expect(other.page.getByLabel("Prompt", { exact: true })).toHaveValue("");
  await other.close();
  await close();
});

test("?continue= opens a continuation of a task's portal copy, through a link the provider can fetch", async ({ browser, request }, testInfo) => {
  const { page, close } = await member(browser, "form-continue-from");
  const api = page.request;
  const sample = await (async () => {
    await openForm(page);
    return page.getByLabel("First frame image URL").inputValue();
  })();
  const task = await trpcData<{ id: string }>(await trpcMutation(api, "tasks.create", { prompt: "A lighthouse to continue", image_start: sample, quality: "720p", duration: 5 }));
  await expect
    .poll(async () => (await trpcData<{ archiveStatus: string }>(await trpcQuery(api, "tasks.get", { id: task.id }))).archiveStatus, { timeout: 30_000 })
    .toBe("archived");

  await openForm(page, `/tasks/new?continue=${task.id}`);
  await expect(page.getByTestId("form-notice")).toContainText("Filled in to continue an earlier video");
  await expect(page.getByLabel("Mode")).toHaveValue("video_continuation");
  expect(await fieldOrder(page)).toEqual(["generation_mode", "prompt", "negative_prompt", "video_urls", "image_end", "quality", "duration", "seed"]);
  const clip = await expectUploaded(page, "video_urls", `video-${task.id.slice(0, 8)}.mp4`, /^Measured: MP4 · 640×360 px · 5 s · [\d.]+ (kB|MB) · meets the rules$/);
  // An upload link with its token, which the provider can fetch without a session.
  const link = (await clip.getAttribute("src"))!;
  expect(link).toMatch(/^http:\/\/localhost:\d+\/api\/uploads\/[0-9a-f-]{36}\.mp4\?token=[\w-]{43}$/);
  // `request` has no session, like the provider.
  expect((await request.get(link)).status()).toBe(200);
  await expect(page.getByLabel("Duration (seconds)")).toHaveValue("10");
  await expect(page.getByTestId("estimate")).toHaveText("Estimated cost: 10 s × 0.086 USD/s = 0.860 USD");
  await expect(page.getByTestId("billing-rule")).toHaveText("A continuation is billed for the whole duration, the input clip included. Here: the 5 s clip and 5 s more.");
  await screenshot(page, testInfo, "continue-from-task");
  await page.getByLabel("Prompt", { exact: true }).fill(`The lighthouse keeps turning (${Date.now()})`);
  await submitAndComplete(page);

  // Someone else's video cannot be continued: it does not exist for them.
  const other = await member(browser, "form-continue-other");
  await openForm(other.page, `/tasks/new?continue=${task.id}`);
  await expect(other.page.getByTestId("form-notice")).toHaveText("No such task in your history");
  await expect(other.page.getByLabel("Mode")).toHaveValue("");
  await other.close();
  await close();
});

for (const width of [1280, 390]) {
  test(`the form in every mode, with files, passes axe and fits ${width} px`, async ({ browser }) => {
    const { page, close } = await member(browser, `form-axe-${width}`);
    await page.setViewportSize({ width, height: 900 });
    await openForm(page);
    await expect(page.getByTestId("facts-image_start")).toHaveText(/^Measured/);
    await expectAccessible(page, "new video (automatic)");
    await page.getByLabel("Mode").selectOption("first_last_frame");
    await uploadFor(page, "image_end", "image-320x240.webp");
    await uploadFor(page, "audio_urls", "audio-3s.wav");
    await expect(page.getByTestId("facts-audio_urls")).toHaveText(/^Measured: WAV/);
    await expectAccessible(page, "new video (first and last frame, files)");
    await page.getByLabel("Mode").selectOption("video_continuation");
    await uploadFor(page, "video_urls", "clip-2s-320x240.mp4");
    await expect(page.getByTestId("facts-video_urls")).toHaveText(/^Measured: MP4/);
    await page.getByRole("button", { name: "Generate video" }).click();
    await expect(page.locator('[data-field="prompt"]')).toBeVisible();
    await expectAccessible(page, "new video (continuation, with errors)");
    await page.getByLabel("Mode").selectOption("first_frame");
    await expectAccessible(page, "new video (first frame)");
    await close();
  });
}
