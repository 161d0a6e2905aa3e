-- Open311 (GeoReport v2) filing: client keys, what a client sent with a request, and requests
-- without a resident (another tool filed them without a phone number).

-- AlterTable
ALTER TABLE "Ticket" ALTER COLUMN "residentId" DROP NOT NULL;

-- CreateTable
CREATE TABLE "Open311Client" (
    "id" SERIAL NOT NULL,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "name" TEXT NOT NULL,
    "keyHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "createdById" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "Open311Client_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Open311Submission" (
    "id" SERIAL NOT NULL,
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
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Open311Submission_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Open311Client_keyHash_key" ON "Open311Client"("keyHash");

-- CreateIndex
CREATE INDEX "Open311Client_municipalityId_idx" ON "Open311Client"("municipalityId");

-- CreateIndex
CREATE UNIQUE INDEX "Open311Submission_ticketId_key" ON "Open311Submission"("ticketId");

-- CreateIndex
CREATE INDEX "Open311Submission_clientId_fingerprint_idx" ON "Open311Submission"("clientId", "fingerprint");

-- AddForeignKey
ALTER TABLE "Open311Client" ADD CONSTRAINT "Open311Client_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "Staff"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Open311Submission" ADD CONSTRAINT "Open311Submission_ticketId_fkey" FOREIGN KEY ("ticketId") REFERENCES "Ticket"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Open311Submission" ADD CONSTRAINT "Open311Submission_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Open311Client"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
