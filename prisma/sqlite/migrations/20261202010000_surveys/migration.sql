-- AlterTable
ALTER TABLE "Resident" ADD COLUMN "area" TEXT;
ALTER TABLE "Resident" ADD COLUMN "surveyJoinedAt" DATETIME;
ALTER TABLE "Resident" ADD COLUMN "surveySource" TEXT;
ALTER TABLE "Resident" ADD COLUMN "surveyLeftAt" DATETIME;
ALTER TABLE "Resident" ADD COLUMN "surveyOfferedAt" DATETIME;
ALTER TABLE "Staff" ADD COLUMN "canRunSurveys" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "Survey" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "title" TEXT NOT NULL,
    "intro" TEXT,
    "questions" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'draft',
    "startAt" DATETIME,
    "recurrence" TEXT NOT NULL DEFAULT '{"kind":"once"}',
    "nextRunAt" DATETIME,
    "expiryHours" INTEGER NOT NULL DEFAULT 72,
    "confirmedSegments" INTEGER,
    "createdById" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

CREATE TABLE "SurveyRun" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "surveyId" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "scheduledFor" DATETIME NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "questions" TEXT NOT NULL,
    "closesAt" DATETIME NOT NULL,
    "closedAt" DATETIME,
    "lastBatchAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "SurveyRun_surveyId_fkey" FOREIGN KEY ("surveyId") REFERENCES "Survey" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "SurveyInvitation" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "runId" INTEGER NOT NULL,
    "residentId" INTEGER NOT NULL,
    "channel" TEXT NOT NULL,
    "locale" TEXT NOT NULL,
    "area" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "reason" TEXT,
    "nextQuestion" INTEGER NOT NULL DEFAULT 0,
    "viaTemplate" BOOLEAN NOT NULL DEFAULT false,
    "messageId" INTEGER,
    "invitedAt" DATETIME,
    "startedAt" DATETIME,
    "completedAt" DATETIME,
    "pausedAt" DATETIME,
    "resumedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "SurveyInvitation_runId_fkey" FOREIGN KEY ("runId") REFERENCES "SurveyRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "SurveyInvitation_residentId_fkey" FOREIGN KEY ("residentId") REFERENCES "Resident" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "SurveyAnswer" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "invitationId" INTEGER NOT NULL,
    "questionIndex" INTEGER NOT NULL,
    "value" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "SurveyAnswer_invitationId_fkey" FOREIGN KEY ("invitationId") REFERENCES "SurveyInvitation" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "Survey_status_nextRunAt_idx" ON "Survey"("status", "nextRunAt");
CREATE UNIQUE INDEX "SurveyRun_surveyId_scheduledFor_key" ON "SurveyRun"("surveyId", "scheduledFor");
CREATE INDEX "SurveyRun_status_closesAt_idx" ON "SurveyRun"("status", "closesAt");
CREATE UNIQUE INDEX "SurveyInvitation_runId_residentId_key" ON "SurveyInvitation"("runId", "residentId");
CREATE INDEX "SurveyInvitation_residentId_status_idx" ON "SurveyInvitation"("residentId", "status");
CREATE INDEX "SurveyInvitation_runId_status_idx" ON "SurveyInvitation"("runId", "status");
CREATE UNIQUE INDEX "SurveyAnswer_invitationId_questionIndex_key" ON "SurveyAnswer"("invitationId", "questionIndex");
