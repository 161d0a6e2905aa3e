-- CreateTable
CREATE TABLE "Department" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "code" TEXT NOT NULL,
    "nameAr" TEXT NOT NULL,
    "nameEn" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Staff" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "username" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "locale" TEXT NOT NULL DEFAULT 'ar',
    "active" BOOLEAN NOT NULL DEFAULT true,
    "failedLogins" INTEGER NOT NULL DEFAULT 0,
    "lockedUntil" DATETIME,
    "lastLoginAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "StaffDepartment" (
    "staffId" INTEGER NOT NULL,
    "departmentCode" TEXT NOT NULL,

    PRIMARY KEY ("staffId", "departmentCode"),
    CONSTRAINT "StaffDepartment_staffId_fkey" FOREIGN KEY ("staffId") REFERENCES "Staff" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "StaffSession" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "staffId" INTEGER NOT NULL,
    "csrfToken" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME NOT NULL,
    "lastSeenAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "StaffSession_staffId_fkey" FOREIGN KEY ("staffId") REFERENCES "Staff" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "staffId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME,
    "revokedAt" DATETIME,
    CONSTRAINT "ApiToken_staffId_fkey" FOREIGN KEY ("staffId") REFERENCES "Staff" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "CannedReply" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "categoryId" INTEGER,
    "locale" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "sortOrder" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "CannedReply_categoryId_fkey" FOREIGN KEY ("categoryId") REFERENCES "Category" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Outbox" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "messageId" INTEGER NOT NULL,
    "residentId" INTEGER NOT NULL,
    "channel" TEXT NOT NULL,
    "toAddress" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "contentSid" TEXT,
    "contentVariables" TEXT,
    "status" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME NOT NULL,
    "leaseUntil" DATETIME,
    "attemptStartedAt" DATETIME,
    "lastError" TEXT,
    "providerMessageId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Outbox_messageId_fkey" FOREIGN KEY ("messageId") REFERENCES "Message" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Message" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "residentId" INTEGER NOT NULL,
    "ticketId" INTEGER,
    "direction" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "providerMessageId" TEXT,
    "inReplyToId" INTEGER,
    "body" TEXT NOT NULL,
    "media" TEXT NOT NULL DEFAULT '[]',
    "latitude" REAL,
    "longitude" REAL,
    "locationLabel" TEXT,
    "status" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'bot',
    "staffId" INTEGER,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Message_residentId_fkey" FOREIGN KEY ("residentId") REFERENCES "Resident" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Message_ticketId_fkey" FOREIGN KEY ("ticketId") REFERENCES "Ticket" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Message_inReplyToId_fkey" FOREIGN KEY ("inReplyToId") REFERENCES "Message" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Message_staffId_fkey" FOREIGN KEY ("staffId") REFERENCES "Staff" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Message" ("body", "channel", "createdAt", "direction", "errorCode", "errorMessage", "id", "inReplyToId", "latitude", "locationLabel", "longitude", "media", "municipalityId", "providerMessageId", "residentId", "status", "ticketId") SELECT "body", "channel", "createdAt", "direction", "errorCode", "errorMessage", "id", "inReplyToId", "latitude", "locationLabel", "longitude", "media", "municipalityId", "providerMessageId", "residentId", "status", "ticketId" FROM "Message";
DROP TABLE "Message";
ALTER TABLE "new_Message" RENAME TO "Message";
CREATE INDEX "Message_residentId_createdAt_idx" ON "Message"("residentId", "createdAt");
CREATE INDEX "Message_ticketId_idx" ON "Message"("ticketId");
CREATE INDEX "Message_inReplyToId_idx" ON "Message"("inReplyToId");
CREATE UNIQUE INDEX "Message_channel_providerMessageId_key" ON "Message"("channel", "providerMessageId");
CREATE TABLE "new_Ticket" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "reference" INTEGER NOT NULL,
    "residentId" INTEGER NOT NULL,
    "categoryId" INTEGER,
    "description" TEXT NOT NULL,
    "latitude" REAL,
    "longitude" REAL,
    "addressText" TEXT,
    "locationLabel" TEXT,
    "media" TEXT NOT NULL DEFAULT '[]',
    "status" TEXT NOT NULL DEFAULT 'new',
    "needsHuman" BOOLEAN NOT NULL DEFAULT false,
    "childRelated" BOOLEAN NOT NULL DEFAULT false,
    "department" TEXT,
    "assigneeId" INTEGER,
    "channel" TEXT NOT NULL,
    "locale" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Ticket_residentId_fkey" FOREIGN KEY ("residentId") REFERENCES "Resident" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Ticket_categoryId_fkey" FOREIGN KEY ("categoryId") REFERENCES "Category" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Ticket_assigneeId_fkey" FOREIGN KEY ("assigneeId") REFERENCES "Staff" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Ticket" ("addressText", "assigneeId", "categoryId", "channel", "childRelated", "createdAt", "department", "description", "id", "latitude", "locale", "locationLabel", "longitude", "media", "municipalityId", "needsHuman", "reference", "residentId", "status", "updatedAt") SELECT "addressText", "assigneeId", "categoryId", "channel", "childRelated", "createdAt", "department", "description", "id", "latitude", "locale", "locationLabel", "longitude", "media", "municipalityId", "needsHuman", "reference", "residentId", "status", "updatedAt" FROM "Ticket";
DROP TABLE "Ticket";
ALTER TABLE "new_Ticket" RENAME TO "Ticket";
CREATE INDEX "Ticket_status_createdAt_idx" ON "Ticket"("status", "createdAt");
CREATE INDEX "Ticket_residentId_idx" ON "Ticket"("residentId");
CREATE INDEX "Ticket_department_status_idx" ON "Ticket"("department", "status");
CREATE INDEX "Ticket_assigneeId_idx" ON "Ticket"("assigneeId");
CREATE UNIQUE INDEX "Ticket_municipalityId_reference_key" ON "Ticket"("municipalityId", "reference");
CREATE TABLE "new_TicketEvent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "ticketId" INTEGER NOT NULL,
    "actorType" TEXT NOT NULL,
    "actorId" INTEGER,
    "kind" TEXT NOT NULL,
    "data" TEXT NOT NULL DEFAULT '{}',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "TicketEvent_ticketId_fkey" FOREIGN KEY ("ticketId") REFERENCES "Ticket" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "TicketEvent_actorId_fkey" FOREIGN KEY ("actorId") REFERENCES "Staff" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_TicketEvent" ("actorId", "actorType", "createdAt", "data", "id", "kind", "ticketId") SELECT "actorId", "actorType", "createdAt", "data", "id", "kind", "ticketId" FROM "TicketEvent";
DROP TABLE "TicketEvent";
ALTER TABLE "new_TicketEvent" RENAME TO "TicketEvent";
CREATE INDEX "TicketEvent_ticketId_createdAt_idx" ON "TicketEvent"("ticketId", "createdAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "Department_municipalityId_code_key" ON "Department"("municipalityId", "code");

-- CreateIndex
CREATE UNIQUE INDEX "Staff_municipalityId_username_key" ON "Staff"("municipalityId", "username");

-- CreateIndex
CREATE INDEX "StaffSession_staffId_idx" ON "StaffSession"("staffId");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- CreateIndex
CREATE INDEX "ApiToken_staffId_idx" ON "ApiToken"("staffId");

-- CreateIndex
CREATE INDEX "CannedReply_municipalityId_categoryId_idx" ON "CannedReply"("municipalityId", "categoryId");

-- CreateIndex
CREATE UNIQUE INDEX "Outbox_messageId_key" ON "Outbox"("messageId");

-- CreateIndex
CREATE INDEX "Outbox_status_nextAttemptAt_idx" ON "Outbox"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "Outbox_residentId_status_idx" ON "Outbox"("residentId", "status");

-- Inbound messages are the resident's words, not the bot's.
UPDATE "Message" SET "kind" = 'resident' WHERE "direction" = 'inbound';
