-- Budgets start from what was spent before them. Tasks from before budgets
-- (no budget month) count in their team's and owner's ledgers of the month
-- they were submitted in (UTC: no reporting time zone was set before this
-- release). The running ones then settle against that month, holding nothing.
-- A data-only migration: no change to the schema. (No semicolons in these
-- comments: Prisma's migrate deploy splits the script on them.)
INSERT INTO "BudgetLedger" ("key", "month", "reserved", "spent")
SELECT k."key", to_char(t."createdAt", 'YYYY-MM'), 0, sum(coalesce(t."cost", 0))
FROM "Task" t CROSS JOIN LATERAL (VALUES ('team'), ('user:' || t."userId")) AS k("key")
WHERE t."budgetMonth" IS NULL
GROUP BY 1, 2
ON CONFLICT ("key", "month") DO UPDATE SET "spent" = "BudgetLedger"."spent" + EXCLUDED."spent";

UPDATE "Task" SET "budgetMonth" = to_char("createdAt", 'YYYY-MM'), "reservedCost" = 0 WHERE "budgetMonth" IS NULL;
