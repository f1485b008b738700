/**
 * Every page passes an axe check (WCAG 2 A and AA rules) and fits a 390 px
 * phone without sideways scrolling.
 */
import { E2E_ADMIN, expect, expectAccessible, signIn, test } from "./fixtures.ts";
import { trpcData, trpcMutation, upload } from "./helpers.ts";

for (const width of [1280, 390]) {
  test(`the pages pass axe and fit the screen at ${width} px`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    await page.goto("/signin");
    await expectAccessible(page, "sign-in");
    // A wrong password: the message passes axe too, and the email stays for the next try.
    await page.getByLabel("Email").fill(E2E_ADMIN.email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByText("Wrong email or password.")).toBeVisible();
    await expect(page.getByLabel("Email")).toHaveValue(E2E_ADMIN.email);
    await expectAccessible(page, "sign-in, wrong password");
    await signIn(page);
    await expectAccessible(page, "history");
    await page.goto("/tasks/new");
    await expect(page.getByRole("heading", { name: "New video" })).toBeVisible();
    await expectAccessible(page, "new video");
    await page.goto("/account");
    await expect(page.getByTestId("sessions")).toBeVisible();
    await expectAccessible(page, "account");
    // A task of one's own (the simulator finishes it quickly): its page, whatever state it is in.
    const image = ((await (await upload(page.request, "image_start", "image-240x240.png")).json()) as { url: string }).url;
    const task = await trpcData<{ id: string }>(await trpcMutation(page.request, "tasks.create", { prompt: `Axe at ${width} px (${Date.now()})`, image_start: image }));
    await page.goto(`/tasks/${task.id}`);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expectAccessible(page, "task");
    for (const [path, what, ready] of [
      ["/admin/members", "members", "members"],
      ["/admin/tasks", "all tasks", "all-tasks"],
      ["/admin/audit", "audit", "audit"],
      ["/admin/usage", "usage", "people"],
    ] as const) {
      await page.goto(path);
      await expect(page.getByTestId(ready)).toBeVisible();
      await expectAccessible(page, what);
    }
    await page.goto("/no-such-page");
    await expectAccessible(page, "not found");
    // The pages of dead one-time links, as anyone sees them.
    await page.goto(`/invite/${"x".repeat(43)}`);
    await expectAccessible(page, "invitation");
    await page.goto(`/reset/${"x".repeat(43)}`);
    await expectAccessible(page, "password reset");
  });
}

test("every page names itself in the tab title, marks itself in the navigation, and has a skip link to its content", async ({ page }) => {
  await page.goto("/signin");
  await expect(page).toHaveTitle("Sign in · Wan video portal");
  // Pages outside the portal's frame have the skip link too.
  await expect(page.getByRole("link", { name: "Skip to content" })).toHaveAttribute("href", "#main");
  await expect(page.locator("main#main")).toHaveCount(1);
  await signIn(page);
  for (const [path, title, nav] of [
    ["/tasks", "My history", "My history"],
    ["/tasks/new", "New video", "New video"],
    ["/account", "Account", "Account"],
    ["/account/keys", "API keys", "API keys"],
    ["/admin/usage", "Usage", "Usage"],
    ["/admin/members", "Members", "Members"],
    ["/admin/tasks", "All tasks", "All tasks"],
    ["/admin/audit", "Audit log", "Audit"],
    ["/admin/keys", "API keys of the team", "All API keys"],
  ] as const) {
    await page.goto(path);
    await expect(page).toHaveTitle(`${title} · Wan video portal`);
    const current = page.getByRole("navigation", { name: "Main" }).locator('[aria-current="page"]');
    await expect(current).toHaveCount(1);
    await expect(current).toHaveText(nav);
  }
  // The skip link is the first stop of the keyboard and moves focus to the content.
  await page.goto("/tasks");
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("main#main")).toBeFocused();
  await page.goto("/no-such-page");
  await expect(page).toHaveTitle("Not found · Wan video portal");
  await expect(page.getByRole("link", { name: "Go to your history" })).toBeVisible();
});
