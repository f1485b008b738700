/**
 * Prisma Client over node-postgres (@prisma/adapter-pg). Domain functions take
 * a `Db` as a parameter; only the app's composition root (server/context.ts)
 * keeps a process-wide instance.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client.ts";

export type Db = PrismaClient;

export function createDb(databaseUrl: string): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl });
  return new PrismaClient({ adapter });
}

export * from "./generated/client.ts";
