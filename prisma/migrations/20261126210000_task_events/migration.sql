-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "filesDeletedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "TaskEvent" (
    "id" BIGSERIAL NOT NULL,
    "taskId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" TEXT NOT NULL,
    "status" "TaskStatus",
    "progress" INTEGER,
    "source" TEXT,
    "detail" TEXT,

    CONSTRAINT "TaskEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TaskEvent_taskId_id_idx" ON "TaskEvent"("taskId", "id");

-- CreateIndex
CREATE INDEX "Task_userId_completedAt_idx" ON "Task"("userId", "completedAt");

-- AddForeignKey
ALTER TABLE "TaskEvent" ADD CONSTRAINT "TaskEvent_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The timeline of the tasks from before the event log, rebuilt from what
-- their rows and callback log kept: stored, sent, accepted, each callback,
-- the end, the copy. Progress steps and polls were not kept, so they are
-- missing from these timelines. (No semicolons in these comments: Prisma's
-- migrate deploy splits the script on them.)
INSERT INTO "TaskEvent" ("taskId", "at", "kind", "status", "progress", "source", "detail")
SELECT e."taskId", e."at", e."kind", e."status", e."progress", e."source", e."detail"
FROM (
  SELECT t."id" AS "taskId", t."createdAt" AS "at", 1 AS "rank", 'stored' AS "kind", 'submitting'::"TaskStatus" AS "status", NULL::integer AS "progress", 'portal' AS "source", NULL::text AS "detail"
  FROM "Task" t
  UNION ALL
  SELECT t."id", t."submitAttemptedAt", 2, 'sent', NULL, NULL, 'submit', NULL
  FROM "Task" t WHERE t."submitAttemptedAt" IS NOT NULL
  UNION ALL
  SELECT t."id", t."submittedAt", 3, 'accepted', NULL, NULL, 'submit', t."providerTaskId"
  FROM "Task" t WHERE t."submittedAt" IS NOT NULL
  UNION ALL
  SELECT c."taskId", c."receivedAt", 4, 'callback', NULL, NULL, 'callback',
    concat_ws(' ', 'said ' || c."reportedStatus", 'confirmed ' || c."confirmedStatus", '(' || c."outcome" || ')')
  FROM "CallbackEvent" c WHERE c."taskId" IS NOT NULL
  UNION ALL
  SELECT t."id", t."completedAt", 5, t."status"::text, t."status", t."progress", NULL, t."errorCode"
  FROM "Task" t WHERE t."completedAt" IS NOT NULL AND t."status" IN ('completed', 'failed')
  UNION ALL
  SELECT t."id", t."archivedAt", 6, 'archived', NULL, NULL, 'portal', NULL
  FROM "Task" t WHERE t."archivedAt" IS NOT NULL
) e
ORDER BY e."taskId", e."at", e."rank";
