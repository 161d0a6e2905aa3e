-- WhatsApp Web: the phone numbers behind hidden sender ids (LIDs), and the session's published state.

-- CreateTable
CREATE TABLE "WhatsAppLid" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "lid" TEXT NOT NULL,
    "phone" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "WhatsAppWebSession" (
    "municipalityId" TEXT NOT NULL PRIMARY KEY,
    "holder" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "since" DATETIME NOT NULL,
    "qr" TEXT,
    "qrAt" DATETIME,
    "linkedNumber" TEXT,
    "detail" TEXT,
    "retryAt" DATETIME,
    "logoutRequestedAt" DATETIME,
    "logoutRequestedBy" INTEGER,
    "relinkRequestedAt" DATETIME,
    "relinkRequestedBy" INTEGER,
    "updatedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "WhatsAppLid_municipalityId_lid_key" ON "WhatsAppLid"("municipalityId", "lid");
