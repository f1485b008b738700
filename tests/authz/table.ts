/**
 * The authorization table: every tRPC procedure, route handler and page,
 * and what each kind of caller gets. tests/e2e/authorization.spec.ts runs it
 * over HTTP against the production server with real session cookies;
 * tests/unit/authz-coverage.test.ts fails when a procedure, route or page
 * has no row, so a new one cannot ship without deciding who may call it.
 */
import type { APIRequestContext, APIResponse } from "@playwright/test";

/**
 * anonymous: no cookie. revoked: the cookie of a session that was signed out.
 * otherMember: signed in, not the owner. member: signed in, the owner of the
 * data used. admin: signed in as an admin.
 */
export type Caller = "anonymous" | "revoked" | "otherMember" | "member" | "admin";
export const CALLERS: readonly Caller[] = ["anonymous", "revoked", "otherMember", "member", "admin"];

/**
 * What the test prepared: the member's archived task, and an upload's link;
 * a second archived task of the member's, made from its own upload, whose
 * files the rows delete (the rows after that one see them deleted); a
 * personal API key of the member's.
 */
export interface AuthzData {
  taskId: string;
  uploadUrl: string;
  deletableTaskId: string;
  deletableUploadUrl: string;
  /** A working personal API key of the member's (its id). */
  apiKeyId: string;
}

export interface AuthzRow {
  /** What the row covers: a procedure path ("tasks.get"), or a route or page file under app/. */
  covers: string;
  what: string;
  call: (api: APIRequestContext, data: AuthzData) => Promise<APIResponse>;
  /** The HTTP status each caller gets; "signin" = a redirect to the sign-in page. Every caller has one. */
  expect: Record<Caller, number | "signin">;
  /** Checks on a 200 answer (e.g. nobody else's data in it). */
  check?: (body: unknown, caller: Caller, data: AuthzData) => void;
  /** Runs after every other row (it ends sessions). */
  last?: boolean;
}

const SIGNED_IN_ONLY = { anonymous: 401, revoked: 401 } as const;
const PAGE_SIGNED_IN_ONLY = { anonymous: "signin", revoked: "signin" } as const;
/** Admin procedures: members are refused (403), whatever they send. */
const ADMIN_ONLY = { anonymous: 401, revoked: 401, otherMember: 403, member: 403 } as const;
/** Admin pages: to members they do not exist. */
const ADMIN_PAGE = { anonymous: "signin", revoked: "signin", otherMember: 404, member: 404 } as const;
const NO_SUCH_ID = "no-such-id";

const trpcGet = (procedure: string, input?: unknown) => (api: APIRequestContext) =>
  api.get(`/api/trpc/${procedure}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`}`, { maxRedirects: 0 });
const trpcPost = (procedure: string, input: (d: AuthzData) => unknown) => (api: APIRequestContext, d: AuthzData) =>
  api.post(`/api/trpc/${procedure}`, { data: { json: input(d) }, headers: { "content-type": "application/json" }, maxRedirects: 0 });
const page = (path: (d: AuthzData) => string) => (api: APIRequestContext, d: AuthzData) => api.get(path(d), { maxRedirects: 0 });

/** The tRPC answer's data. */
const dataOf = (body: unknown) => (body as { result: { data: { json: unknown } } }).result.data.json;
const IMAGE = "image-240x240.png";

export const AUTHZ_TABLE: AuthzRow[] = [
  // --- tRPC ---------------------------------------------------------------
  {
    covers: "tasks.create",
    what: "create a task",
    call: (api, d) => trpcPost("tasks.create", () => ({ prompt: "Authorization table", image_start: d.uploadUrl }))(api, d),
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
  },
  {
    covers: "tasks.get",
    what: "read the member's task",
    call: (api, d) => trpcGet("tasks.get", { id: d.taskId })(api),
    expect: { ...SIGNED_IN_ONLY, otherMember: 404, member: 200, admin: 200 },
  },
  {
    covers: "tasks.timeline",
    what: "read the member's task's timeline",
    call: (api, d) => trpcGet("tasks.timeline", { id: d.taskId })(api),
    expect: { ...SIGNED_IN_ONLY, otherMember: 404, member: 200, admin: 200 },
    check: (body) => {
      const kinds = (dataOf(body) as { events: Array<{ kind: string }> }).events.map((e) => e.kind);
      if (!kinds.includes("stored") || !kinds.includes("completed")) throw new Error(`the timeline lacks its events: ${kinds.join(", ")}`);
    },
  },
  {
    covers: "tasks.cancel",
    what: "cancel the member's task (it has ended: the owner is told so; nobody else may)",
    call: trpcPost("tasks.cancel", (d) => ({ id: d.taskId })),
    expect: { ...SIGNED_IN_ONLY, otherMember: 404, member: 409, admin: 403 },
  },
  {
    covers: "tasks.activity",
    what: "one's own running and just-ended tasks (nobody else's)",
    call: (api) => trpcGet("tasks.activity", { since: new Date(Date.now() - 3_600_000).toISOString() })(api),
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
    check: (body, caller, d) => {
      const ids = (dataOf(body) as { tasks: Array<{ id: string }> }).tasks.map((t) => t.id);
      if (caller !== "member" && (ids.includes(d.taskId) || ids.includes(d.deletableTaskId))) throw new Error(`${caller} sees the member's tasks`);
    },
  },
  {
    covers: "tasks.deleteFiles",
    what: "delete the files of the member's second task (only its owner; the rows below then see them deleted)",
    call: trpcPost("tasks.deleteFiles", (d) => ({ id: d.deletableTaskId })),
    expect: { ...SIGNED_IN_ONLY, otherMember: 404, member: 200, admin: 403 },
  },
  {
    covers: "app/api/media/[taskId]/route.ts",
    what: "watch the video of the member's deleted task: says it was deleted, to those who may see it",
    call: (api, d) => api.get(`/api/media/${d.deletableTaskId}`, { maxRedirects: 0 }),
    expect: { ...SIGNED_IN_ONLY, otherMember: 404, member: 410, admin: 410 },
  },
  {
    covers: "app/api/uploads/[name]/route.ts",
    what: "fetch an upload of the deleted task with its link: says it was deleted",
    call: (api, d) => api.get(d.deletableUploadUrl, { maxRedirects: 0 }),
    expect: { anonymous: 410, revoked: 410, otherMember: 410, member: 410, admin: 410 },
  },
  {
    covers: "tasks.mine",
    what: "list one's own tasks",
    call: (api) => trpcGet("tasks.mine")(api),
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
    check: (body, caller, d) => {
      const ids = (dataOf(body) as Array<{ id: string }>).map((t) => t.id);
      if (caller === "member" ? !ids.includes(d.taskId) : ids.includes(d.taskId)) throw new Error(`${caller}'s list ${caller === "member" ? "lacks" : "shows"} the member's task`);
    },
  },
  {
    covers: "tasks.history",
    what: "one's own history, filtered and paged",
    call: (api) => trpcGet("tasks.history", {})(api),
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
    check: (body, caller, d) => {
      const ids = (dataOf(body) as { tasks: Array<{ id: string }> }).tasks.map((t) => t.id);
      if (caller === "member" ? !ids.includes(d.taskId) : ids.includes(d.taskId)) throw new Error(`${caller}'s history ${caller === "member" ? "lacks" : "shows"} the member's task`);
    },
  },
  {
    covers: "tasks.historyTotals",
    what: "the totals of one's own history",
    call: (api) => trpcGet("tasks.historyTotals", {})(api),
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
    check: (body, caller) => {
      const { tasks } = dataOf(body) as { tasks: number };
      if (caller === "member" && tasks < 1) throw new Error("the member's totals miss their own task");
    },
  },
  {
    covers: "tasks.draftFrom",
    what: "open the form with the member's task's settings (Run again)",
    call: trpcPost("tasks.draftFrom", (d) => ({ taskId: d.taskId, as: "again" })),
    expect: { ...SIGNED_IN_ONLY, otherMember: 404, member: 200, admin: 200 },
    check: (body) => {
      const draft = dataOf(body) as { values: { prompt?: string; image_start?: string } };
      if (!draft.values.prompt || !draft.values.image_start) throw new Error("the draft lacks the task's prompt or first frame");
    },
  },
  {
    covers: "tasks.draftFrom",
    what: "open the form to continue the member's video (its portal copy becomes an upload link)",
    call: trpcPost("tasks.draftFrom", (d) => ({ taskId: d.taskId, as: "continue" })),
    expect: { ...SIGNED_IN_ONLY, otherMember: 404, member: 200, admin: 200 },
    check: (body) => {
      const draft = dataOf(body) as { values: { generation_mode?: string; video_urls?: string[] } };
      if (draft.values.generation_mode !== "video_continuation" || !/\/api\/uploads\/[0-9a-f-]{36}\.mp4\?token=/.test(draft.values.video_urls?.[0] ?? "")) {
        throw new Error("the draft does not continue the video through an upload link");
      }
    },
  },
  {
    covers: "media.check",
    what: "check a file for the form (here an upload's link: the token is what opens it)",
    call: trpcPost("media.check", (d) => ({ field: "image_start", url: d.uploadUrl })),
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
    check: (body) => {
      if ((dataOf(body) as { status: string }).status !== "ok") throw new Error("the upload did not pass its check");
    },
  },
  {
    covers: "account.sessions",
    what: "list one's own sessions",
    call: (api) => trpcGet("account.sessions")(api),
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
    check: (body) => {
      const sessions = dataOf(body) as Array<{ current: boolean }>;
      if (sessions.filter((s) => s.current).length !== 1) throw new Error("the caller's own session is not listed as current");
    },
  },
  {
    covers: "account.changePassword",
    what: "change one's password (with a wrong current password: refused, changes nothing)",
    call: trpcPost("account.changePassword", () => ({ currentPassword: "not-the-password", newPassword: "a-new-password-1" })),
    expect: { ...SIGNED_IN_ONLY, otherMember: 400, member: 400, admin: 400 },
  },
  {
    covers: "apiKeys.mine",
    what: "list one's own API keys (nobody else's)",
    call: (api) => trpcGet("apiKeys.mine")(api),
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
    check: (body, caller, d) => {
      const ids = (dataOf(body) as Array<{ id: string }>).map((k) => k.id);
      if (caller === "member" ? !ids.includes(d.apiKeyId) : ids.includes(d.apiKeyId)) throw new Error(`${caller}'s keys ${caller === "member" ? "lack" : "show"} the member's key`);
    },
  },
  {
    covers: "apiKeys.create",
    what: "make an API key for oneself (shown once)",
    call: trpcPost("apiKeys.create", () => ({ name: "Authorization table", expiresInDays: 1 })),
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
    check: (body) => {
      if (!/^wvp_\w{40}$/.test((dataOf(body) as { secret: string }).secret)) throw new Error("the new key is not in the answer");
    },
  },
  {
    covers: "apiKeys.revoke",
    what: "revoke the member's API key (only its owner here; admins revoke through admin.revokeApiKey)",
    call: trpcPost("apiKeys.revoke", (d) => ({ id: d.apiKeyId })),
    expect: { ...SIGNED_IN_ONLY, otherMember: 404, member: 200, admin: 404 },
  },
  {
    covers: "account.signOutEverywhere",
    what: "sign out everywhere",
    call: trpcPost("account.signOutEverywhere", () => undefined),
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
    last: true,
  },

  // --- tRPC, admins only ---------------------------------------------------------
  { covers: "team.members", what: "list the team", call: (api) => trpcGet("team.members")(api), expect: { ...ADMIN_ONLY, admin: 200 } },
  {
    covers: "team.invite",
    what: "invite someone",
    call: trpcPost("team.invite", () => ({ email: "authz-invitee@e2e.test", role: "admin" })),
    expect: { ...ADMIN_ONLY, admin: 200 },
  },
  { covers: "team.resendInvitation", what: "re-send an invitation", call: trpcPost("team.resendInvitation", () => ({ id: NO_SUCH_ID })), expect: { ...ADMIN_ONLY, admin: 404 } },
  { covers: "team.revokeInvitation", what: "revoke an invitation", call: trpcPost("team.revokeInvitation", () => ({ id: NO_SUCH_ID })), expect: { ...ADMIN_ONLY, admin: 404 } },
  { covers: "team.setRole", what: "make someone an admin", call: trpcPost("team.setRole", () => ({ userId: NO_SUCH_ID, role: "admin" })), expect: { ...ADMIN_ONLY, admin: 404 } },
  { covers: "team.deactivate", what: "deactivate someone", call: trpcPost("team.deactivate", () => ({ userId: NO_SUCH_ID })), expect: { ...ADMIN_ONLY, admin: 404 } },
  { covers: "team.reactivate", what: "reactivate someone", call: trpcPost("team.reactivate", () => ({ userId: NO_SUCH_ID })), expect: { ...ADMIN_ONLY, admin: 404 } },
  { covers: "team.resetPassword", what: "make a password-reset link", call: trpcPost("team.resetPassword", () => ({ userId: NO_SUCH_ID })), expect: { ...ADMIN_ONLY, admin: 404 } },
  {
    covers: "admin.tasks",
    what: "list every task of the team",
    call: (api) => trpcGet("admin.tasks", {})(api),
    expect: { ...ADMIN_ONLY, admin: 200 },
    check: (body, _caller, d) => {
      if (!(dataOf(body) as { tasks: Array<{ id: string }> }).tasks.some((t) => t.id === d.taskId)) throw new Error("the member's task is missing from the admins' list");
    },
  },
  { covers: "admin.audit", what: "read the audit log", call: (api) => trpcGet("admin.audit", {})(api), expect: { ...ADMIN_ONLY, admin: 200 } },
  {
    covers: "admin.apiKeys",
    what: "list every API key of the team (never a secret)",
    call: (api) => trpcGet("admin.apiKeys", {})(api),
    expect: { ...ADMIN_ONLY, admin: 200 },
    check: (body, _caller, d) => {
      const keys = (dataOf(body) as { keys: Array<{ id: string }> }).keys;
      if (!keys.some((k) => k.id === d.apiKeyId)) throw new Error("the member's key is missing from the admins' list");
      if (/wvp_\w{40}/.test(JSON.stringify(body))) throw new Error("a whole key is in the admins' list");
    },
  },
  {
    covers: "admin.revokeApiKey",
    what: "revoke anyone's API key (the member's, already revoked by its owner: nothing changes)",
    call: trpcPost("admin.revokeApiKey", (d) => ({ id: d.apiKeyId })),
    expect: { ...ADMIN_ONLY, admin: 200 },
  },
  { covers: "admin.signIns", what: "read the sign-in log", call: (api) => trpcGet("admin.signIns", {})(api), expect: { ...ADMIN_ONLY, admin: 200 } },

  // --- Usage and budgets -----------------------------------------------------------
  { covers: "usage.team", what: "the team's usage", call: (api) => trpcGet("usage.team", { period: { kind: "this-month" } })(api), expect: { ...ADMIN_ONLY, admin: 200 } },
  {
    covers: "usage.mine",
    what: "one's own usage (nobody else's)",
    call: (api) => trpcGet("usage.mine", { period: { kind: "this-month" } })(api),
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
    check: (body, caller) => {
      const tasks = (dataOf(body) as { totals: { tasks: number } }).totals.tasks;
      if (caller === "member" && tasks === 0) throw new Error("the member's own tasks are missing from their usage");
    },
  },
  { covers: "usage.myBudget", what: "one's own budget", call: (api) => trpcGet("usage.myBudget")(api), expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 } },
  {
    covers: "usage.setBudget",
    what: "set someone's budget",
    call: trpcPost("usage.setBudget", () => ({ scope: "user", userId: NO_SUCH_ID, monthlyLimit: 1 })),
    expect: { ...ADMIN_ONLY, admin: 404 },
  },
  {
    covers: "usage.setTimeZone",
    what: "set the reporting time zone (to one that does not exist: refused, nothing changes)",
    call: trpcPost("usage.setTimeZone", () => ({ timeZone: "Mars/Olympus" })),
    expect: { ...ADMIN_ONLY, admin: 400 },
  },
  {
    covers: "app/api/usage/people.csv/route.ts",
    what: "export the per-person usage",
    call: (api) => api.get("/api/usage/people.csv?kind=this-month", { maxRedirects: 0 }),
    expect: { ...ADMIN_ONLY, admin: 200 },
  },
  {
    covers: "app/api/usage/tasks.csv/route.ts",
    what: "export every task of the team",
    call: (api) => api.get("/api/usage/tasks.csv?kind=this-month", { maxRedirects: 0 }),
    expect: { ...ADMIN_ONLY, admin: 200 },
  },

  // --- Route handlers --------------------------------------------------------
  {
    covers: "app/api/trpc/[trpc]/route.ts",
    what: "an unknown procedure",
    call: (api) => api.get("/api/trpc/tasks.nope", { maxRedirects: 0 }),
    expect: { anonymous: 404, revoked: 404, otherMember: 404, member: 404, admin: 404 },
  },
  {
    covers: "app/api/media/[taskId]/route.ts",
    what: "watch the member's archived video",
    call: (api, d) => api.get(`/api/media/${d.taskId}`, { headers: { range: "bytes=0-0" }, maxRedirects: 0 }),
    expect: { ...SIGNED_IN_ONLY, otherMember: 404, member: 206, admin: 206 },
  },
  {
    covers: "app/api/media/[taskId]/route.ts",
    what: "download the member's archived video (named wan-<date>-<short id>.mp4)",
    call: (api, d) => api.get(`/api/media/${d.taskId}?download=1`, { headers: { range: "bytes=0-0" }, maxRedirects: 0 }),
    expect: { ...SIGNED_IN_ONLY, otherMember: 404, member: 206, admin: 206 },
  },
  {
    covers: "app/api/uploads/route.ts",
    what: "upload a file",
    call: async (api) => {
      const { readFileSync } = await import("node:fs");
      const path = await import("node:path");
      const buffer = readFileSync(path.resolve(import.meta.dirname, "../fixtures/media", IMAGE));
      return api.post("/api/uploads", { multipart: { field: "image_start", file: { name: IMAGE, mimeType: "image/png", buffer } }, maxRedirects: 0 });
    },
    expect: { ...SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
  },
  {
    covers: "app/api/uploads/[name]/route.ts",
    what: "fetch an upload with its link (the token is the authorization: the provider has no session)",
    call: (api, d) => api.get(d.uploadUrl, { maxRedirects: 0 }),
    expect: { anonymous: 200, revoked: 200, otherMember: 200, member: 200, admin: 200 },
  },
  {
    covers: "app/api/uploads/[name]/route.ts",
    what: "fetch an upload without its token",
    call: (api, d) => api.get(d.uploadUrl.replace(/\?token=.*/, ""), { maxRedirects: 0 }),
    expect: { anonymous: 404, revoked: 404, otherMember: 404, member: 404, admin: 404 },
  },
  {
    covers: "app/api/uploads/[name]/route.ts",
    what: "fetch an upload with another file's token",
    call: (api, d) => api.get(d.uploadUrl.replace(/[0-9a-f-]{36}\.png/, "00000000-0000-4000-8000-000000000000.png"), { maxRedirects: 0 }),
    expect: { anonymous: 404, revoked: 404, otherMember: 404, member: 404, admin: 404 },
  },
  {
    covers: "app/api/callbacks/evolink/[taskId]/route.ts",
    what: "a provider callback without the task's token (cookies give no right to it)",
    call: (api, d) => api.post(`/api/callbacks/evolink/${d.taskId}?token=forged`, { data: { id: "task-unified-1-x", status: "completed" }, maxRedirects: 0 }),
    expect: { anonymous: 404, revoked: 404, otherMember: 404, member: 404, admin: 404 },
  },
  // The /v1 API: personal API keys only. A session cookie gives no right to it (tests/integration/v1-api.test.ts covers keys).
  ...(
    [
      ["create a task", (api: APIRequestContext) => api.post("/v1/videos/generations", { data: { model: "wan2.7-image-to-video", prompt: "x" }, maxRedirects: 0 })],
      ["read the member's task", (api: APIRequestContext, d: AuthzData) => api.get(`/v1/tasks/${d.taskId}`, { maxRedirects: 0 })],
      ["list tasks", (api: APIRequestContext) => api.get("/v1/tasks", { maxRedirects: 0 })],
      ["the balance", (api: APIRequestContext) => api.get("/v1/balance", { maxRedirects: 0 })],
      ["the member's result without its token", (api: APIRequestContext, d: AuthzData) => api.get(`/v1/results/${d.taskId}`, { maxRedirects: 0 })],
    ] as const
  ).map(([what, call]): AuthzRow => ({
    covers: "app/v1/[...path]/route.ts",
    what: `/v1: ${what}, with cookies and no API key`,
    call,
    expect: { anonymous: 401, revoked: 401, otherMember: 401, member: 401, admin: 401 },
  })),
  {
    covers: "app/v1/[...path]/route.ts",
    what: "/v1: the member's result with a forged token",
    call: (api, d) => api.get(`/v1/results/${d.taskId}?token=forged`, { maxRedirects: 0 }),
    expect: { anonymous: 404, revoked: 404, otherMember: 404, member: 404, admin: 404 },
  },
  {
    covers: "app/v1/[...path]/route.ts",
    what: "/v1: the API's OpenAPI document (public)",
    call: (api) => api.get("/v1/openapi.json", { maxRedirects: 0 }),
    expect: { anonymous: 200, revoked: 200, otherMember: 200, member: 200, admin: 200 },
    check: (body) => {
      if ((body as { openapi?: string }).openapi !== "3.1.0") throw new Error("not an OpenAPI 3.1 document");
    },
  },
  {
    covers: "app/api/health/route.ts",
    what: "health check",
    call: (api) => api.get("/api/health", { maxRedirects: 0 }),
    expect: { anonymous: 200, revoked: 200, otherMember: 200, member: 200, admin: 200 },
  },
  {
    // Answered by the web server itself (server/http/web-server.ts), not by a route under app/: a session, even an admin's, is not the token.
    covers: "server/metrics/http.ts",
    what: "the /metrics scrape (only with METRICS_TOKEN as a bearer token)",
    call: (api) => api.get("/metrics", { maxRedirects: 0 }),
    expect: { anonymous: 401, revoked: 401, otherMember: 401, member: 401, admin: 401 },
  },
  {
    covers: "app/api/ready/route.ts",
    what: "readiness check (for load balancers: no session, no internals)",
    call: (api) => api.get("/api/ready", { maxRedirects: 0 }),
    expect: { anonymous: 200, revoked: 200, otherMember: 200, member: 200, admin: 200 },
    check: (body) => {
      if ((body as { ready?: boolean }).ready !== true) throw new Error(`not ready: ${JSON.stringify(body)}`);
    },
  },
  {
    covers: "app/api/auth/[...nextauth]/route.ts",
    what: "Auth.js's session endpoint: a user only for a live session",
    call: (api) => api.get("/api/auth/session", { maxRedirects: 0 }),
    expect: { anonymous: 200, revoked: 200, otherMember: 200, member: 200, admin: 200 },
    check: (body, caller) => {
      const signedIn = Boolean((body as { user?: unknown } | null)?.user);
      if (signedIn !== (caller !== "anonymous" && caller !== "revoked")) throw new Error(`${caller} ${signedIn ? "has" : "lacks"} a session`);
    },
  },

  // --- Pages ---------------------------------------------------------------------
  { covers: "app/page.tsx", what: "the home page", call: page(() => "/"), expect: { anonymous: 307, revoked: 307, otherMember: 307, member: 307, admin: 307 } },
  { covers: "app/signin/page.tsx", what: "the sign-in page", call: page(() => "/signin"), expect: { anonymous: 200, revoked: 200, otherMember: 307, member: 307, admin: 307 } },
  { covers: "app/(portal)/tasks/page.tsx", what: "one's history", call: page(() => "/tasks"), expect: { ...PAGE_SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 } },
  { covers: "app/(portal)/tasks/new/page.tsx", what: "the new video form", call: page(() => "/tasks/new"), expect: { ...PAGE_SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 } },
  {
    covers: "app/(portal)/tasks/[id]/page.tsx",
    what: "a task's page (its data comes through tasks.get)",
    call: page((d) => `/tasks/${d.taskId}`),
    expect: { ...PAGE_SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 },
  },
  { covers: "app/(portal)/account/page.tsx", what: "one's account", call: page(() => "/account"), expect: { ...PAGE_SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 } },
  { covers: "app/(portal)/account/keys/page.tsx", what: "one's API keys", call: page(() => "/account/keys"), expect: { ...PAGE_SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 } },
  { covers: "app/(portal)/account/api/page.tsx", what: "the API page (base URL, examples)", call: page(() => "/account/api"), expect: { ...PAGE_SIGNED_IN_ONLY, otherMember: 200, member: 200, admin: 200 } },
  { covers: "app/(portal)/admin/keys/page.tsx", what: "every API key of the team", call: page(() => "/admin/keys"), expect: { ...ADMIN_PAGE, admin: 200 } },
  { covers: "app/(portal)/admin/members/page.tsx", what: "the members page", call: page(() => "/admin/members"), expect: { ...ADMIN_PAGE, admin: 200 } },
  { covers: "app/(portal)/admin/tasks/page.tsx", what: "every task of the team", call: page(() => "/admin/tasks"), expect: { ...ADMIN_PAGE, admin: 200 } },
  { covers: "app/(portal)/admin/audit/page.tsx", what: "the audit log", call: page(() => "/admin/audit"), expect: { ...ADMIN_PAGE, admin: 200 } },
  { covers: "app/(portal)/admin/usage/page.tsx", what: "the usage page", call: page(() => "/admin/usage"), expect: { ...ADMIN_PAGE, admin: 200 } },
  {
    covers: "app/invite/[token]/page.tsx",
    what: "an invitation page (the link is the authorization; a dead one says so)",
    call: page(() => `/invite/${"x".repeat(43)}`),
    expect: { anonymous: 200, revoked: 200, otherMember: 200, member: 200, admin: 200 },
  },
  {
    covers: "app/reset/[token]/page.tsx",
    what: "a password-reset page (the link is the authorization; a dead one says so)",
    call: page(() => `/reset/${"x".repeat(43)}`),
    expect: { anonymous: 200, revoked: 200, otherMember: 200, member: 200, admin: 200 },
  },
];

/** Server actions are endpoints too: each with the rule it follows. */
export const SERVER_ACTIONS: Record<string, string> = {
  "app/signin/actions.ts#signInAction": "public: it is the sign-in (throttled per account and address)",
  "app/signin/actions.ts#ssoSignInAction": "public: starts single sign-on; the portal decides on the way back who may enter",
  "app/signin/actions.ts#signOutAction": "public: ends the caller's own session, if any",
  "app/invite/[token]/actions.ts#acceptInvitationAction": "public: the one-time invitation link is the authorization (single use, expiring)",
  "app/invite/[token]/actions.ts#joinWithSsoAction": "public: carries the invitation link's token into single sign-on, which still decides",
  "app/reset/[token]/actions.ts#resetPasswordAction": "public: the one-time reset link is the authorization (single use, expiring)",
};
