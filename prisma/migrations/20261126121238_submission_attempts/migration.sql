-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "submitAttemptedAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "Task_archiveStatus_idx" ON "Task"("archiveStatus");

