-- The usage page breaks its figures down by source (the form or a personal
-- API key): the covering index of 20261126180000 gains "apiKeyId", so those
-- figures are still read from the index alone (an index-only scan).
-- Prisma's schema cannot express INCLUDE, so this index lives here only:
-- tests/integration/schema-drift.test.ts lists it (docs/benchmarks.md).
DROP INDEX "Task_usage_covering_idx";
CREATE INDEX "Task_usage_covering_idx" ON "Task" ("createdAt") INCLUDE ("userId", "status", "mode", "quality", "billedSeconds", "cost", "errorCode", "apiKeyId");
