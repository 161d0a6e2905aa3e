-- CreateTable
CREATE TABLE "Place" (
    "id" SERIAL NOT NULL,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "kind" TEXT NOT NULL,
    "nameAr" TEXT NOT NULL,
    "nameEn" TEXT NOT NULL,
    "aliases" TEXT NOT NULL DEFAULT '[]',
    "childRelated" BOOLEAN NOT NULL DEFAULT false,
    "latitude" DOUBLE PRECISION NOT NULL,
    "longitude" DOUBLE PRECISION NOT NULL,
    "source" TEXT NOT NULL DEFAULT 'manual',
    "externalId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Place_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Area" (
    "id" SERIAL NOT NULL,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "nameAr" TEXT NOT NULL,
    "nameEn" TEXT NOT NULL,
    "geometry" TEXT NOT NULL,
    "childPopulation" INTEGER,
    "source" TEXT NOT NULL DEFAULT 'manual',
    "externalId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Area_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "Ticket" ADD COLUMN "locationApproximate" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Ticket" ADD COLUMN "placeId" INTEGER;
ALTER TABLE "Ticket" ADD COLUMN "areaId" INTEGER;
ALTER TABLE "Ticket" ADD COLUMN "childZonePlaceId" INTEGER;
ALTER TABLE "Ticket" ADD COLUMN "childZoneMetres" INTEGER;

-- CreateIndex
CREATE UNIQUE INDEX "Place_municipalityId_externalId_key" ON "Place"("municipalityId", "externalId");
CREATE INDEX "Place_municipalityId_kind_idx" ON "Place"("municipalityId", "kind");
CREATE UNIQUE INDEX "Area_municipalityId_externalId_key" ON "Area"("municipalityId", "externalId");
CREATE INDEX "Ticket_areaId_idx" ON "Ticket"("areaId");

-- AddForeignKey
ALTER TABLE "Ticket" ADD CONSTRAINT "Ticket_placeId_fkey" FOREIGN KEY ("placeId") REFERENCES "Place"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Ticket" ADD CONSTRAINT "Ticket_areaId_fkey" FOREIGN KEY ("areaId") REFERENCES "Area"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Ticket" ADD CONSTRAINT "Ticket_childZonePlaceId_fkey" FOREIGN KEY ("childZonePlaceId") REFERENCES "Place"("id") ON DELETE SET NULL ON UPDATE CASCADE;
