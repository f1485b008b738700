-- The usage page's figures read only these columns of the tasks of a period:
-- with them in the index, a year of tasks is read from the index alone
-- (an index-only scan, ~10 % of the table's size), not from the table.
-- Prisma's schema cannot express INCLUDE, so this index lives here only;
-- tests/integration/schema-drift.test.ts lists it (docs/benchmarks.md).
CREATE INDEX "Task_usage_covering_idx" ON "Task" ("createdAt") INCLUDE ("userId", "status", "mode", "quality", "billedSeconds", "cost", "errorCode");
