import { accountRouter } from "./routers/account.ts";
import { apiKeysRouter } from "./routers/api-keys.ts";
import { mediaRouter } from "./routers/media.ts";
import { adminRouter } from "./routers/admin.ts";
import { teamRouter } from "./routers/team.ts";
import { usageRouter } from "./routers/usage.ts";
import { tasksRouter } from "./routers/tasks.ts";
import { createCallerFactory, createTRPCRouter } from "./trpc.ts";

export const appRouter = createTRPCRouter({
  tasks: tasksRouter,
  account: accountRouter,
  apiKeys: apiKeysRouter,
  team: teamRouter,
  admin: adminRouter,
  usage: usageRouter,
  media: mediaRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
