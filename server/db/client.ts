/**
 * Prisma Client over node-postgres (@prisma/adapter-pg). Domain functions take
 * a `Db` as a parameter; only the app's composition root (server/app-services.ts)
 * keeps a process-wide instance.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient, type Prisma } from "./generated/client.ts";

export type Db = PrismaClient;
declare const IN_TRANSACTION: unique symbol;

/**
 * The client inside a transaction made by `transaction()`: what a write that
 * must share the transaction of a change takes (the audit row). Branded, so
 * the plain client, which would write outside the transaction, does not fit.
 */
export type Tx = Prisma.TransactionClient & { readonly [IN_TRANSACTION]: true };

/** Runs `fn` in one database transaction (Prisma's interactive transaction). */
export function transaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.$transaction((tx) => fn(tx as Tx));
}

export function createDb(databaseUrl: string): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl });
  return new PrismaClient({ adapter });
}

export * from "./generated/client.ts";
