-- The staff inbox: unread marks, waiting times, targets per category, who has a ticket open.

-- AlterTable
ALTER TABLE "Ticket" ADD COLUMN     "firstResponseAt" TIMESTAMP(3),
ADD COLUMN     "lastResidentAt" TIMESTAMP(3),
ADD COLUMN     "reopenedAt" TIMESTAMP(3),
ADD COLUMN     "waitingSince" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Category" ADD COLUMN     "firstResponseHours" INTEGER,
ADD COLUMN     "resolutionHours" INTEGER;

-- CreateTable
CREATE TABLE "TicketRead" (
    "id" SERIAL NOT NULL,
    "staffId" INTEGER NOT NULL,
    "ticketId" INTEGER NOT NULL,
    "readAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TicketRead_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TicketPresence" (
    "id" SERIAL NOT NULL,
    "staffId" INTEGER NOT NULL,
    "ticketId" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "seenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TicketPresence_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TicketRead_ticketId_idx" ON "TicketRead"("ticketId");

-- CreateIndex
CREATE UNIQUE INDEX "TicketRead_staffId_ticketId_key" ON "TicketRead"("staffId", "ticketId");

-- CreateIndex
CREATE INDEX "TicketPresence_ticketId_seenAt_idx" ON "TicketPresence"("ticketId", "seenAt");

-- CreateIndex
CREATE UNIQUE INDEX "TicketPresence_staffId_ticketId_key" ON "TicketPresence"("staffId", "ticketId");

-- CreateIndex
CREATE INDEX "Ticket_waitingSince_idx" ON "Ticket"("waitingSince");

-- AddForeignKey
ALTER TABLE "TicketRead" ADD CONSTRAINT "TicketRead_staffId_fkey" FOREIGN KEY ("staffId") REFERENCES "Staff"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TicketRead" ADD CONSTRAINT "TicketRead_ticketId_fkey" FOREIGN KEY ("ticketId") REFERENCES "Ticket"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TicketPresence" ADD CONSTRAINT "TicketPresence_staffId_fkey" FOREIGN KEY ("staffId") REFERENCES "Staff"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TicketPresence" ADD CONSTRAINT "TicketPresence_ticketId_fkey" FOREIGN KEY ("ticketId") REFERENCES "Ticket"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill: the resident's latest message on each ticket, the first staff reply, and since when the
-- open requests have waited for staff (their oldest resident message after the last staff reply).
UPDATE "Ticket" SET "lastResidentAt" = COALESCE((SELECT MAX(m."createdAt") FROM "Message" m WHERE m."ticketId" = "Ticket"."id" AND m."direction" = 'inbound'), "createdAt");
UPDATE "Ticket" SET "firstResponseAt" = (SELECT MIN(m."createdAt") FROM "Message" m WHERE m."ticketId" = "Ticket"."id" AND m."direction" = 'outbound' AND m."kind" = 'staff');
UPDATE "Ticket" SET "waitingSince" = CASE WHEN "firstResponseAt" IS NULL THEN "createdAt" ELSE (SELECT MIN(m."createdAt") FROM "Message" m WHERE m."ticketId" = "Ticket"."id" AND m."direction" = 'inbound' AND NOT EXISTS (SELECT 1 FROM "Message" s WHERE s."ticketId" = "Ticket"."id" AND s."direction" = 'outbound' AND s."kind" = 'staff' AND s."createdAt" >= m."createdAt")) END WHERE "status" IN ('new', 'waiting_staff', 'in_progress');
-- A request the resident reopened (a "reopened" event no staff status change has answered since)
-- is marked so, and has waited since then at the latest.
UPDATE "Ticket" SET "reopenedAt" = (SELECT MAX(e."createdAt") FROM "TicketEvent" e WHERE e."ticketId" = "Ticket"."id" AND e."kind" = 'reopened' AND NOT EXISTS (SELECT 1 FROM "TicketEvent" s WHERE s."ticketId" = "Ticket"."id" AND s."kind" = 'status_changed' AND s."actorType" = 'staff' AND s."createdAt" > e."createdAt")) WHERE "status" IN ('new', 'waiting_staff', 'in_progress');
UPDATE "Ticket" SET "waitingSince" = "reopenedAt" WHERE "reopenedAt" IS NOT NULL AND ("waitingSince" IS NULL OR "waitingSince" > "reopenedAt");
UPDATE "Ticket" SET "lastResidentAt" = "reopenedAt" WHERE "reopenedAt" IS NOT NULL AND ("lastResidentAt" IS NULL OR "lastResidentAt" < "reopenedAt");
