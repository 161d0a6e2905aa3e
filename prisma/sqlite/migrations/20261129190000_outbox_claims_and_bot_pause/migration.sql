-- AlterTable
ALTER TABLE "Outbox" ADD COLUMN "claimId" TEXT;
ALTER TABLE "Outbox" ADD COLUMN "deadlineAt" DATETIME;

-- AlterTable
ALTER TABLE "Resident" ADD COLUMN "botPauseReason" TEXT;
ALTER TABLE "Resident" ADD COLUMN "botPausedAt" DATETIME;
