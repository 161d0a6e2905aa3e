-- Open311 (GeoReport v2) filing: client keys, what a client sent with a request, and requests
-- without a resident (another tool filed them without a phone number).

-- CreateTable
CREATE TABLE "Open311Client" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "name" TEXT NOT NULL,
    "keyHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "createdById" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME,
    "revokedAt" DATETIME,
    CONSTRAINT "Open311Client_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "Staff" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Open311Submission" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "ticketId" INTEGER NOT NULL,
    "clientId" INTEGER NOT NULL,
    "serviceCode" TEXT NOT NULL,
    "mediaUrls" TEXT NOT NULL DEFAULT '[]',
    "email" TEXT,
    "firstName" TEXT,
    "lastName" TEXT,
    "deviceId" TEXT,
    "accountId" TEXT,
    "attributes" TEXT NOT NULL DEFAULT '{}',
    "fingerprint" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Open311Submission_ticketId_fkey" FOREIGN KEY ("ticketId") REFERENCES "Ticket" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Open311Submission_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Open311Client" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Ticket" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "reference" INTEGER NOT NULL,
    "residentId" INTEGER,
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
    "route" TEXT NOT NULL DEFAULT 'twilio',
    "locale" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "locationApproximate" BOOLEAN NOT NULL DEFAULT false,
    "placeId" INTEGER,
    "areaId" INTEGER,
    "childZonePlaceId" INTEGER,
    "childZoneMetres" INTEGER,
    "open311Hidden" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "Ticket_residentId_fkey" FOREIGN KEY ("residentId") REFERENCES "Resident" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Ticket_categoryId_fkey" FOREIGN KEY ("categoryId") REFERENCES "Category" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Ticket_assigneeId_fkey" FOREIGN KEY ("assigneeId") REFERENCES "Staff" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Ticket_placeId_fkey" FOREIGN KEY ("placeId") REFERENCES "Place" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Ticket_areaId_fkey" FOREIGN KEY ("areaId") REFERENCES "Area" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Ticket_childZonePlaceId_fkey" FOREIGN KEY ("childZonePlaceId") REFERENCES "Place" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Ticket" ("addressText", "areaId", "assigneeId", "categoryId", "channel", "childRelated", "childZoneMetres", "childZonePlaceId", "createdAt", "department", "description", "id", "latitude", "locale", "locationApproximate", "locationLabel", "longitude", "media", "municipalityId", "needsHuman", "open311Hidden", "placeId", "reference", "residentId", "route", "status", "updatedAt") SELECT "addressText", "areaId", "assigneeId", "categoryId", "channel", "childRelated", "childZoneMetres", "childZonePlaceId", "createdAt", "department", "description", "id", "latitude", "locale", "locationApproximate", "locationLabel", "longitude", "media", "municipalityId", "needsHuman", "open311Hidden", "placeId", "reference", "residentId", "route", "status", "updatedAt" FROM "Ticket";
DROP TABLE "Ticket";
ALTER TABLE "new_Ticket" RENAME TO "Ticket";
CREATE INDEX "Ticket_areaId_idx" ON "Ticket"("areaId");
CREATE INDEX "Ticket_status_createdAt_idx" ON "Ticket"("status", "createdAt");
CREATE INDEX "Ticket_residentId_idx" ON "Ticket"("residentId");
CREATE INDEX "Ticket_department_status_idx" ON "Ticket"("department", "status");
CREATE INDEX "Ticket_assigneeId_idx" ON "Ticket"("assigneeId");
CREATE UNIQUE INDEX "Ticket_municipalityId_reference_key" ON "Ticket"("municipalityId", "reference");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "Open311Client_keyHash_key" ON "Open311Client"("keyHash");

-- CreateIndex
CREATE INDEX "Open311Client_municipalityId_idx" ON "Open311Client"("municipalityId");

-- CreateIndex
CREATE UNIQUE INDEX "Open311Submission_ticketId_key" ON "Open311Submission"("ticketId");

-- CreateIndex
CREATE INDEX "Open311Submission_clientId_fingerprint_idx" ON "Open311Submission"("clientId", "fingerprint");
