/**
 * Prisma Client over node-postgres (@prisma/adapter-pg). Domain functions take
 * a `Db` as a parameter; only the app's composition root (server/app-services.ts)
 * keeps a process-wide instance.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient, type Prisma } from "./generated/client.ts";

export type Db = PrismaClient;
/** The client inside `db.$transaction(async (tx) => …)`: what a write that must share a transaction takes. */
export type Tx = Prisma.TransactionClient;

export function createDb(databaseUrl: string): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl });
  return new PrismaClient({ adapter });
}

export * from "./generated/client.ts";
