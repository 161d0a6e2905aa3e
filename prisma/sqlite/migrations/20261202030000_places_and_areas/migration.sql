-- CreateTable
CREATE TABLE "Place" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "kind" TEXT NOT NULL,
    "nameAr" TEXT NOT NULL,
    "nameEn" TEXT NOT NULL,
    "aliases" TEXT NOT NULL DEFAULT '[]',
    "childRelated" BOOLEAN NOT NULL DEFAULT false,
    "latitude" REAL NOT NULL,
    "longitude" REAL NOT NULL,
    "source" TEXT NOT NULL DEFAULT 'manual',
    "externalId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

CREATE TABLE "Area" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "nameAr" TEXT NOT NULL,
    "nameEn" TEXT NOT NULL,
    "geometry" TEXT NOT NULL,
    "childPopulation" INTEGER,
    "source" TEXT NOT NULL DEFAULT 'manual',
    "externalId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- AlterTable (SQLite adds a column with its reference inline)
ALTER TABLE "Ticket" ADD COLUMN "locationApproximate" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Ticket" ADD COLUMN "placeId" INTEGER REFERENCES "Place" ("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Ticket" ADD COLUMN "areaId" INTEGER REFERENCES "Area" ("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Ticket" ADD COLUMN "childZonePlaceId" INTEGER REFERENCES "Place" ("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Ticket" ADD COLUMN "childZoneMetres" INTEGER;

-- CreateIndex
CREATE UNIQUE INDEX "Place_municipalityId_externalId_key" ON "Place"("municipalityId", "externalId");
CREATE INDEX "Place_municipalityId_kind_idx" ON "Place"("municipalityId", "kind");
CREATE UNIQUE INDEX "Area_municipalityId_externalId_key" ON "Area"("municipalityId", "externalId");
CREATE INDEX "Ticket_areaId_idx" ON "Ticket"("areaId");
