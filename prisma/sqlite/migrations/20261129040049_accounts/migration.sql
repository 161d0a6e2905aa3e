-- CreateTable
CREATE TABLE "Account" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "number" TEXT NOT NULL,
    "holderName" TEXT NOT NULL,
    "accountType" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "verificationCodeHash" TEXT NOT NULL,
    "verificationCodeDigest" TEXT NOT NULL DEFAULT '',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "AccountBalance" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "accountId" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "amountDue" DECIMAL NOT NULL,
    "dueDate" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "AccountBalance_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "StatementLine" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "accountId" INTEGER NOT NULL,
    "date" DATETIME NOT NULL,
    "kind" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "currency" TEXT NOT NULL,
    "amount" DECIMAL NOT NULL,
    "reference" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "StatementLine_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AccountLink" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "accountId" INTEGER NOT NULL,
    "residentId" INTEGER NOT NULL,
    "linkedBy" TEXT NOT NULL,
    "staffId" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "AccountLink_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "AccountLink_residentId_fkey" FOREIGN KEY ("residentId") REFERENCES "Resident" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "VerificationAttempt" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "residentId" INTEGER NOT NULL,
    "accountNumber" TEXT NOT NULL,
    "success" BOOLEAN NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "actorType" TEXT NOT NULL,
    "actorId" INTEGER,
    "residentId" INTEGER,
    "accountId" INTEGER,
    "kind" TEXT NOT NULL,
    "data" TEXT NOT NULL DEFAULT '{}',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "PaymentReport" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "ticketId" INTEGER NOT NULL,
    "accountId" INTEGER NOT NULL,
    "amount" DECIMAL NOT NULL,
    "currency" TEXT NOT NULL,
    "paidAt" TEXT NOT NULL,
    "paymentRef" TEXT NOT NULL DEFAULT '',
    "status" TEXT NOT NULL DEFAULT 'reported',
    "confirmedById" INTEGER,
    "confirmedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PaymentReport_ticketId_fkey" FOREIGN KEY ("ticketId") REFERENCES "Ticket" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "PaymentReport_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ReminderSent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "accountId" INTEGER NOT NULL,
    "residentId" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "dueDate" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "ImportRun" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "municipalityId" TEXT NOT NULL DEFAULT 'qab-elias',
    "source" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "accounts" INTEGER NOT NULL DEFAULT 0,
    "lines" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" DATETIME
);

-- CreateTable
CREATE TABLE "JobLease" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "holder" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Account_municipalityId_number_key" ON "Account"("municipalityId", "number");

-- CreateIndex
CREATE INDEX "AccountBalance_dueDate_idx" ON "AccountBalance"("dueDate");

-- CreateIndex
CREATE UNIQUE INDEX "AccountBalance_accountId_currency_key" ON "AccountBalance"("accountId", "currency");

-- CreateIndex
CREATE INDEX "StatementLine_accountId_date_idx" ON "StatementLine"("accountId", "date");

-- CreateIndex
CREATE UNIQUE INDEX "StatementLine_accountId_reference_currency_key" ON "StatementLine"("accountId", "reference", "currency");

-- CreateIndex
CREATE INDEX "AccountLink_residentId_idx" ON "AccountLink"("residentId");

-- CreateIndex
CREATE UNIQUE INDEX "AccountLink_accountId_residentId_key" ON "AccountLink"("accountId", "residentId");

-- CreateIndex
CREATE INDEX "VerificationAttempt_residentId_createdAt_idx" ON "VerificationAttempt"("residentId", "createdAt");

-- CreateIndex
CREATE INDEX "VerificationAttempt_municipalityId_accountNumber_createdAt_idx" ON "VerificationAttempt"("municipalityId", "accountNumber", "createdAt");

-- CreateIndex
CREATE INDEX "AuditEvent_municipalityId_accountId_createdAt_idx" ON "AuditEvent"("municipalityId", "accountId", "createdAt");

-- CreateIndex
CREATE INDEX "AuditEvent_municipalityId_residentId_createdAt_idx" ON "AuditEvent"("municipalityId", "residentId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "PaymentReport_ticketId_key" ON "PaymentReport"("ticketId");

-- CreateIndex
CREATE UNIQUE INDEX "ReminderSent_accountId_residentId_currency_dueDate_key" ON "ReminderSent"("accountId", "residentId", "currency", "dueDate");

-- CreateIndex
CREATE INDEX "ImportRun_municipalityId_sha256_idx" ON "ImportRun"("municipalityId", "sha256");
