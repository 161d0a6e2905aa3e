import { copyFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { importDropFolder, type ImportDropFolderDeps } from "../../src/jobs/importDropFolder.js";
import { IMPORT_LEASE } from "../../src/services/accountImport/importAccounts.js";
import { acquireLease, withLease } from "../../src/services/jobLease.js";
import { hashPassword } from "../../src/services/passwords.js";
import { MUNICIPALITY } from "../support/testApp.js";
import { createTestDatabase, type TestDatabase } from "../support/testDb.js";

const SAMPLES = path.join(import.meta.dirname, "../../samples");
const HOUR = 3_600_000;

let database: TestDatabase;
let dropDir: string;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});
beforeEach(async () => {
  await database.db.account.deleteMany();
  await database.db.importRun.deleteMany();
  await database.db.jobLease.deleteMany();
  dropDir = mkdtempSync(path.join(tmpdir(), "baladiya-drop-"));
  return () => rmSync(dropDir, { recursive: true, force: true });
});

function deps(holder: string, overrides: Partial<ImportDropFolderDeps> = {}): ImportDropFolderDeps {
  return {
    db: database.db,
    municipalityId: MUNICIPALITY,
    dropDir,
    logger: pino({ level: "silent" }),
    holder,
    hashCode: (code) => hashPassword(code, { N: 16, r: 1, p: 1 }),
    ...overrides,
  };
}

/** Puts a file in the drop folder as the finance system would have, `ageMs` ago. */
function drop(name: string, content: string | { sample: string }, ageMs = HOUR) {
  const target = path.join(dropDir, name);
  if (typeof content === "string") writeFileSync(target, content);
  else copyFileSync(path.join(SAMPLES, content.sample), target);
  const when = new Date(Date.now() - ageMs);
  utimesSync(target, when, when);
}

const OLD_EXPORT = "account_number,holder_name,account_type,description,currency,amount_due,due_date,verification_code\nOLD-1,Old,property,,LBP,5,2026-01-01,1234\n";

describe("the nightly import from the drop folder", () => {
  it("imports the newest export with its statement, once", async () => {
    drop("accounts-2026-11-27.csv", OLD_EXPORT, 25 * HOUR);
    drop("statement-2026-11-27.csv", "nonsense", 25 * HOUR);
    drop("accounts-2026-11-28.csv", { sample: "accounts.csv" });
    drop("statement-2026-11-28.csv", { sample: "statement.csv" });
    drop("readme.txt", "not an export");

    const first = await importDropFolder(deps("web-1"), new Date());
    expect(first).toEqual({ status: "imported", file: "accounts-2026-11-28.csv", statement: "statement-2026-11-28.csv", accounts: 9, lines: 11, unchanged: false });
    expect(await database.db.account.count()).toBe(9);
    expect(await database.db.account.count({ where: { number: "OLD-1" } })).toBe(0);
    expect(await database.db.statementLine.count()).toBe(11);
    expect(await database.db.importRun.findMany({ select: { source: true, status: true } })).toEqual([{ source: "drop:accounts-2026-11-28.csv", status: "done" }]);

    const second = await importDropFolder(deps("web-1"), new Date());
    expect(second).toEqual({ status: "already_imported", file: "accounts-2026-11-28.csv" });
    expect(await database.db.importRun.count()).toBe(1);
    expect(await database.db.jobLease.count()).toBe(0); // released
  });

  it("with two instances at the same time, one imports and the other does not", async () => {
    drop("accounts_20261128.csv", { sample: "accounts.csv" });
    drop("statement_20261128.csv", { sample: "statement.csv" });
    const results = await Promise.all([importDropFolder(deps("web-1"), new Date()), importDropFolder(deps("web-2"), new Date())]);
    expect(results.filter((r) => r.status === "imported")).toHaveLength(1);
    expect(results.filter((r) => r.status === "busy" || r.status === "already_imported")).toHaveLength(1);
    expect(await database.db.importRun.count()).toBe(1);
    expect(await database.db.account.count()).toBe(9);
  });

  it("imports a new export of the next night", async () => {
    drop("accounts-2026-11-27.csv", OLD_EXPORT, 25 * HOUR);
    expect(await importDropFolder(deps("web-1"), new Date())).toMatchObject({ status: "imported", file: "accounts-2026-11-27.csv", statement: null });
    drop("accounts-2026-11-28.csv", { sample: "accounts.csv" });
    expect(await importDropFolder(deps("web-1"), new Date())).toMatchObject({ status: "imported", file: "accounts-2026-11-28.csv", statement: null });
    // The older account is not in the new export: left alone.
    expect(await database.db.account.count()).toBe(10);
  });

  it("waits for files still being written", async () => {
    drop("accounts.csv", { sample: "accounts.csv" }, 5_000);
    expect(await importDropFolder(deps("web-1"), new Date())).toEqual({ status: "settling", file: "accounts.csv" });
    expect(await importDropFolder(deps("web-1", { settleMs: 1_000 }), new Date())).toMatchObject({ status: "imported" });
  });

  it("refuses a bad export without throwing, and tries it again next time", async () => {
    drop("accounts.csv", "account_number,holder_name\nA,B\n");
    expect(await importDropFolder(deps("web-1"), new Date())).toEqual({ status: "invalid", file: "accounts.csv", errorCount: 5 }); // five missing columns
    expect(await importDropFolder(deps("web-1"), new Date())).toMatchObject({ status: "invalid" });
    expect((await database.db.importRun.findMany()).map((r) => r.status)).toEqual(["failed", "failed"]);
  });

  it("does nothing without an export or without the folder", async () => {
    expect(await importDropFolder(deps("web-1"), new Date())).toEqual({ status: "no_file" });
    expect(await importDropFolder(deps("web-1", { dropDir: path.join(dropDir, "missing") }), new Date())).toEqual({ status: "no_folder" });
  });

  it("skips while another instance holds the lease", async () => {
    drop("accounts.csv", { sample: "accounts.csv" });
    const now = new Date();
    expect(await acquireLease(database.db, IMPORT_LEASE, "web-2", HOUR, now)).toBe(true);
    expect(await importDropFolder(deps("web-1"), now)).toEqual({ status: "busy", file: "accounts.csv" });
    expect(await database.db.account.count()).toBe(0);
  });
});

describe("leases", () => {
  const t0 = new Date("2026-11-28T00:00:00Z");
  const later = (ms: number) => new Date(t0.getTime() + ms);

  it("only one holder gets a lease until it expires or is released", async () => {
    expect(await acquireLease(database.db, "job", "a", 60_000, t0)).toBe(true);
    expect(await acquireLease(database.db, "job", "b", 60_000, later(59_000))).toBe(false);
    expect(await acquireLease(database.db, "job", "a", 60_000, later(30_000))).toBe(true); // its own, extended
    expect(await acquireLease(database.db, "job", "b", 60_000, later(89_000))).toBe(false);
    expect(await acquireLease(database.db, "job", "b", 60_000, later(90_000))).toBe(true); // a's expired
    expect(await database.db.jobLease.findUniqueOrThrow({ where: { name: "job" } })).toMatchObject({ holder: "b" });
  });

  it("of many callers at once exactly one runs, and the lease is released even when the job throws", async () => {
    let runs = 0;
    const results = await Promise.all(
      ["a", "b", "c", "d"].map((holder) =>
        withLease(database.db, "race", holder, 60_000, t0, async () => {
          runs++;
          await new Promise((r) => setTimeout(r, 50));
          return holder;
        }),
      ),
    );
    expect(runs).toBe(1);
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
    await expect(withLease(database.db, "race", "e", 60_000, t0, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await database.db.jobLease.count({ where: { name: "race" } })).toBe(0);
  });
});
