/**
 * Sessions end when they should, on the production server: signing out ends
 * the session (a saved cookie stops working), a password change and "sign
 * out everywhere" end every session of the person; sign-in is throttled per
 * account with the time to wait, never locked.
 */
import { request as playwrightRequest } from "@playwright/test";
import { E2E_ADMIN, expect, signedInContext, test } from "./fixtures.ts";
import { trpcQuery } from "./helpers.ts";
import { addUser, MAIN, UNREACHABLE } from "./instances.ts";

/** Whether a browser context is still signed in (page and API both). */
async function stillSignedIn(page: import("@playwright/test").Page): Promise<boolean> {
  const api = (await trpcQuery(page.request, "tasks.mine")).status();
  await page.goto("/tasks");
  const onPage = !/\/signin/.test(page.url());
  expect(onPage, "the page and the API agree").toBe(api === 200);
  return onPage;
}

test("signing out ends the session: a copy of its cookie no longer opens anything", async ({ browser }) => {
  const erin = addUser(MAIN, "erin-sessions@e2e.test");
  const { context, page } = await signedInContext(browser, erin);
  const saved = await context.storageState();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  const replay = await playwrightRequest.newContext({ baseURL: MAIN.baseURL, storageState: saved });
  expect((await trpcQuery(replay, "tasks.mine")).status()).toBe(401);
  const pageAnswer = await replay.get("/tasks", { maxRedirects: 0 });
  expect(pageAnswer.status()).toBe(307);
  expect(pageAnswer.headers().location).toMatch(/\/signin/);
  await replay.dispose();
  await context.close();
});

test("changing one's password ends every session; the new password signs in", async ({ browser }) => {
  const frank = addUser(MAIN, "frank-sessions@e2e.test");
  const laptop = await signedInContext(browser, frank);
  const phone = await signedInContext(browser, frank);
  const page = laptop.page;
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByRole("heading", { name: "Account" })).toBeVisible();
  await expect(page.getByTestId("sessions").getByRole("row")).toHaveCount(3); // header + two sessions

  await page.getByLabel("Current password").fill("not-my-password");
  await page.getByLabel("New password", { exact: true }).fill("frank-new-password");
  await page.getByLabel("New password, again").fill("frank-new-password");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("That is not your current password.")).toBeVisible();
  expect(await stillSignedIn(phone.page)).toBe(true);

  await page.getByLabel("Current password").fill(frank.password);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page).toHaveURL(/\/signin\?notice=password-changed/);
  await expect(page.getByText("Your password was changed and every session was signed out.")).toBeVisible();
  expect(await stillSignedIn(phone.page)).toBe(false);

  await page.getByLabel("Email").fill(frank.email);
  await page.getByLabel("Password").fill(frank.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText("Wrong email or password.")).toBeVisible();
  await page.getByLabel("Password").fill("frank-new-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "My history" })).toBeVisible();
  await laptop.context.close();
  await phone.context.close();
});

test("sign out everywhere ends the sessions on every device; the list shows this browser's address", async ({ browser }) => {
  const gina = addUser(MAIN, "gina-sessions@e2e.test");
  // The server trusts its loopback proxy (TRUSTED_PROXIES=loopback): these are the client addresses it records.
  const office = await signedInContext(browser, gina, { headers: { "x-forwarded-for": "198.51.100.23" } });
  const home = await signedInContext(browser, gina, { headers: { "x-forwarded-for": "203.0.113.77" } });
  const page = office.page;
  await page.getByRole("link", { name: "Account" }).click();
  const sessions = page.getByTestId("sessions");
  await expect(sessions.getByRole("row").filter({ hasText: "This browser" })).toContainText("198.51.100.23");
  await expect(sessions.getByRole("row").filter({ hasText: "203.0.113.77" })).toHaveCount(1);
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(page).toHaveURL(/\/signin\?notice=signed-out-everywhere/);
  expect(await stillSignedIn(home.page)).toBe(false);
  expect(await stillSignedIn(office.page)).toBe(false);
  await office.context.close();
  await home.context.close();
});

test("repeated wrong passwords make the next attempt wait, the right one too; the owner's own browser is not held", async ({ browser }) => {
  test.setTimeout(90_000);
  const hana = addUser(MAIN, "hana-throttle@e2e.test");
  // Hana has signed in from her office before (the server trusts its loopback proxy's X-Forwarded-For).
  const office = await signedInContext(browser, hana, { headers: { "x-forwarded-for": "198.51.100.100" } });
  await office.page.getByRole("button", { name: "Sign out" }).click();
  await expect(office.page).toHaveURL(/\/signin/);

  // Someone else guesses from another address.
  const context = await browser.newContext({ baseURL: MAIN.baseURL, extraHTTPHeaders: { "x-forwarded-for": "198.51.100.99" } });
  const page = await context.newPage();
  await page.goto("/signin");
  const attempt = async (password: string) => {
    await page.getByLabel("Email").fill(hana.email);
    await page.getByLabel("Password").fill(password);
    // Each answer replaces the last message: read it only once this attempt's answer is in.
    const answered = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/signin");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await answered;
    await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeEnabled();
    const message = page.getByRole("alert").filter({ hasText: /Wrong email or password|Too many failed sign-ins/ });
    await expect(message).toBeVisible();
    const text = (await message.textContent()) ?? "";
    return { text, wait: Number(/Wait (\d+) second/.exec(text)?.[1] ?? /Wait (\d+) minute/.exec(text)?.[1] ?? 0) };
  };
  // Wrong passwords until the portal asks for a wait long enough to try the right one inside it.
  let last = { text: "", wait: 0 };
  for (let i = 0; i < 30 && last.wait < 4; i++) {
    last = await attempt(`wrong-password-${i}`);
    if (last.wait > 0 && last.wait < 4) await page.waitForTimeout(last.wait * 1000 + 100);
  }
  expect(last.text).toMatch(/^Too many failed sign-ins\. Wait \d+ seconds and try again\.$/);
  const right = await attempt(hana.password);
  expect(right.text).toMatch(/Too many failed sign-ins/);

  // Not a lockout: from where she signed in before, Hana gets in at once...
  await office.page.getByLabel("Email").fill(hana.email);
  await office.page.getByLabel("Password").fill(hana.password);
  await office.page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(office.page.getByRole("heading", { name: "My history" })).toBeVisible();
  // ...and once the delay has passed, the right password works from the guesser's address too.
  await page.waitForTimeout(right.wait * 1000 + 500);
  await page.getByLabel("Email").fill(hana.email);
  await page.getByLabel("Password").fill(hana.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "My history" })).toBeVisible();
  await office.context.close();
  await context.close();
});

test("without a trusted proxy, X-Forwarded-For is ignored: the address recorded is the connection's", async ({ browser }) => {
  // The unreachable-provider server has no TRUSTED_PROXIES.
  const { context, page } = await signedInContext(browser, E2E_ADMIN, { baseURL: UNREACHABLE.baseURL, headers: { "x-forwarded-for": "198.51.100.5" } });
  await page.getByRole("link", { name: "Account" }).click();
  const mine = page.getByTestId("sessions").getByRole("row").filter({ hasText: "This browser" });
  await expect(mine).toContainText("127.0.0.1");
  await expect(mine).not.toContainText("198.51.100.5");
  await context.close();
});
