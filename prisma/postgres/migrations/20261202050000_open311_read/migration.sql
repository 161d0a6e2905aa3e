-- Open311 (GeoReport v2) reads: private categories, service descriptions and attributes,
-- tickets hidden from Open311, and the history scanned by time for servicerequestupdates.

-- AlterTable
ALTER TABLE "Category" ADD COLUMN "isPrivate" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Category" ADD COLUMN "descriptionAr" TEXT NOT NULL DEFAULT '';
ALTER TABLE "Category" ADD COLUMN "descriptionEn" TEXT NOT NULL DEFAULT '';
ALTER TABLE "Ticket" ADD COLUMN "open311Hidden" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "CategoryAttribute" (
    "id" SERIAL NOT NULL,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "categoryId" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "datatype" TEXT NOT NULL,
    "required" BOOLEAN NOT NULL DEFAULT false,
    "sortOrder" INTEGER NOT NULL DEFAULT 0,
    "descriptionAr" TEXT NOT NULL,
    "descriptionEn" TEXT NOT NULL,
    "values" TEXT NOT NULL DEFAULT '[]',
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CategoryAttribute_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "CategoryAttribute_categoryId_code_key" ON "CategoryAttribute"("categoryId", "code");
CREATE INDEX "TicketEvent_kind_createdAt_idx" ON "TicketEvent"("kind", "createdAt");

-- AddForeignKey
ALTER TABLE "CategoryAttribute" ADD CONSTRAINT "CategoryAttribute_categoryId_fkey" FOREIGN KEY ("categoryId") REFERENCES "Category"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Certificates carry a resident's civil-status requests, finance a resident's accounts: private by default.
UPDATE "Category" SET "isPrivate" = true WHERE "code" = 'certificates' OR "department" = 'finance';
