-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "requestId" TEXT;

