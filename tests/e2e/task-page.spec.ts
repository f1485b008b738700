/**
 * The task page (issue 10) in Chromium against the production server and the
 * simulator: a task running (what the portal does, the timeline) and done
 * (the uploaded input previewed, Download with its file name, Run again,
 * Continue, Copy seed); a failed task explained in plain words; a task stuck
 * in "Submitting" (the simulator answers "busy") cancelled; a task's files
 * deleted after a confirmation; and the notice, the tab title and the browser
 * notification when a task ends while its owner is elsewhere in the portal.
 * Screenshots of the page running, done and failed are attached to the results.
 */
import type { Page, TestInfo } from "@playwright/test";
import { expect, expectAccessible, saveScreenshot, signedInContext, signIn, test } from "./fixtures.ts";
import { simulatorFaults, trpcData, trpcMutation, trpcQuery, upload } from "./helpers.ts";
import { addUser, MAIN } from "./instances.ts";

interface Created {
  id: string;
  status: string;
}

/** Creates a task through tRPC as the page's signed-in person. */
async function createTask(page: Page, input: Record<string, unknown>): Promise<Created> {
  return trpcData<Created>(await trpcMutation(page.request, "tasks.create", input));
}

/** A first frame the portal serves itself (an upload): previewed on the page. */
async function uploadedImage(page: Page): Promise<string> {
  const res = await upload(page.request, "image_start", "image-240x240.png");
  expect(res.status()).toBe(200);
  return ((await res.json()) as { url: string }).url;
}

async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  await saveScreenshot(page, testInfo, name.replace(/\.png$/, ""));
}

test("a task running, then done: what the portal does, the timeline, the input previewed, Download, Run again, Continue, Copy seed", async ({ page, browser }, testInfo) => {
  test.setTimeout(120_000);
  await signIn(page);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: MAIN.baseURL });
  const marker = `#slow-${Date.now()}`;
  // Slow enough to watch: five steps of 6 s at the simulator (the portal checks about every 15 s, and hears the end by callback).
  await simulatorFaults(page.request, { pace: { marker, count: 1, stepMs: 6000 } });
  const image = await uploadedImage(page);
  const task = await createTask(page, { prompt: `A paper boat on a pond ${marker}`, negative_prompt: "blur, text", image_start: image, seed: 4242, prompt_extend: true });

  await page.goto(`/tasks/${task.id}`);
  const waiting = page.getByTestId("waiting");
  await expect(waiting).toHaveAttribute("data-stage", "running");
  await expect(waiting).toContainText("The portal hears from the service when it ends");
  await expect(waiting).toContainText("cannot be cancelled");
  await expect(page.getByRole("button", { name: "Cancel task" })).toHaveCount(0);
  await expect(page.getByRole("progressbar")).not.toHaveAttribute("aria-valuenow", "0", { timeout: 30_000 });
  // The parameters as sent, the mode made explicit.
  const sent = page.getByTestId("parameters");
  await expect(sent).toContainText("generation_mode: first_frame");
  await expect(sent).toContainText("blur, text");
  await expect(page.getByTestId("seed")).toHaveText("4242");
  await expect(sent).toContainText("prompt_extend: true");
  // The uploaded first frame, previewed from the portal itself (same origin, its link's token).
  const preview = page.getByTestId("input-image_start").getByRole("img", { name: "First frame (uploaded image)" });
  await expect(preview).toHaveAttribute("src", /^\/api\/uploads\/[0-9a-f-]{36}\.png\?token=/);
  await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(240);
  await expect(page.getByTestId("timeline")).toContainText("Accepted by the video service");
  await expectAccessible(page, "task running");
  await screenshot(page, testInfo, "task-running.png");
  await page.setViewportSize({ width: 390, height: 844 });
  await expectAccessible(page, "task running at 390 px");
  await page.setViewportSize({ width: 1280, height: 720 });

  // Done.
  await expect(page.locator('[data-status="completed"]')).toBeVisible({ timeout: 45_000 });
  await expect(page.getByTestId("archive")).toHaveText("Saved in the portal", { timeout: 30_000 });
  await expect(page.getByTestId("result-video")).toHaveAttribute("src", `/api/media/${task.id}`);
  const timeline = page.getByTestId("timeline");
  for (const step of ["Stored by the portal", "Sent to the video service", "Accepted by the video service", "Now generating", "Callback from the video service", "Completed", "Copied to the portal's storage"]) {
    await expect(timeline).toContainText(step);
  }
  await expect(page.getByRole("link", { name: "Run again with these settings" })).toHaveAttribute("href", `/tasks/new?again=${task.id}`);
  await expect(page.getByRole("link", { name: "Continue this video" })).toHaveAttribute("href", `/tasks/new?continue=${task.id}`);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download video" }).click()]);
  expect(download.suggestedFilename()).toMatch(new RegExp(`^wan-\\d{4}-\\d{2}-\\d{2}-${task.id.slice(0, 8)}\\.mp4$`));
  const saved = await page.request.get(`/api/media/${task.id}?download=1`);
  expect(saved.headers()["content-disposition"]).toBe(`attachment; filename="${download.suggestedFilename()}"`);
  expect((await saved.body()).length).toBeGreaterThan(1000);

  await page.getByRole("button", { name: "Copy seed" }).click();
  await expect(page.getByText("Seed 4242 copied")).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("4242");
  await expectAccessible(page, "task done");
  await screenshot(page, testInfo, "task-done.png");

  // A phone.
  await page.setViewportSize({ width: 390, height: 844 });
  await expectAccessible(page, "task done at 390 px");

  // Another member cannot open it: not the page's data, not the video, not the timeline.
  const bob = await signedInContext(browser, addUser(MAIN, `bob-taskpage-${Date.now()}@e2e.test`));
  await bob.page.goto(`/tasks/${task.id}`);
  await expect(bob.page.getByText("No such task in your history")).toBeVisible();
  await expect(bob.page.getByRole("heading", { level: 1, name: "Task not shown" })).toBeVisible();
  await expect(bob.page.getByRole("link", { name: "Back to my history" })).toBeVisible();
  await expect(bob.page.getByTestId("result-video")).toHaveCount(0);
  expect((await bob.page.request.get(`/api/media/${task.id}?download=1`)).status()).toBe(404);
  expect((await trpcQuery(bob.page.request, "tasks.timeline", { id: task.id })).status()).toBe(404);
  expect((await trpcMutation(bob.page.request, "tasks.deleteFiles", { id: task.id })).status()).toBe(404);
  await bob.context.close();
});

test("a continuation is refused, with the reason, when the video is longer than a clip may be", async ({ page }) => {
  await signIn(page);
  const task = await createTask(page, { prompt: `Twelve seconds of rain (${Date.now()})`, image_start: await uploadedImage(page), duration: 12 });
  await page.goto(`/tasks/${task.id}`);
  await expect(page.locator('[data-status="completed"]')).toBeVisible({ timeout: 30_000 });
  const button = page.getByRole("button", { name: "Continue this video" });
  await expect(button).toBeDisabled();
  await expect(button).toHaveAccessibleDescription(/12 s long; a clip to continue may be at most 10 s/);
  await expect(page.getByRole("button", { name: "Copy seed" })).toHaveCount(0); // no seed was sent
  await expect(page.getByTestId("seed")).toContainText("None sent");
});

test("a failed task says why in plain words and what to do", async ({ page }, testInfo) => {
  await signIn(page);
  const task = await createTask(page, { prompt: `A city at night [sim:fail:image_processing_error] (${Date.now()})`, image_start: await uploadedImage(page) });
  await page.goto(`/tasks/${task.id}`);
  await expect(page.locator('[data-status="failed"]')).toBeVisible({ timeout: 30_000 });
  const failure = page.getByTestId("failure");
  await expect(failure.getByRole("heading", { name: "The video service could not process an input image" })).toBeVisible();
  await expect(failure).toContainText("What to do: Use another image (a PNG, JPEG, WebP or BMP file that opens normally, 240 to 8000 pixels a side");
  await expect(failure).toContainText("The video service said: The input image could not be processed.");
  await expect(failure).toContainText("Provider's error code: image_processing_error · change something before running it again");
  await expect(page.getByRole("link", { name: "Run again with these settings" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Continue this video" })).toHaveCount(0);
  await expect(page.getByTestId("timeline")).toContainText("Failed");
  await expectAccessible(page, "task failed");
  await screenshot(page, testInfo, "task-failed.png");
  await page.setViewportSize({ width: 390, height: 844 });
  await expectAccessible(page, "task failed at 390 px");
});

test("a task stuck in Submitting says what the portal does and until when; its owner cancels it, nothing charged", async ({ page }) => {
  await signIn(page);
  // The simulator answers "busy" with a wait longer than the portal's own retries: the task is not sent.
  await simulatorFaults(page.request, { http: { endpoint: "create", status: 429, retryAfterSeconds: 600, count: 1 } });
  const task = await createTask(page, { prompt: `Waiting for a busy service (${Date.now()})`, image_start: await uploadedImage(page) });
  expect(task.status).toBe("submitting");
  await page.goto(`/tasks/${task.id}`);
  await expect(page.locator('[data-status="submitting"]')).toBeVisible();
  const waiting = page.getByTestId("waiting");
  await expect(waiting).toHaveAttribute("data-stage", "busy");
  await expect(waiting).toContainText("The video service is busy, so the portal has not sent this task yet.");
  await expect(waiting).toContainText("It tries again at");
  await expect(waiting).toContainText("gives up at");
  await expectAccessible(page, "task waiting");

  await page.getByRole("button", { name: "Cancel task" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel this task?" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Keep it" })).toBeFocused();
  await expectAccessible(page, "cancel dialog");
  await dialog.getByRole("button", { name: "Cancel the task" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator('[data-status="failed"]')).toHaveText("Cancelled");
  await expect(page.getByTestId("failure").getByRole("heading", { name: "Cancelled before it was sent" })).toBeVisible();
  await expect(page.getByTestId("billed")).toHaveText("0 s");
  await expect(page.getByTestId("timeline")).toContainText("Cancelled before it was sent (nothing charged)");
  const after = await trpcData<{ status: string; errorCode: string; cost: number }>(await trpcQuery(page.request, "tasks.get", { id: task.id }));
  expect(after).toMatchObject({ status: "failed", errorCode: "cancelled", cost: 0 });
});

test("the owner deletes a task's files after confirming; the page, the video and the upload link say so", async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page);
  const image = await uploadedImage(page);
  const task = await createTask(page, { prompt: `A video to delete (${Date.now()})`, image_start: image });
  await page.goto(`/tasks/${task.id}`);
  await expect(page.getByTestId("archive")).toHaveText("Saved in the portal", { timeout: 30_000 });

  // Asked first; keeping changes nothing.
  await page.getByRole("button", { name: "Delete video and uploads…" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this task's files?" });
  await expect(dialog).toContainText("This cannot be undone.");
  await dialog.getByRole("button", { name: "Keep them" }).click();
  await expect(dialog).toBeHidden();
  expect((await page.request.get(`/api/media/${task.id}`, { headers: { range: "bytes=0-0" } })).status()).toBe(206);

  await page.getByRole("button", { name: "Delete video and uploads…" }).click();
  await dialog.getByRole("button", { name: "Delete files" }).click();
  await expect(page.getByTestId("files-deleted")).toContainText("The video and the uploaded inputs were deleted from the portal's storage");
  await expect(page.getByTestId("result-video")).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Download video" })).toHaveCount(0);
  await expect(page.getByTestId("archive")).toHaveText(/^Deleted on /);
  await expect(page.getByTestId("input-image_start")).toContainText("deleted from the portal's storage");
  await expect(page.getByRole("button", { name: "Continue this video" })).toBeDisabled();
  await expect(page.getByTestId("billed")).toHaveText("5 s"); // the record stays
  await expect(page.getByTestId("timeline")).toContainText("Video and uploaded inputs deleted from the portal's storage");

  const video = await page.request.get(`/api/media/${task.id}`);
  expect(video.status()).toBe(410);
  expect(((await video.json()) as { error: { message: string } }).error.message).toMatch(/deleted from the portal's storage/);
  const link = await page.request.get(image);
  expect(link.status()).toBe(410);
  await expectAccessible(page, "task with deleted files");
});

test("a task that ends while its owner is elsewhere: a notice on the page, the tab title, a browser notification", async ({ browser }) => {
  test.setTimeout(90_000);
  const member = addUser(MAIN, `nia-${Date.now()}@e2e.test`);
  const { context, page } = await signedInContext(browser, member);
  await context.grantPermissions(["notifications"], { origin: MAIN.baseURL });
  // What the page asks the browser to show, recorded (a headless browser shows nothing).
  await context.addInitScript(() => {
    const shown: string[] = [];
    (window as unknown as { __notifications: string[] }).__notifications = shown;
    class Recorded {
      static permission = "granted";
      static requestPermission = async () => "granted";
      onclick: (() => void) | null = null;
      constructor(title: string, options?: { body?: string }) {
        shown.push(`${title}: ${options?.body ?? ""}`);
      }
      close() {}
    }
    (window as unknown as { Notification: unknown }).Notification = Recorded;
  });
  const marker = `#notice-${Date.now()}`;
  await simulatorFaults(page.request, { pace: { marker, count: 1, stepMs: 1500 } });
  const prompt = `A kite over the dunes ${marker}`;
  const task = await createTask(page, { prompt, image_start: await uploadedImage(page) });

  // Elsewhere: the history, then the account page (a navigation inside the portal keeps watching).
  await page.goto("/tasks");
  await expect(page.getByTestId("task-notices")).toBeEmpty();
  await page.getByRole("link", { name: "Account" }).click();
  const notice = page.getByTestId("task-notice");
  await expect(notice).toHaveCount(1, { timeout: 45_000 });
  await expect(notice).toHaveAttribute("data-ended", "completed");
  await expect(notice).toContainText("Your video is ready:");
  await expect(page).toHaveTitle(/^\(1\) Video ready · /);
  expect(await page.evaluate(() => (window as unknown as { __notifications: string[] }).__notifications)).toEqual([`Your video is ready: ${prompt}`]);
  await expectAccessible(page, "account with a notice");

  // Opening it settles the notice and the title.
  await notice.getByRole("link", { name: prompt }).click();
  await expect(page).toHaveURL(new RegExp(`/tasks/${task.id}$`));
  await expect(page.getByTestId("task-notice")).toHaveCount(0);
  await expect(page).not.toHaveTitle(/Video ready/);
  await context.close();
});
