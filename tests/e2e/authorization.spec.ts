/**
 * The authorization table (tests/authz/table.ts), run over HTTP against the
 * production server with real session cookies: each row called as an
 * anonymous visitor, with a signed-out (revoked) session's cookie, as another
 * member, as the member who owns the data, and as an admin.
 */
import { request as playwrightRequest, type APIRequestContext, type Browser } from "@playwright/test";
import { AUTHZ_TABLE, CALLERS, type AuthzData, type Caller } from "../authz/table.ts";
import { E2E_ADMIN, expect, signedInContext, test } from "./fixtures.ts";
import { trpcData, trpcMutation, trpcQuery, upload } from "./helpers.ts";
import { addUser, MAIN } from "./instances.ts";

/** Signs in through the page in a new browser context; returns its cookies and page. */
async function signedIn(browser: Browser, account: { email: string; password: string }) {
  const { context, page } = await signedInContext(browser, account);
  return { context, page, state: await context.storageState() };
}

test("every procedure, route and page answers each kind of caller as the table says", async ({ browser }) => {
  test.setTimeout(180_000);
  const alice = addUser(MAIN, "alice-authz@e2e.test");
  const bob = addUser(MAIN, "bob-authz@e2e.test");
  const apis = {} as Record<Caller, APIRequestContext>;
  const newApi = (storageState?: Awaited<ReturnType<typeof signedIn>>["state"]) => playwrightRequest.newContext({ baseURL: MAIN.baseURL, storageState });

  apis.anonymous = await newApi();
  apis.member = await newApi((await signedIn(browser, alice)).state);
  apis.otherMember = await newApi((await signedIn(browser, bob)).state);
  apis.admin = await newApi((await signedIn(browser, E2E_ADMIN)).state);
  // A session of alice's that she signed out of: its cookie must open nothing.
  const old = await signedIn(browser, alice);
  await old.page.getByRole("button", { name: "Sign out" }).click();
  await expect(old.page).toHaveURL(/\/signin/);
  apis.revoked = await newApi(old.state);

  // Alice's data: two uploads, and a task made from each, archived (the second one's files are deleted by a row).
  const archivedTask = async (prompt: string, file: string) => {
    const uploaded = await upload(apis.member, "image_start", file);
    const { url } = (await uploaded.json()) as { url: string };
    const task = await trpcData<{ id: string }>(await trpcMutation(apis.member, "tasks.create", { prompt, image_start: url }));
    await expect
      .poll(async () => (await trpcData<{ archiveStatus: string }>(await trpcQuery(apis.member, "tasks.get", { id: task.id }))).archiveStatus, { timeout: 30_000 })
      .toBe("archived");
    return { taskId: task.id, uploadUrl: url };
  };
  const kept = await archivedTask("Alice's own video", "image-240x240.png");
  const deletable = await archivedTask("Alice's video she will delete", "image-320x240.jpg");
  const apiKey = await trpcData<{ key: { id: string } }>(await trpcMutation(apis.member, "apiKeys.create", { name: "Alice's script" }));
  const data: AuthzData = { ...kept, deletableTaskId: deletable.taskId, deletableUploadUrl: deletable.uploadUrl, apiKeyId: apiKey.key.id };

  const failures: string[] = [];
  let tried = 0;
  let refused = 0;
  const rows = [...AUTHZ_TABLE.filter((r) => !r.last), ...AUTHZ_TABLE.filter((r) => r.last)];
  for (const row of rows) {
    for (const caller of CALLERS) {
      tried += 1;
      const res = await row.call(apis[caller], data);
      const want = row.expect[caller];
      const got = res.status();
      const ok = want === "signin" ? got === 307 && /\/signin/.test(res.headers().location ?? "") : got === want;
      if (got >= 300) refused += 1;
      if (!ok) failures.push(`${row.covers} (${row.what}) as ${caller}: expected ${want}, got ${got} ${got >= 300 ? (await res.text()).slice(0, 200) : ""}`);
      else if (got === 200 && row.check) {
        try {
          row.check(await res.json(), caller, data);
        } catch (err) {
          failures.push(`${row.covers} (${row.what}) as ${caller}: ${(err as Error).message}`);
        }
      }
    }
  }
  console.log(`authorization table: ${tried} calls (${rows.length} rows × ${CALLERS.length} callers), ${refused} refused or redirected, ${failures.length} unexpected`);
  expect(failures).toEqual([]);
  for (const api of Object.values(apis)) await api.dispose();
});
