import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { codeDigest, importAccounts, MAX_LISTED_ERRORS, type ImportOptions, type ImportResult } from "../../src/services/accountImport/importAccounts.js";
import { CsvParser } from "../../src/services/accountImport/readCsv.js";
import { ERROR_TEXTS, fillText } from "../../src/services/accountImport/rows.js";
import { hashPassword, verifyPassword } from "../../src/services/passwords.js";
import { createI18n } from "../../src/i18n/createI18n.js";
import { MUNICIPALITY } from "../support/testApp.js";
import { createTestDatabase, type TestDatabase } from "../support/testDb.js";

const SAMPLES = path.join(import.meta.dirname, "../../samples");
const HEADER = "account_number,holder_name,account_type,description,currency,amount_due,due_date,verification_code";
const STATEMENT_HEADER = "account_number,date,kind,description,currency,amount,reference";
/** A real scrypt hash, cheap enough for thousands of rows (verifyPassword reads the parameters). */
const cheapHash = (code: string) => hashPassword(code, { N: 16, r: 1, p: 1 });

let database: TestDatabase;
let dir: string;
beforeAll(async () => {
  database = await createTestDatabase();
  dir = mkdtempSync(path.join(tmpdir(), "baladiya-import-test-"));
});
afterAll(async () => {
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await database.db.account.deleteMany();
  await database.db.importRun.deleteMany();
});

let fileCounter = 0;
/** Writes a CSV file (lines joined with LF unless `eol` says otherwise) and returns its path. */
function csv(lines: string[], eol = "\n"): string {
  const file = path.join(dir, `file-${++fileCounter}.csv`);
  writeFileSync(file, lines.join(eol) + eol);
  return file;
}

// The app passes ACCOUNTS_PIN_KEY (or the session secret); see importAccounts' digestKey.
const DIGEST_KEY = "test-pin-digest-key";

function run(options: Partial<ImportOptions> & { accounts: string }): Promise<ImportResult> {
  return importAccounts(database.db, { municipalityId: MUNICIPALITY, source: "test", now: new Date("2026-11-28T23:00:00Z"), hashCode: cheapHash, digestKey: DIGEST_KEY, ...options });
}

async function ok(result: Promise<ImportResult>) {
  const r = await result;
  if (!r.ok) throw new Error(`import refused: ${r.errors.map((e) => `${e.file}:${e.line} ${e.message}`).join("; ")}`);
  return r;
}

async function refused(result: Promise<ImportResult>) {
  const r = await result;
  if (r.ok) throw new Error("import was accepted");
  return r;
}

/** Everything the import writes, to compare before and after. */
async function snapshot() {
  const db = database.db;
  return {
    accounts: await db.account.findMany({ orderBy: { number: "asc" }, select: { number: true, holderName: true, accountType: true, description: true, verificationCodeHash: true, updatedAt: true } }),
    balances: (await db.accountBalance.findMany({ orderBy: { id: "asc" }, include: { account: { select: { number: true } } } })).map((b) => ({ number: b.account.number, currency: b.currency, amountDue: b.amountDue.toString(), dueDate: b.dueDate.toISOString().slice(0, 10) })),
    lines: (await db.statementLine.findMany({ orderBy: { id: "asc" }, include: { account: { select: { number: true } } } })).map((l) => ({ number: l.account.number, reference: l.reference, currency: l.currency, amount: l.amount.toString(), kind: l.kind })),
  };
}

const balancesOf = async (number: string) =>
  (await database.db.accountBalance.findMany({ where: { account: { number } }, orderBy: { currency: "asc" } })).map((b) => ({ currency: b.currency, amountDue: b.amountDue.toString(), dueDate: b.dueDate.toISOString().slice(0, 10) }));

describe("importing the sample export", () => {
  it("stores accounts, balances per currency, statement lines and a hashed code that verifies", async () => {
    const result = await importAccounts(database.db, {
      municipalityId: MUNICIPALITY,
      accounts: path.join(SAMPLES, "accounts.csv"),
      statement: path.join(SAMPLES, "statement.csv"),
      source: "cli:accounts.csv",
      now: new Date("2026-11-28T23:00:00Z"),
      digestKey: DIGEST_KEY,
      // The real hash (scrypt with the PIN parameters) for this small file.
    });
    expect(result).toMatchObject({ ok: true, accounts: 9, lines: 11, unchanged: false, changed: { accounts: 9, balances: 11, lines: 11 } });

    const shop = await database.db.account.findUniqueOrThrow({ where: { municipalityId_number: { municipalityId: MUNICIPALITY, number: "QE-10233" } } });
    expect(shop).toMatchObject({ holderName: "سمانة أبو خليل", accountType: "business", description: "محل سمانة، ساحة البلدة" });
    expect(shop.verificationCodeHash).toMatch(/^scrypt\$4096\$8\$1\$/);
    expect(shop.verificationCodeHash).not.toContain("105566");
    expect(await verifyPassword("105566", shop.verificationCodeHash)).toBe(true);
    expect(await verifyPassword("105567", shop.verificationCodeHash)).toBe(false);
    expect(shop.verificationCodeDigest).toBe(codeDigest("QE-10233", "105566", DIGEST_KEY));
    expect(await balancesOf("QE-10233")).toEqual([
      { currency: "LBP", amountDue: "6000000", dueDate: "2026-12-31" },
      { currency: "USD", amountDue: "150", dueDate: "2026-12-31" },
    ]);
    expect(await balancesOf("QE-10235")).toEqual([
      { currency: "LBP", amountDue: "12750000", dueDate: "2026-11-30" },
      { currency: "USD", amountDue: "1250.5", dueDate: "2026-11-30" },
    ]);

    const lines = await database.db.statementLine.findMany({ where: { account: { number: "QE-10232" } }, orderBy: { date: "asc" } });
    expect(lines.map((l) => ({ kind: l.kind, amount: l.amount.toString(), reference: l.reference, date: l.date.toISOString().slice(0, 10) }))).toEqual([
      { kind: "charge", amount: "3000000", reference: "FAC-2026-10232", date: "2026-01-15" },
      { kind: "payment", amount: "-750000", reference: "REC-55812", date: "2026-06-02" },
    ]);
    const adjustment = await database.db.statementLine.findFirstOrThrow({ where: { reference: "ADJ-2026-0042" } });
    expect(adjustment.description).toBe('تصحيح: إعفاء جزئي "ذوي الاحتياجات"');

    const run = await database.db.importRun.findUniqueOrThrow({ where: { id: result.runId } });
    expect(run).toMatchObject({ source: "cli:accounts.csv", status: "done", accounts: 9, lines: 11, error: null });
    expect(run.sha256).toMatch(/^[0-9a-f]{64}\+[0-9a-f]{64}$/);
  });

  it("importing the same files again changes nothing and says so", async () => {
    const files = { accounts: path.join(SAMPLES, "accounts.csv"), statement: path.join(SAMPLES, "statement.csv") };
    await ok(run(files));
    const before = await snapshot();
    const again = await ok(run(files));
    expect(again).toMatchObject({ accounts: 9, lines: 11, unchanged: true, changed: { accounts: 0, balances: 0, lines: 0 } });
    // Same rows, no duplicates, and not even re-hashed (the hash has a random salt: it would differ).
    expect(await snapshot()).toEqual(before);
    expect(await database.db.importRun.count({ where: { status: "done" } })).toBe(2);
  });
});

describe("what a new export replaces", () => {
  const first = [
    HEADER,
    "A-1,Sami Haddad,property,Plot 12,LBP,\"1,000,000\",2026-12-31,1111",
    "A-1,Sami Haddad,property,Plot 12,USD,100,2026-12-31,1111",
    "A-2,Rola Khoury,business,Bakery,LBP,\"2,000,000\",2026-12-31,2222",
    "A-3,Nabil Saab,other,,LBP,\"300,000\",2026-12-31,3333",
  ];

  it("replaces each account's details and balances with the file's, leaves other accounts alone, re-hashes only changed codes", async () => {
    await ok(run({ accounts: csv(first), statement: csv([STATEMENT_HEADER, "A-1,2026-01-10,charge,Fees 2026,LBP,\"1,000,000\",F-1"]) }));
    const hashes = Object.fromEntries((await database.db.account.findMany()).map((a) => [a.number, a.verificationCodeHash]));

    const result = await ok(
      run({
        accounts: csv([
          HEADER,
          "A-1,Sami Haddad,property,Plot 12,LBP,\"750,000\",2027-01-31,1111", // paid part; no more USD
          "A-2,Rola Khoury,business,Bakery and café,LBP,\"2,000,000\",2026-12-31,9999", // new code, new description
        ]),
        statement: csv([STATEMENT_HEADER, "A-1,2026-03-01,payment,Paid at the town hall,LBP,\"-250,000\",R-7"]),
      }),
    );
    expect(result).toMatchObject({ accounts: 2, lines: 1, unchanged: false, changed: { accounts: 1, balances: 2, lines: 1 } });
    expect(await balancesOf("A-1")).toEqual([{ currency: "LBP", amountDue: "750000", dueDate: "2027-01-31" }]);
    expect(await balancesOf("A-3")).toEqual([{ currency: "LBP", amountDue: "300000", dueDate: "2026-12-31" }]);

    const after = Object.fromEntries((await database.db.account.findMany()).map((a) => [a.number, a]));
    expect(after["A-1"]?.verificationCodeHash).toBe(hashes["A-1"]);
    expect(after["A-3"]?.verificationCodeHash).toBe(hashes["A-3"]);
    expect(after["A-2"]?.verificationCodeHash).not.toBe(hashes["A-2"]);
    expect(await verifyPassword("9999", after["A-2"]!.verificationCodeHash)).toBe(true);
    expect(after["A-2"]?.description).toBe("Bakery and café");
    // Statement lines are history: the earlier charge stays, the payment is added.
    expect((await database.db.statementLine.findMany({ orderBy: { date: "asc" } })).map((l) => l.reference)).toEqual(["F-1", "R-7"]);
  });

  it("corrects a statement line with the same reference and currency instead of adding one", async () => {
    await ok(run({ accounts: csv(first), statement: csv([STATEMENT_HEADER, "A-1,2026-01-10,charge,Fees,LBP,\"1,000,000\",F-1"]) }));
    await ok(run({ accounts: csv(first), statement: csv([STATEMENT_HEADER, "A-1,2026-01-10,charge,Fees corrected,LBP,\"900,000\",F-1", "A-1,2026-01-10,charge,Fees,USD,100,F-1"]) }));
    const lines = await database.db.statementLine.findMany({ orderBy: { currency: "asc" } });
    expect(lines.map((l) => [l.reference, l.currency, l.amount.toString(), l.description])).toEqual([
      ["F-1", "LBP", "900000", "Fees corrected"],
      ["F-1", "USD", "100", "Fees"],
    ]);
  });

  it("accepts statement lines of an account already in the database but not in the accounts file", async () => {
    await ok(run({ accounts: csv(first) }));
    const result = await ok(run({ accounts: csv([HEADER, first[4]!]), statement: csv([STATEMENT_HEADER, "A-2,2026-02-01,charge,Licence,LBP,\"2,000,000\",L-2"]) }));
    expect(result.lines).toBe(1);
    expect(await database.db.statementLine.count({ where: { account: { number: "A-2" } } })).toBe(1);
  });
});

describe("reading CSV as finance systems write it", () => {
  it("handles a BOM, CRLF, columns in any order, extra columns, quotes with commas, line breaks and doubled quotes, Arabic, grouping commas and Arabic-Indic digits", async () => {
    const accounts = csv(
      [
        "\uFEFFverification_code,Currency,amount_due,account_number,holder_name,account_type,due_date,description,branch_code",
        '4821,LBP,"12,500,000",QE-1,"الحاج، محمد ""أبو علي""",property,2026-12-31,"عقار رقم 1523،\r\nحي المدارس",B7',
        "٧٣٩٠,usd,\"1,234.50\",QE-2,فاطمة الميس,Business,٢٠٢٦-١٢-٣١,,B7",
        "",
        "1234,LBP,0,QE-3,Plain Name,other,2027-01-15,\"\",",
      ],
      "\r\n",
    );
    const result = await ok(run({ accounts }));
    expect(result).toMatchObject({ accounts: 3 });
    const rows = await database.db.account.findMany({ orderBy: { number: "asc" } });
    expect(rows.map((a) => [a.number, a.holderName, a.accountType, a.description])).toEqual([
      ["QE-1", 'الحاج، محمد "أبو علي"', "property", "عقار رقم 1523،\nحي المدارس"],
      ["QE-2", "فاطمة الميس", "business", ""],
      ["QE-3", "Plain Name", "other", ""],
    ]);
    expect(await balancesOf("QE-1")).toEqual([{ currency: "LBP", amountDue: "12500000", dueDate: "2026-12-31" }]);
    expect(await balancesOf("QE-2")).toEqual([{ currency: "USD", amountDue: "1234.5", dueDate: "2026-12-31" }]);
    expect(await verifyPassword("7390", rows[1]!.verificationCodeHash)).toBe(true);
  });

  it("numbers records by the physical line they start on", () => {
    const parser = new CsvParser();
    const records = [...parser.push('h1,h2\na,"multi\nline\r\nvalue"\r\n\nb,c\n"open'), ...[parser.end()].filter((r) => r !== null)];
    expect(records).toEqual([
      { line: 1, fields: ["h1", "h2"] },
      { line: 2, fields: ["a", "multi\nline\nvalue"] },
      { line: 6, fields: ["b", "c"] },
      { line: 7, fields: ["open"], error: "unterminatedQuote" },
    ]);
  });

  it("reads a record split anywhere between chunks the same way", () => {
    const text = 'n,v\r\n"a,""b""",1\r\nc,"x\ny"\r\n';
    const whole = new CsvParser().push(text);
    for (let cut = 1; cut < text.length; cut++) {
      const parser = new CsvParser();
      const records = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      const last = parser.end();
      expect(last, `cut at ${cut}`).toBeNull();
      expect(records, `cut at ${cut}`).toEqual(whole);
    }
    expect(whole.map((r) => r.fields)).toEqual([["n", "v"], ['a,"b"', "1"], ["c", "x\ny"]]);
  });
});

describe("a file with bad rows changes nothing", () => {
  const good = "A-1,Sami Haddad,property,Plot 12,LBP,\"1,000,000\",2026-12-31,1111";

  it.each([
    ["an amount that is not a number", "A-2,Rola,business,,LBP,1x,2026-12-31,2222", 'amount_due is not a number: "1x"'],
    ["badly grouped thousands", 'A-2,Rola,business,,LBP,"1,00,000",2026-12-31,2222', 'amount_due is not a number: "1,00,000"'],
    ["decimals in lira", "A-2,Rola,business,,LBP,1000.5,2026-12-31,2222", 'amount_due: LBP amounts have no decimals: "1000.5"'],
    ["fractions of a cent", "A-2,Rola,business,,USD,10.005,2026-12-31,2222", 'amount_due: USD amounts have at most 2 decimals: "10.005"'],
    ["a date that does not exist", "A-2,Rola,business,,LBP,5,2026-02-30,2222", 'due_date is not a real date (YYYY-MM-DD): "2026-02-30"'],
    ["a date in another format", "A-2,Rola,business,,LBP,5,31/12/2026,2222", 'due_date is not a real date (YYYY-MM-DD): "31/12/2026"'],
    ["an unknown type", "A-2,Rola,shop,,LBP,5,2026-12-31,2222", 'account_type must be property, business or other, not "shop"'],
    ["an unknown currency", "A-2,Rola,business,,EUR,5,2026-12-31,2222", 'currency must be LBP or USD, not "EUR"'],
    ["a code too short", "A-2,Rola,business,,LBP,5,2026-12-31,12", "verification_code must be 4 to 8 digits"],
    ["a code with letters", "A-2,Rola,business,,LBP,5,2026-12-31,12ab", "verification_code must be 4 to 8 digits"],
    ["an empty holder", "A-2,,business,,LBP,5,2026-12-31,2222", "holder_name is empty"],
    ["an account number with spaces", "A 2,Rola,business,,LBP,5,2026-12-31,2222", 'account_number may only hold letters, digits and - / . (at most 40): "A 2"'],
    ["too few fields", "A-2,Rola,business", "has 3 fields where the header has 8"],
    ["a stray quote", 'A-2,Ro"la,business,,LBP,5,2026-12-31,2222', "a quote is misplaced (quote the whole field and double the quotes inside it)"],
    ["the same currency twice", "A-1,Sami Haddad,property,Plot 12,LBP,5,2026-12-31,1111", "account A-1 already has a LBP row on line 2"],
    ["another holder for the same number", "A-1,Sami Hadad,property,Plot 12,USD,5,2026-12-31,1111", "account A-1 has a different holder, type, description or verification code on line 2"],
    ["another code for the same number", "A-1,Sami Haddad,property,Plot 12,USD,5,2026-12-31,1112", "account A-1 has a different holder, type, description or verification code on line 2"],
  ])("%s is reported with its line and reason", async (_, badRow, message) => {
    await ok(run({ accounts: csv([HEADER, good]) }));
    const before = await snapshot();
    const result = await refused(run({ accounts: csv([HEADER, good, "A-9,Ok Row,other,,LBP,5,2026-12-31,9999", badRow]) }));
    expect(result.errors).toEqual([expect.objectContaining({ file: "accounts", line: 4, message })]);
    expect(result.errorCount).toBe(1);
    expect(await snapshot()).toEqual(before);
    const run_ = await database.db.importRun.findUniqueOrThrow({ where: { id: result.runId } });
    expect(run_).toMatchObject({ status: "failed", error: `accounts line 4: ${message}` });
  });

  it("reports every bad row of both files, sorted by file and line", async () => {
    const result = await refused(
      run({
        accounts: csv([HEADER, "A-1,Sami,property,,LBP,5,2026-12-31,1111", "A-2,Rola,business,,LBP,x,2026-12-31,22"]),
        statement: csv([
          STATEMENT_HEADER,
          "A-1,2026-01-01,charge,Fees,LBP,5,F-1",
          "A-1,2026-01-01,refund,Fees,LBP,5,F-2",
          "Z-404,2026-01-01,charge,Fees,LBP,5,F-3",
          "A-1,2026-01-01,charge,Again,LBP,5,F-1",
        ]),
      }),
    );
    expect(result.errors.map((e) => `${e.file} ${e.line}: ${e.message}`)).toEqual([
      'accounts 3: amount_due is not a number: "x"',
      "accounts 3: verification_code must be 4 to 8 digits",
      'statement 3: kind must be charge, payment or adjustment, not "refund"',
      "statement 4: account Z-404 is neither in the accounts file nor in the database",
      "statement 5: reference F-1 (LBP) of account A-1 is already on line 2",
    ]);
    expect(await database.db.account.count()).toBe(0);
  });

  it("names a missing column once, on the header line", async () => {
    const result = await refused(run({ accounts: csv(["account_number,holder_name,account_type,currency,amount_due,verification_code", "A-1,Sami,property,LBP,5,1111", "A-2,Rola,property,LBP,5,2222"]) }));
    expect(result.errors).toEqual([expect.objectContaining({ file: "accounts", line: 1, key: "missingColumn", params: { column: "due_date" }, message: "the column due_date is missing" })]);
  });

  it("refuses an empty file and a file that is not UTF-8", async () => {
    const empty = path.join(dir, "empty.csv");
    writeFileSync(empty, "");
    expect((await refused(run({ accounts: empty }))).errors).toEqual([expect.objectContaining({ line: 0, key: "emptyFile" })]);
    const latin = path.join(dir, "windows-1256.csv");
    writeFileSync(latin, Buffer.concat([Buffer.from(`${HEADER}\nA-1,`), Buffer.from([0xe3, 0xcd, 0xe3, 0xcf]), Buffer.from(",property,,LBP,5,2026-12-31,1111\n")]));
    expect((await refused(run({ accounts: latin }))).errors).toEqual([expect.objectContaining({ line: 2, key: "encoding" })]);
  });

  it(`lists the first ${MAX_LISTED_ERRORS} errors and counts the rest`, async () => {
    const rows = Array.from({ length: 150 }, (_, i) => `B-${i},Name,property,,LBP,oops,2026-12-31,1234`);
    const result = await refused(run({ accounts: csv([HEADER, ...rows]) }));
    expect(result.errors).toHaveLength(MAX_LISTED_ERRORS);
    expect(result.errorCount).toBe(150);
    expect(result.errors[0]?.line).toBe(2);
  });

  it("writes nothing when the file changes between checking and writing", async () => {
    const accounts = csv([HEADER, good]);
    const result = await refused(
      run({
        accounts,
        onProgress: (p) => {
          if (p.phase === "check" && p.done) appendFileSync(accounts, "A-2,Rola,business,,LBP,5,2026-12-31,2222\n");
        },
      }),
    );
    expect(result.errors).toEqual([expect.objectContaining({ key: "fileChanged", line: 0 })]);
    expect(await database.db.account.count()).toBe(0);
    expect((await database.db.importRun.findUniqueOrThrow({ where: { id: result.runId } })).status).toBe("failed");
  });

  it("writes nothing when something fails in the middle of the transaction", async () => {
    const failure = run({
      accounts: csv([HEADER, good, "A-2,Rola,business,,LBP,5,2026-12-31,2222"]),
      statement: csv([STATEMENT_HEADER, "A-1,2026-01-01,charge,Fees,LBP,5,F-1"]),
      onProgress: (p) => {
        // The accounts are written by now, inside the transaction.
        if (p.phase === "write" && p.file === "statement" && p.done) throw new Error("disk full");
      },
    });
    await expect(failure).rejects.toThrow("disk full");
    expect(await snapshot()).toEqual({ accounts: [], balances: [], lines: [] });
    expect(await database.db.importRun.findFirstOrThrow()).toMatchObject({ status: "failed", error: "disk full" });
  });
});

describe("translations of import errors", () => {
  it("the English texts in imports.json are the importer's own", () => {
    const en = JSON.parse(readFileSync(path.join(import.meta.dirname, "../../locales/en/imports.json"), "utf8")) as { errors: Record<string, string> };
    expect(en.errors).toEqual(ERROR_TEXTS);
    const i18n = createI18n();
    const params = { column: "amount_due", value: "1x", number: "A-1", currency: "USD", other: 3, reference: "F-1", found: 3, expected: 8, max: 200 };
    for (const [key, text] of Object.entries(ERROR_TEXTS)) {
      expect(i18n.t(`imports:errors.${key}`, { lng: "en", ...params })).toBe(fillText(text, params));
      expect(i18n.t(`imports:errors.${key}`, { lng: "ar", ...params })).not.toContain("{{");
    }
  });
});

/** The garbage collector, so heap figures mean something (vitest does not start node with --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  const gc: unknown = runInNewContext("gc");
  if (typeof gc === "function") gc();
}

describe("a large file", () => {
  it("imports 20,000 rows with bounded memory, and again unchanged", async () => {
    const rows = 20_000;
    const accounts = path.join(dir, "large-accounts.csv");
    const statement = path.join(dir, "large-statement.csv");
    writeFileSync(accounts, `${HEADER}\n`);
    writeFileSync(statement, `${STATEMENT_HEADER}\n`);
    let chunk: string[] = [];
    let lines: string[] = [];
    for (let i = 0; i < rows; i++) {
      const number = `L-${String(Math.floor(i / 2)).padStart(6, "0")}`;
      const currency = i % 2 === 0 ? "LBP" : "USD";
      chunk.push(`${number},"حامل الحساب ${i >> 1}، قب الياس",property,"عقار رقم ${i >> 1}",${currency},"${currency === "LBP" ? "1,250,000" : "75.50"}",2026-12-31,${1000 + (i >> 1)}`);
      lines.push(`${number},2026-01-15,charge,رسم 2026,${currency},"${currency === "LBP" ? "1,250,000" : "75.50"}",F-${i}`);
      if (chunk.length === 1000) {
        appendFileSync(accounts, chunk.join("\n") + "\n");
        appendFileSync(statement, lines.join("\n") + "\n");
        chunk = [];
        lines = [];
      }
    }

    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const progressPhases = new Set<string>();
    // What the import keeps alive, not what it has yet to collect: a collection before each sample.
    const sample = (p: { file: string; phase: string }) => {
      progressPhases.add(`${p.file}:${p.phase}`);
      collectGarbage();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    };
    const first = await ok(run({ accounts, statement, onProgress: sample, progressEvery: 2000 }));
    expect(first).toMatchObject({ accounts: rows / 2, lines: rows, unchanged: false });
    expect(await database.db.accountBalance.count()).toBe(rows);
    expect(await database.db.statementLine.count()).toBe(rows);
    expect(progressPhases).toEqual(new Set(["accounts:check", "statement:check", "accounts:compare", "statement:compare", "accounts:write", "statement:write"]));
    // Holding the two files' rows in memory would already take well over this; the import keeps
    // only a small record per account. Generous, so that a busy machine does not make it flaky.
    expect((peak - before) / 2 ** 20).toBeLessThan(150);

    const again = await ok(run({ accounts, statement }));
    expect(again).toMatchObject({ unchanged: true });
    expect(await database.db.accountBalance.count()).toBe(rows);
  }, 300_000);
});

describe("the code digest", () => {
  it("is never a plain hash: without a secret key nothing is stored and codes are re-hashed", async () => {
    const { codeDigest } = await import("../../src/services/accountImport/importAccounts.js");
    expect(codeDigest("QE-1", "1234")).toBe("");
    expect(codeDigest("QE-1", "1234", "k")).toMatch(/^[0-9a-f]{64}$/);
    expect(codeDigest("QE-1", "1234", "k")).not.toBe(codeDigest("QE-1", "1234", "other key"));
  });
});
