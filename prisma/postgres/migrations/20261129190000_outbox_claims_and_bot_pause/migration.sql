-- AlterTable
ALTER TABLE "Outbox" ADD COLUMN     "claimId" TEXT,
ADD COLUMN     "deadlineAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Resident" ADD COLUMN     "botPauseReason" TEXT,
ADD COLUMN     "botPausedAt" TIMESTAMP(3);
