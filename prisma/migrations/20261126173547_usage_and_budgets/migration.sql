-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "budgetMonth" TEXT,
ADD COLUMN     "cost" DECIMAL(14,6),
ADD COLUMN     "reservedCost" DECIMAL(14,6) NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "TeamSetting" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedById" TEXT,

    CONSTRAINT "TeamSetting_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "Budget" (
    "key" TEXT NOT NULL,
    "userId" TEXT,
    "monthlyLimit" DECIMAL(14,6) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedById" TEXT,

    CONSTRAINT "Budget_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "BudgetLedger" (
    "key" TEXT NOT NULL,
    "month" TEXT NOT NULL,
    "reserved" DECIMAL(14,6) NOT NULL DEFAULT 0,
    "spent" DECIMAL(14,6) NOT NULL DEFAULT 0,
    "alerted80At" TIMESTAMP(3),
    "alerted100At" TIMESTAMP(3),

    CONSTRAINT "BudgetLedger_pkey" PRIMARY KEY ("key","month")
);

-- CreateIndex
CREATE UNIQUE INDEX "Budget_userId_key" ON "Budget"("userId");


-- Backfill: the cost of tasks that ended before the column existed.
UPDATE "Task" t SET "cost" = b."cost" FROM "BillingRecord" b WHERE b."taskId" = t."id";
