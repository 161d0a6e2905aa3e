-- AlterTable
ALTER TABLE "ChannelIdentity" ADD COLUMN "route" TEXT NOT NULL DEFAULT 'twilio';
ALTER TABLE "Message" ADD COLUMN "route" TEXT NOT NULL DEFAULT 'twilio';
ALTER TABLE "Ticket" ADD COLUMN "route" TEXT NOT NULL DEFAULT 'twilio';
ALTER TABLE "Outbox" ADD COLUMN "route" TEXT NOT NULL DEFAULT 'twilio';

-- An inbound message is one message per provider id on each route (an Android gateway's ids are not
-- Twilio's). Unique for inbound rows only: an SMSC may hand out the same message id to two of our
-- outbound messages. The plain index serves delivery reports (schema.prisma's @@index).
DROP INDEX "Message_channel_providerMessageId_key";
CREATE INDEX "Message_route_channel_providerMessageId_idx" ON "Message"("route", "channel", "providerMessageId");
CREATE UNIQUE INDEX "Message_inbound_route_channel_providerMessageId_key" ON "Message"("route", "channel", "providerMessageId") WHERE "direction" = 'inbound';

-- CreateTable
CREATE TABLE "GatewayHeartbeat" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "route" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "lastSeenAt" DATETIME NOT NULL,
    "lastEvent" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "GatewayHeartbeat_municipalityId_route_deviceId_key" ON "GatewayHeartbeat"("municipalityId", "route", "deviceId");
