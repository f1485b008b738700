/**
 * The audit row must be written in the transaction of its change: the type
 * of the transaction client is branded so that the plain client, which
 * would write outside it, does not compile (`npm test` type-checks this file).
 */
import { expect, it } from "vitest";
import { recordAudit } from "@/server/audit/audit.ts";
import type { Db, Tx } from "@/server/db/client.ts";

it("recordAudit takes a transaction, never the plain client", () => {
  const entry = { action: "user.deactivated", targetType: "user", targetId: "u", targetLabel: "u@example.test" } as const;
  const outside = (db: Db) => {
    // @ts-expect-error the plain client would write the row outside the change's transaction
    void recordAudit(db, { id: null, email: null }, entry);
  };
  const inside = (tx: Tx) => void recordAudit(tx, { id: null, email: null }, entry);
  expect([typeof outside, typeof inside]).toEqual(["function", "function"]);
});
