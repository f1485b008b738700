-- CreateEnum
CREATE TYPE "ArchiveStatus" AS ENUM ('none', 'pending', 'archived', 'failed');

-- DropIndex
DROP INDEX "Task_status_idx";

-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "archiveAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "archiveError" TEXT,
ADD COLUMN     "archiveKey" TEXT,
ADD COLUMN     "archiveStatus" "ArchiveStatus" NOT NULL DEFAULT 'none',
ADD COLUMN     "archivedAt" TIMESTAMP(3),
ADD COLUMN     "clientRequestId" TEXT,
ADD COLUMN     "currency" TEXT NOT NULL DEFAULT 'USD',
ADD COLUMN     "estimatedCost" DECIMAL(14,6) NOT NULL DEFAULT 0,
ADD COLUMN     "inputClipSeconds" DOUBLE PRECISION,
ADD COLUMN     "lastPolledAt" TIMESTAMP(3),
ADD COLUMN     "nextPollAt" TIMESTAMP(3),
ADD COLUMN     "pollFailures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "pricePerSecond" DECIMAL(12,6) NOT NULL DEFAULT 0,
ADD COLUMN     "quality" TEXT NOT NULL DEFAULT '720p';

-- CreateTable
CREATE TABLE "CallbackEvent" (
    "id" TEXT NOT NULL,
    "taskId" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reportedStatus" TEXT,
    "confirmedStatus" TEXT,
    "outcome" TEXT NOT NULL,
    "detail" TEXT,

    CONSTRAINT "CallbackEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BillingRecord" (
    "id" TEXT NOT NULL,
    "taskId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "billedSeconds" INTEGER NOT NULL,
    "quality" TEXT NOT NULL,
    "pricePerSecond" DECIMAL(12,6) NOT NULL,
    "currency" TEXT NOT NULL,
    "cost" DECIMAL(14,6) NOT NULL,
    "usage" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BillingRecord_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CallbackEvent_taskId_receivedAt_idx" ON "CallbackEvent"("taskId", "receivedAt");

-- CreateIndex
CREATE UNIQUE INDEX "BillingRecord_taskId_key" ON "BillingRecord"("taskId");

-- CreateIndex
CREATE INDEX "BillingRecord_userId_createdAt_idx" ON "BillingRecord"("userId", "createdAt");

-- CreateIndex
CREATE INDEX "Task_status_nextPollAt_idx" ON "Task"("status", "nextPollAt");

-- CreateIndex
CREATE UNIQUE INDEX "Task_userId_clientRequestId_key" ON "Task"("userId", "clientRequestId");

-- AddForeignKey
ALTER TABLE "CallbackEvent" ADD CONSTRAINT "CallbackEvent_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BillingRecord" ADD CONSTRAINT "BillingRecord_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BillingRecord" ADD CONSTRAINT "BillingRecord_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

