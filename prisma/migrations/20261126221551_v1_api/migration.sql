-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "apiKeyId" TEXT,
ADD COLUMN     "clientCallbackAt" TIMESTAMP(3),
ADD COLUMN     "clientCallbackAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "clientCallbackError" TEXT,
ADD COLUMN     "clientCallbackStatus" TEXT NOT NULL DEFAULT 'none',
ADD COLUMN     "clientCallbackUrl" TEXT;

-- CreateTable
CREATE TABLE "ApiIdempotencyKey" (
    "apiKeyId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "clientRequestId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ApiIdempotencyKey_pkey" PRIMARY KEY ("apiKeyId","key")
);

-- CreateIndex
CREATE INDEX "ApiIdempotencyKey_createdAt_idx" ON "ApiIdempotencyKey"("createdAt");

-- CreateIndex
CREATE INDEX "Task_clientCallbackStatus_idx" ON "Task"("clientCallbackStatus");

-- CreateIndex
CREATE INDEX "Task_apiKeyId_createdAt_idx" ON "Task"("apiKeyId", "createdAt");

-- AddForeignKey
ALTER TABLE "Task" ADD CONSTRAINT "Task_apiKeyId_fkey" FOREIGN KEY ("apiKeyId") REFERENCES "ApiKey"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiIdempotencyKey" ADD CONSTRAINT "ApiIdempotencyKey_apiKeyId_fkey" FOREIGN KEY ("apiKeyId") REFERENCES "ApiKey"("id") ON DELETE CASCADE ON UPDATE CASCADE;

