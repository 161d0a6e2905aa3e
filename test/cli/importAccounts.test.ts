import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAccountImport, type CliOutput } from "../../src/cli/importAccounts.js";
import { createI18n } from "../../src/i18n/createI18n.js";
import { IMPORT_LEASE } from "../../src/services/accountImport/importAccounts.js";
import { acquireLease } from "../../src/services/jobLease.js";
import { hashPassword } from "../../src/services/passwords.js";
import { MUNICIPALITY } from "../support/testApp.js";
import { runCommand } from "../support/runCommand.js";
import { createTestDatabase, type TestDatabase } from "../support/testDb.js";

const root = path.join(import.meta.dirname, "../..");
const SAMPLES = path.join(root, "samples");
let database: TestDatabase;
let dir: string;
beforeAll(async () => {
  database = await createTestDatabase();
  dir = mkdtempSync(path.join(tmpdir(), "baladiya-cli-import-"));
});
afterAll(async () => {
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** Captures what the command prints. */
function terminal(tty: boolean): CliOutput & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return { tty, out: (s) => void (out += s), err: (s) => void (err += s), stdout: () => out, stderr: () => err };
}

function importWith(files: { accounts: string; statement?: string }, output: CliOutput, locale: "ar" | "en" = "en") {
  return runAccountImport({
    db: database.db,
    municipalityId: MUNICIPALITY,
    ...files,
    t: createI18n().getFixedT(locale, "imports"),
    output,
    now: new Date(),
    holder: "test",
    hashCode: (code) => hashPassword(code, { N: 16, r: 1, p: 1 }),
    digestKey: "test-pin-digest-key",
  });
}

const BAD = ["account_number,holder_name,account_type,description,currency,amount_due,due_date,verification_code", "A-1,Sami,property,,LBP,5,2026-12-31,1234", "A-2,Rola,business,,LBP,1.5.0,2026-12-31,2345", "A-3,Nabil,other,,LBP,5,2026-13-01,3456"].join("\n");

describe("the import command", () => {
  it("shows progress on one line of a terminal, then a summary", async () => {
    const output = terminal(true);
    const code = await importWith({ accounts: path.join(SAMPLES, "accounts.csv"), statement: path.join(SAMPLES, "statement.csv") }, output);
    expect(code).toBe(0);
    expect(output.stdout()).toContain("\r\x1b[2Kaccounts.csv: checking, 11 rows\n");
    expect(output.stdout()).toContain("statement.csv: writing, 11 rows\n");
    expect(output.stdout()).toMatch(/Imported 9 accounts and 11 statement lines \(31 changes\)\. \d+\.\d s\n$/);
    expect(output.stderr()).toBe("");
  });

  it("prints plain lines when the output is not a terminal, and says when nothing changed", async () => {
    const output = terminal(false);
    expect(await importWith({ accounts: path.join(SAMPLES, "accounts.csv"), statement: path.join(SAMPLES, "statement.csv") }, output)).toBe(0);
    expect(output.stdout()).not.toContain("\r");
    expect(output.stdout().split("\n")).toContain("accounts.csv: comparing with the database, 11 rows");
    expect(output.stdout()).toMatch(/Already up to date: 9 accounts and 11 statement lines, nothing changed\./);
  });

  it("lists each bad row with its file and line and exits 1", async () => {
    const file = path.join(dir, "bad-accounts.csv");
    writeFileSync(file, BAD);
    const output = terminal(false);
    expect(await importWith({ accounts: file }, output)).toBe(1);
    expect(output.stderr()).toBe(
      ['bad-accounts.csv line 3: amount_due is not a number: "1.5.0"', 'bad-accounts.csv line 4: due_date is not a real date (YYYY-MM-DD): "2026-13-01"', "Nothing was imported: 2 errors.", ""].join("\n"),
    );
    expect(await database.db.account.count({ where: { number: "A-1" } })).toBe(0);
  });

  it("speaks Arabic with --ui ar", async () => {
    const file = path.join(dir, "bad-accounts.csv");
    writeFileSync(file, BAD);
    const output = terminal(false);
    expect(await importWith({ accounts: file }, output, "ar")).toBe(1);
    expect(output.stderr()).toContain('bad-accounts.csv السطر 3: amount_due ليس رقماً: "1.5.0"');
    expect(output.stderr()).toContain("لم يُستورد شيء: خطآن.");
  });

  it("refuses to run beside another import", async () => {
    await acquireLease(database.db, IMPORT_LEASE, "nightly", 60_000, new Date());
    try {
      const output = terminal(false);
      expect(await importWith({ accounts: path.join(SAMPLES, "accounts.csv") }, output)).toBe(1);
      expect(output.stderr()).toBe("Another import is running. Try again when it has finished.\n");
    } finally {
      await database.db.jobLease.deleteMany();
    }
  });
});

/** Runs `npm run accounts:import -- ...args` as an operator would. */
const run = (args: string[], env: Record<string, string>) => runCommand("src/cli/importAccounts.ts", args, env);

describe("npm run accounts:import", () => {
  it("imports the sample files into the configured database", async () => {
    const other = await createTestDatabase();
    try {
      await other.db.$disconnect(); // the command migrates the file: leave it alone meanwhile
      const result = await run(["samples/accounts.csv", "samples/statement.csv"], { DATABASE_URL: other.url });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Imported 9 accounts and 11 statement lines/);
      expect(await other.db.accountBalance.count()).toBe(11);
    } finally {
      await other.drop();
    }
  }, 120_000);

  it("explains its usage and a file it cannot read", async () => {
    const none = await run([], { DATABASE_URL: database.url });
    expect(none).toMatchObject({ code: 1, stderr: "Usage: npm run accounts:import -- accounts.csv [statement.csv] [--ui ar]\n" });
    const missing = await run(["nowhere.csv"], { DATABASE_URL: database.url });
    expect(missing).toMatchObject({ code: 1, stderr: "Cannot read nowhere.csv.\n" });
  }, 120_000);
});
