/**
 * The team side, as an admin and a new member do it in the browser, on the
 * production server: invite, accept, work, be found, be deactivated (the open
 * browser is signed out on its next request); single sign-on through a real
 * OpenID Connect provider on loopback. Screenshots of the members, invitation
 * and audit pages are attached to the test results.
 */
import type { Page, TestInfo } from "@playwright/test";
import { E2E_ADMIN, expect, expectAccessible, fileChecked, saveScreenshot, signedInContext, signIn, test } from "./fixtures.ts";
import { addUser, MAIN, OIDC } from "./instances.ts";

async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  await saveScreenshot(page, testInfo, name);
}

/** The members table's row for an email. */
const memberRow = (page: Page, email: string) => page.locator(`tr[data-member="${email}"]`);

test("an admin invites a member, who joins, works, is found, and is signed out when deactivated", async ({ page, browser }, testInfo) => {
  test.setTimeout(120_000);
  const email = `zoe-${Date.now()}@e2e.test`;
  // The admin invites.
  await signIn(page);
  await page.getByRole("link", { name: "Members" }).click();
  await expect(page.getByRole("heading", { name: "Members", level: 1 })).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Role").selectOption("member");
  await page.getByRole("button", { name: "Create invitation" }).click();
  const linkBox = page.getByTestId("one-time-link").getByRole("textbox");
  await expect(linkBox).toHaveValue(new RegExp(`^${MAIN.baseURL}/invite/[\\w-]{43}$`));
  const link = await linkBox.inputValue();
  await expect(page.locator(`tr[data-invitation="${email}"]`)).toContainText("Invited");
  await screenshot(page, testInfo, "members-page");

  // The invitee opens the link in their own browser, chooses a name and password, and lands in the portal.
  const member = await browser.newContext({ baseURL: MAIN.baseURL });
  const mpage = await member.newPage();
  await mpage.goto(link);
  await expect(mpage.getByRole("heading", { name: "Join the team" })).toBeVisible();
  await expect(mpage.getByLabel("Email")).toHaveValue(email);
  await screenshot(mpage, testInfo, "invitation-page");
  await expectAccessible(mpage, "invitation form");
  await mpage.getByLabel("Your name").fill("Zoe Example");
  await mpage.getByLabel("Password", { exact: true }).fill("zoe-password-1");
  await mpage.getByLabel("Password, again").fill("zoe-password-1");
  await mpage.getByRole("button", { name: "Join the team" }).click();
  await expect(mpage.getByRole("heading", { name: "My history" })).toBeVisible();
  // The link worked once.
  const again = await browser.newPage();
  await again.goto(link);
  await expect(again.getByText("This invitation link no longer works")).toBeVisible();
  await again.close();

  // The member makes a video.
  await mpage.getByRole("link", { name: "New video" }).click();
  const prompt = `Zoe's first video (${Date.now()})`;
  await mpage.getByLabel("Prompt", { exact: true }).fill(prompt);
  // The form checks its first frame link on its own and disables Generate meanwhile: click once that check has ended.
  await fileChecked(mpage);
  await mpage.getByRole("button", { name: "Generate video" }).click();
  await expect(mpage).toHaveURL(/\/tasks\/[0-9a-f-]{36}$/);
  await expect(mpage.getByTestId("owner")).toHaveText("You");

  // The admin finds it in the list of every task, and its page says whose it is.
  await page.getByRole("link", { name: "All tasks" }).click();
  await page.getByLabel("Person").selectOption({ label: `Zoe Example (${email})` });
  const row = page.getByRole("row").filter({ hasText: prompt });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(email);
  await row.getByRole("link").click();
  await expect(page.getByTestId("owner")).toHaveText(`Zoe Example (${email})`);

  // The admin deactivates the member; the member's open browser is signed out on its next request.
  await page.getByRole("link", { name: "Members" }).click();
  await expect(memberRow(page, email)).toContainText("Password");
  await memberRow(page, email).getByRole("button", { name: "Deactivate…" }).click();
  await memberRow(page, email).getByRole("button", { name: `Deactivate ${email}` }).click();
  await expect(memberRow(page, email).getByTestId("member-status")).toHaveText("Deactivated");
  // Its next request is refused. The open task page's own live update may take it to sign-in at any moment (a click
  // on its links, or a navigation of that tab, races it), so the member's next request comes from a new tab of the
  // same browser (the same session cookie).
  await mpage.close();
  const next = await member.newPage();
  await next.goto("/tasks");
  await expect(next).toHaveURL(/\/signin/);
  await next.getByLabel("Email").fill(email);
  await next.getByLabel("Password").fill("zoe-password-1");
  await next.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(next.getByText("This account is deactivated. Ask an admin of the portal to reactivate it.")).toBeVisible();

  // The audit log has it all, by whom.
  await page.getByRole("link", { name: "Audit" }).click();
  const audit = page.getByTestId("audit");
  await expect(audit.locator('tr[data-action="invitation.created"]').filter({ hasText: email })).toContainText(E2E_ADMIN.email);
  await expect(audit.locator('tr[data-action="invitation.accepted"]').filter({ hasText: email })).toHaveCount(1);
  await expect(audit.locator('tr[data-action="user.deactivated"]').filter({ hasText: email })).toContainText("status: active → deactivated");
  // The refused sign-in of the deactivated member is in the sign-in log, with no password anywhere.
  await expect(page.getByTestId("sign-ins").locator('tr[data-outcome="deactivated"]').filter({ hasText: email })).toHaveCount(1);
  await expect(page.getByTestId("sign-ins")).not.toContainText("zoe-password-1");
  await screenshot(page, testInfo, "audit-page");
  await page.getByLabel("What").selectOption({ label: "Deactivated" });
  await expect(audit.locator("tbody tr").first()).toHaveAttribute("data-action", "user.deactivated");
  await expect(audit.locator('tbody tr:not([data-action="user.deactivated"])')).toHaveCount(0);
  await member.close();
});

test("an admin resets a member's password: a one-time link, every session ends", async ({ page, browser }) => {
  const member = { email: `ray-${Date.now()}@e2e.test`, password: "ray-password-1" };
  addUser(MAIN, member.email, { password: member.password });
  const ray = await signedInContext(browser, member);
  await signIn(page);
  await page.goto("/admin/members");
  await memberRow(page, member.email).getByRole("button", { name: "Reset password…" }).click();
  await memberRow(page, member.email).getByRole("button", { name: /End .* sessions and make a reset link/ }).click();
  const link = await page.getByTestId("one-time-link").getByRole("textbox").inputValue();
  expect(link).toMatch(/\/reset\/[\w-]{43}$/);
  // Ray's open browser is signed out at once.
  await ray.page.getByRole("link", { name: "New video" }).click();
  await expect(ray.page).toHaveURL(/\/signin/);
  await ray.page.goto(link);
  await ray.page.getByLabel("Password", { exact: true }).fill("ray-new-password");
  await ray.page.getByLabel("Password, again").fill("ray-new-password");
  await ray.page.getByRole("button", { name: "Set the new password" }).click();
  await expect(ray.page.getByRole("heading", { name: "My history" })).toBeVisible();
  await ray.context.close();
});

test("single sign-on through the team's OpenID Connect provider: allowed domains and invitations enter, others do not", async ({ page, browser }) => {
  test.setTimeout(120_000);
  /** Signs in through the identity provider's own login page as `login` (its email), from `start`'s button. */
  const ssoSignIn = async (p: Page, login: string, start = { path: "/signin", button: `Sign in with ${OIDC.name}` }) => {
    await p.goto(start.path);
    await p.getByRole("button", { name: start.button }).click();
    await expect(p).toHaveURL(new RegExp(`^${OIDC.issuer}/`));
    await p.locator('input[name="login"]').fill(login);
    await p.locator('input[name="password"]').fill("anything");
    await p.getByRole("button", { name: "Sign-in" }).click();
  };
  const fresh = async () => {
    const context = await browser.newContext({ baseURL: MAIN.baseURL });
    return { context, page: await context.newPage() };
  };

  // A verified email of the allowed domain joins as a member.
  const dora = await fresh();
  const doraEmail = `dora-${Date.now()}@${OIDC.allowedDomain}`;
  await ssoSignIn(dora.page, doraEmail);
  await expect(dora.page.getByRole("heading", { name: "My history" })).toBeVisible();
  await expect(dora.page.getByRole("link", { name: "Members" })).toHaveCount(0);

  // Anyone else is refused, with a reason; so is an unverified email.
  for (const [login, says] of [
    [`mallory-${Date.now()}@elsewhere.test`, `Your ${OIDC.name} account is not invited to this portal`],
    [`eve-${Date.now()}@${OIDC.allowedDomain}+unverified`, `${OIDC.name} did not confirm your email address`],
  ] as const) {
    const stranger = await fresh();
    await ssoSignIn(stranger.page, login);
    await expect(stranger.page).toHaveURL(/\/signin\?error=AccessDenied/);
    await expect(stranger.page.getByText(says)).toBeVisible();
    await stranger.context.close();
  }

  // The provider cannot sign anyone in as an admin account (admins keep their password).
  const impostor = await fresh();
  await ssoSignIn(impostor.page, E2E_ADMIN.email);
  await expect(impostor.page.getByText(`Admins sign in with their password, not with ${OIDC.name}.`)).toBeVisible();
  await impostor.context.close();

  // An invitation to be an admin is taken through single sign-on from its own link only.
  await signIn(page);
  await page.goto("/admin/members");
  const samEmail = `sam-${Date.now()}@partner.test`;
  await page.getByLabel("Email").fill(samEmail);
  await page.getByLabel("Role").selectOption("admin");
  await page.getByRole("button", { name: "Create invitation" }).click();
  const samLink = await page.getByTestId("one-time-link").getByRole("textbox").inputValue();
  const sam = await fresh();
  await ssoSignIn(sam.page, samEmail);
  await expect(sam.page.getByText("You are invited as an admin: open your invitation link")).toBeVisible();
  await sam.context.close();
  const samAgain = await fresh();
  await samAgain.page.goto(samLink);
  await samAgain.page.getByRole("button", { name: `Join with ${OIDC.name}` }).click();
  // A new browser: the provider asks who it is again.
  await samAgain.page.locator('input[name="login"]').fill(samEmail);
  await samAgain.page.locator('input[name="password"]').fill("anything");
  await samAgain.page.getByRole("button", { name: "Sign-in" }).click();
  await expect(samAgain.page.getByRole("heading", { name: "My history" })).toBeVisible();
  await expect(samAgain.page.getByRole("link", { name: "Members" })).toBeVisible();
  await page.reload();
  await expect(memberRow(page, samEmail)).toContainText("Admin");
  await expect(memberRow(page, samEmail)).toContainText("Single sign-on");
  await expect(memberRow(page, doraEmail)).toContainText("Single sign-on");

  // Deactivated: refused even though the provider says yes, and the open session ends.
  await memberRow(page, doraEmail).getByRole("button", { name: "Deactivate…" }).click();
  await memberRow(page, doraEmail).getByRole("button", { name: `Deactivate ${doraEmail}` }).click();
  await expect(memberRow(page, doraEmail).getByTestId("member-status")).toHaveText("Deactivated");
  await dora.page.reload();
  await expect(dora.page).toHaveURL(/\/signin/);
  // Still signed in at the identity provider, which sends her straight back: the portal refuses.
  await dora.page.getByRole("button", { name: `Sign in with ${OIDC.name}` }).click();
  await expect(dora.page).toHaveURL(/\/signin\?error=AccessDenied/);
  await expect(dora.page.getByText("This account is deactivated. Ask an admin of the portal to reactivate it.")).toBeVisible();
  await dora.context.close();
  await samAgain.context.close();
});
