-- WhatsApp Web: the phone numbers behind hidden sender ids (LIDs), and the session's published state.

-- CreateTable
CREATE TABLE "WhatsAppLid" (
    "id" SERIAL NOT NULL,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "lid" TEXT NOT NULL,
    "phone" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WhatsAppLid_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WhatsAppWebSession" (
    "municipalityId" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "since" TIMESTAMP(3) NOT NULL,
    "qr" TEXT,
    "qrAt" TIMESTAMP(3),
    "linkedNumber" TEXT,
    "detail" TEXT,
    "retryAt" TIMESTAMP(3),
    "logoutRequestedAt" TIMESTAMP(3),
    "logoutRequestedBy" INTEGER,
    "relinkRequestedAt" TIMESTAMP(3),
    "relinkRequestedBy" INTEGER,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WhatsAppWebSession_pkey" PRIMARY KEY ("municipalityId")
);

-- CreateIndex
CREATE UNIQUE INDEX "WhatsAppLid_municipalityId_lid_key" ON "WhatsAppLid"("municipalityId", "lid");
