-- AlterTable
ALTER TABLE "Resident" ADD COLUMN "area" TEXT;
ALTER TABLE "Resident" ADD COLUMN "surveyJoinedAt" TIMESTAMP(3);
ALTER TABLE "Resident" ADD COLUMN "surveySource" TEXT;
ALTER TABLE "Resident" ADD COLUMN "surveyLeftAt" TIMESTAMP(3);
ALTER TABLE "Resident" ADD COLUMN "surveyOfferedAt" TIMESTAMP(3);
ALTER TABLE "Staff" ADD COLUMN "canRunSurveys" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "Survey" (
    "id" SERIAL NOT NULL,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "title" TEXT NOT NULL,
    "intro" TEXT,
    "questions" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'draft',
    "startAt" TIMESTAMP(3),
    "recurrence" TEXT NOT NULL DEFAULT '{"kind":"once"}',
    "nextRunAt" TIMESTAMP(3),
    "expiryHours" INTEGER NOT NULL DEFAULT 72,
    "confirmedSegments" INTEGER,
    "createdById" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Survey_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "SurveyRun" (
    "id" SERIAL NOT NULL,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "surveyId" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "scheduledFor" TIMESTAMP(3) NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "questions" TEXT NOT NULL,
    "closesAt" TIMESTAMP(3) NOT NULL,
    "closedAt" TIMESTAMP(3),
    "lastBatchAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SurveyRun_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "SurveyRun_surveyId_fkey" FOREIGN KEY ("surveyId") REFERENCES "Survey"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "SurveyInvitation" (
    "id" SERIAL NOT NULL,
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
    "invitedAt" TIMESTAMP(3),
    "startedAt" TIMESTAMP(3),
    "completedAt" TIMESTAMP(3),
    "pausedAt" TIMESTAMP(3),
    "resumedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SurveyInvitation_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "SurveyInvitation_runId_fkey" FOREIGN KEY ("runId") REFERENCES "SurveyRun"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "SurveyInvitation_residentId_fkey" FOREIGN KEY ("residentId") REFERENCES "Resident"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "SurveyAnswer" (
    "id" SERIAL NOT NULL,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "invitationId" INTEGER NOT NULL,
    "questionIndex" INTEGER NOT NULL,
    "value" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SurveyAnswer_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "SurveyAnswer_invitationId_fkey" FOREIGN KEY ("invitationId") REFERENCES "SurveyInvitation"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "Survey_status_nextRunAt_idx" ON "Survey"("status", "nextRunAt");
CREATE UNIQUE INDEX "SurveyRun_surveyId_scheduledFor_key" ON "SurveyRun"("surveyId", "scheduledFor");
CREATE INDEX "SurveyRun_status_closesAt_idx" ON "SurveyRun"("status", "closesAt");
CREATE UNIQUE INDEX "SurveyInvitation_runId_residentId_key" ON "SurveyInvitation"("runId", "residentId");
CREATE INDEX "SurveyInvitation_residentId_status_idx" ON "SurveyInvitation"("residentId", "status");
CREATE INDEX "SurveyInvitation_runId_status_idx" ON "SurveyInvitation"("runId", "status");
CREATE UNIQUE INDEX "SurveyAnswer_invitationId_questionIndex_key" ON "SurveyAnswer"("invitationId", "questionIndex");
