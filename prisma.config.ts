// Prisma CLI configuration (Prisma 7). The runtime client connects through
// @prisma/adapter-pg (server/db/client.ts); this file serves the CLI only.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
