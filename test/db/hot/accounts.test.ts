import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkAccountCode,
  linkAccountWithCode,
  linkedAccountsOf,
  linkingLockedFor,
  plainDecimal,
  recordDisclosure,
  statementLinesOf,
} from "../../../src/db/hot/accounts.js";
import type { HotQ } from "../../../src/db/hot/connect.js";
import { CodeCheckNeeded, LINK_LOCK_MS, LINK_MAX_FAILURES, type CodeCheck, type VerifyCode } from "../../../src/services/accounts.js";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";

/*
 * The resident side of accounts on the Kysely path, against a real database (SQLite, or PostgreSQL
 * with TEST_DATABASE_URL). Fixtures are written with Prisma and results read back with Prisma, so
 * both directions of the round trip are covered — dates and Decimal amounts included.
 */

const TOWN = "qab-elias";
const OTHER_TOWN = "zahle";
const NOW = new Date("2026-11-29T09:00:00.123Z");

let t: TestDatabase;
let q: HotQ;

beforeAll(async () => {
  t = await createTestDatabase();
  q = t.hot.db;
});
afterAll(async () => {
  await t?.drop();
});

let counter = 0;
/** A resident of `town` with a phone no other test uses. */
async function resident(town = TOWN): Promise<number> {
  const phone = `+9617${String(1000000 + ++counter).slice(1)}`;
  return (await t.db.resident.create({ data: { municipalityId: town, phone } })).id;
}

/** An account with a fake "hash" (the tests give `checkAccountCode` a fake verifier). */
async function account(fields: { number?: string; town?: string; hash?: string; accountType?: string; holderName?: string } = {}) {
  return t.db.account.create({
    data: {
      municipalityId: fields.town ?? TOWN,
      number: fields.number ?? `QE-${300000 + ++counter}`,
      holderName: fields.holderName ?? "عبد الرحمن الحاج حسن",
      accountType: fields.accountType ?? "property",
      verificationCodeHash: fields.hash ?? "scrypt$4096$8$1$c2FsdA==$aGFzaA==",
    },
  });
}

async function link(accountId: number, residentId: number, town = TOWN) {
  await t.db.accountLink.create({ data: { municipalityId: town, accountId, residentId, linkedBy: "staff" } });
}

/** A verifier that matches when the code is the hash's last part, and remembers what it was given. */
function fakeVerify() {
  const calls: Array<{ code: string; hash: string }> = [];
  const verify: VerifyCode = async (code, hash) => {
    calls.push({ code, hash });
    return hash.endsWith(`$${code}`);
  };
  return { verify, calls };
}

describe("plainDecimal", () => {
  it("writes a stored Decimal the way Prisma's Decimal#toFixed() does", () => {
    const cases: Array<[string, string]> = [
      ["1250000", "1250000"],
      ["85.50", "85.5"],
      ["85.500000000000000000000000000000", "85.5"],
      ["1250000.000000000000000000000000000000", "1250000"],
      ["0", "0"],
      ["0.00", "0"],
      ["-0", "0"],
      ["-0.000", "0"],
      ["-5000", "-5000"],
      ["-85.5", "-85.5"],
      ["00012.3400", "12.34"],
      [".5", "0.5"],
      ["5.", "5"],
      ["1.25e+21", "1250000000000000000000"],
      ["1e21", "1000000000000000000000"],
      ["1e-7", "0.0000001"],
      ["-1.5E-3", "-0.0015"],
      ["123.456e2", "12345.6"],
      ["0.30000000000000004", "0.30000000000000004"],
    ];
    for (const [stored, shown] of cases) expect([stored, plainDecimal(stored)]).toEqual([stored, shown]);
  });

  it("refuses what is not a decimal", () => {
    for (const bad of ["", ".", "-", "NaN", "Infinity", "1,5", "e5", "1e"]) expect(() => plainDecimal(bad), bad).toThrow(RangeError);
  });
});

describe("linkedAccountsOf", () => {
  it("gives each linked account with its balances (LBP first) and latest payment, by number", async () => {
    const r = await resident();
    // Linked in this order; shown by number, numerically: QE-9 before QE-10.
    const ten = await account({ number: "QE-10", accountType: "business", holderName: "Ten" });
    const nine = await account({ number: "QE-9", accountType: "garage", holderName: "Nine" });
    await link(ten.id, r);
    await link(nine.id, r);
    await t.db.accountBalance.createMany({
      data: [
        { accountId: ten.id, currency: "USD", amountDue: "85.50", dueDate: new Date("2026-12-31T00:00:00Z") },
        { accountId: ten.id, currency: "LBP", amountDue: "1250000", dueDate: new Date("2027-01-15T00:00:00Z") },
        // Not a currency the bot knows: left out.
        { accountId: ten.id, currency: "EUR", amountDue: "10", dueDate: new Date("2026-12-31T00:00:00Z") },
        { accountId: nine.id, currency: "LBP", amountDue: "-5000", dueDate: new Date("2026-10-01T21:30:00.456Z") },
      ],
    });
    await t.db.statementLine.createMany({
      data: [
        { accountId: ten.id, date: new Date("2026-06-15T00:00:00Z"), kind: "payment", description: "OMT", currency: "LBP", amount: "-1250000", reference: "P-1" },
        // Same day, written later: the latest payment.
        { accountId: ten.id, date: new Date("2026-06-15T00:00:00Z"), kind: "payment", description: "Bank", currency: "USD", amount: "-40.25", reference: "P-2" },
        { accountId: ten.id, date: new Date("2026-03-01T00:00:00Z"), kind: "payment", description: "Old", currency: "LBP", amount: "-1", reference: "P-0" },
        // Later, but not payments.
        { accountId: ten.id, date: new Date("2026-09-01T00:00:00Z"), kind: "charge", description: "Fee", currency: "LBP", amount: "2500000", reference: "C-1" },
        { accountId: ten.id, date: new Date("2026-09-02T00:00:00Z"), kind: "adjustment", description: "Fix", currency: "LBP", amount: "-100", reference: "A-1" },
      ],
    });

    expect(await linkedAccountsOf(q, TOWN, r)).toEqual([
      { id: nine.id, number: "QE-9", holderName: "Nine", accountType: "other", balances: [{ currency: "LBP", amountDue: "-5000", dueDate: new Date("2026-10-01T21:30:00.456Z") }], lastPayment: null },
      {
        id: ten.id,
        number: "QE-10",
        holderName: "Ten",
        accountType: "business",
        balances: [
          { currency: "LBP", amountDue: "1250000", dueDate: new Date("2027-01-15T00:00:00Z") },
          { currency: "USD", amountDue: "85.5", dueDate: new Date("2026-12-31T00:00:00Z") },
        ],
        lastPayment: { date: new Date("2026-06-15T00:00:00Z"), amount: "40.25", currency: "USD" },
      },
    ]);
  });

  it("shows no payment when the latest payment is in a currency the bot does not know", async () => {
    const r = await resident();
    const a = await account();
    await link(a.id, r);
    await t.db.statementLine.createMany({
      data: [
        { accountId: a.id, date: new Date("2026-01-01T00:00:00Z"), kind: "payment", currency: "LBP", amount: "-1000", reference: "P-1" },
        { accountId: a.id, date: new Date("2026-02-01T00:00:00Z"), kind: "payment", currency: "EUR", amount: "-5", reference: "P-2" },
      ],
    });
    const [view] = await linkedAccountsOf(q, TOWN, r);
    expect(view).toEqual({ id: a.id, number: a.number, holderName: a.holderName, accountType: "property", balances: [], lastPayment: null });
  });

  it("only the resident's own links in this town", async () => {
    const r = await resident();
    const other = await resident();
    const mine = await account();
    const theirs = await account();
    await link(mine.id, r);
    await link(theirs.id, other);
    // A link recorded under another town does not count here.
    const elsewhere = await account({ town: OTHER_TOWN });
    await link(elsewhere.id, r, OTHER_TOWN);
    expect((await linkedAccountsOf(q, TOWN, r)).map((a) => a.id)).toEqual([mine.id]);
    expect(await linkedAccountsOf(q, TOWN, await resident())).toEqual([]);
  });

  it("reads amounts exactly as Prisma's Decimal wrote them, whatever the database stored", async () => {
    const amounts = ["1250000", "85.50", "0.00", "-5000", "0.1", "1234567890123.45", "0.000001", "1250000000000000000000", "99999999.99"];
    for (const amount of amounts) {
      const r = await resident();
      const a = await account();
      await link(a.id, r);
      await t.db.accountBalance.create({ data: { accountId: a.id, currency: "LBP", amountDue: amount, dueDate: NOW } });
      await t.db.statementLine.create({ data: { accountId: a.id, date: NOW, kind: "payment", currency: "USD", amount, reference: "P" } });
      const prismaBalance = await t.db.accountBalance.findFirstOrThrow({ where: { accountId: a.id } });
      const prismaLine = await t.db.statementLine.findFirstOrThrow({ where: { accountId: a.id } });
      const [view] = await linkedAccountsOf(q, TOWN, r);
      expect([amount, view!.balances[0]!.amountDue]).toEqual([amount, prismaBalance.amountDue.toFixed()]);
      expect([amount, view!.lastPayment!.amount]).toEqual([amount, prismaLine.amount.abs().toFixed()]);
      expect(view!.lastPayment!.date).toEqual(prismaLine.date);
      const [line] = await statementLinesOf(q, TOWN, r, a.id, 1);
      expect([amount, line!.amount]).toEqual([amount, prismaLine.amount.toFixed()]);
    }
  });
});

describe("statementLinesOf", () => {
  it("gives the latest lines of a linked account, newest first (ties by id), at most `limit`", async () => {
    const r = await resident();
    const a = await account();
    await link(a.id, r);
    const day = (d: string) => new Date(`${d}T00:00:00Z`);
    await t.db.statementLine.createMany({
      data: [
        { accountId: a.id, date: day("2026-01-10"), kind: "charge", description: "رسم 2026", currency: "LBP", amount: "2500000", reference: "C-1" },
        { accountId: a.id, date: day("2026-06-15"), kind: "payment", description: "OMT", currency: "LBP", amount: "-1250000.00", reference: "P-1" },
        { accountId: a.id, date: day("2026-06-15"), kind: "refund", description: "", currency: "USD", amount: "12.50", reference: "X-1" },
        { accountId: a.id, date: day("2026-07-01"), kind: "charge", description: "Fee", currency: "EUR", amount: "3", reference: "E-1" },
      ],
    });
    expect(await statementLinesOf(q, TOWN, r, a.id, 10)).toEqual([
      // The EUR line is left out (after the limit, as before).
      { date: day("2026-06-15"), kind: "adjustment", description: "", currency: "USD", amount: "12.5", reference: "X-1" },
      { date: day("2026-06-15"), kind: "payment", description: "OMT", currency: "LBP", amount: "-1250000", reference: "P-1" },
      { date: day("2026-01-10"), kind: "charge", description: "رسم 2026", currency: "LBP", amount: "2500000", reference: "C-1" },
    ]);
    // The limit counts lines before unknown currencies are dropped.
    expect((await statementLinesOf(q, TOWN, r, a.id, 2)).map((l) => l.reference)).toEqual(["X-1"]);
    expect(await statementLinesOf(q, TOWN, r, a.id, 0)).toEqual([]);
  });

  it("gives nothing for an account the resident has no link to (here)", async () => {
    const owner = await resident();
    const stranger = await resident();
    const a = await account();
    await link(a.id, owner);
    await t.db.statementLine.create({ data: { accountId: a.id, date: NOW, kind: "charge", currency: "LBP", amount: "1", reference: "C" } });
    expect(await statementLinesOf(q, TOWN, stranger, a.id, 10)).toEqual([]);
    expect(await statementLinesOf(q, OTHER_TOWN, owner, a.id, 10)).toEqual([]);
    expect(await statementLinesOf(q, TOWN, owner, a.id, 10)).toHaveLength(1);
    expect(await statementLinesOf(q, TOWN, owner, a.id + 10_000, 10)).toEqual([]);
  });
});

describe("linkingLockedFor", () => {
  async function failures(residentId: number, at: Date[], fields: { success?: boolean; town?: string } = {}) {
    await t.db.verificationAttempt.createMany({
      data: at.map((createdAt) => ({ municipalityId: fields.town ?? TOWN, residentId, accountNumber: "QE-1", success: fields.success ?? false, createdAt })),
    });
  }
  const ago = (ms: number) => new Date(NOW.getTime() - ms);

  it("locks a phone at LINK_MAX_FAILURES failures within the last hour", async () => {
    const r = await resident();
    await failures(r, [ago(1), ago(1000), ago(60_000), ago(LINK_LOCK_MS)]);
    // Not counted: over an hour ago, successes, other towns, other phones.
    await failures(r, [ago(LINK_LOCK_MS + 1)]);
    await failures(r, [ago(5)], { success: true });
    await failures(r, [ago(5)], { town: OTHER_TOWN });
    await failures(await resident(), [ago(5)]);
    expect(LINK_MAX_FAILURES).toBe(5);
    expect(await linkingLockedFor(q, TOWN, r, NOW)).toBe(false);
    await failures(r, [NOW]);
    expect(await linkingLockedFor(q, TOWN, r, NOW)).toBe(true);
    // An hour later the oldest have aged out.
    expect(await linkingLockedFor(q, TOWN, r, new Date(NOW.getTime() + 1000))).toBe(false);
  });
});

describe("checkAccountCode", () => {
  it("finds the account in any letter case and checks the code against its hash", async () => {
    const a = await account({ number: "QE-CASE1", hash: "scrypt$4096$8$1$salt$4821" });
    await account({ number: "QE-CASE1", town: OTHER_TOWN, hash: "scrypt$4096$8$1$salt$0000" });
    const { verify, calls } = fakeVerify();
    expect(await checkAccountCode(q, { municipalityId: TOWN, accountNumber: " qe-case1 ", code: "4821" }, verify)).toEqual({
      accountNumber: " qe-case1 ",
      code: "4821",
      accountId: a.id,
      hash: a.verificationCodeHash,
      matches: true,
    });
    expect(await checkAccountCode(q, { municipalityId: TOWN, accountNumber: "QE-CASE1", code: "1111" }, verify)).toEqual({
      accountNumber: "QE-CASE1",
      code: "1111",
      accountId: a.id,
      hash: a.verificationCodeHash,
      matches: false,
    });
    expect(calls).toEqual([
      { code: "4821", hash: a.verificationCodeHash },
      { code: "1111", hash: a.verificationCodeHash },
    ]);
  });

  it("checks an unknown number against a dummy hash with the town's latest cost", async () => {
    await account({ hash: "scrypt$2048$8$1$salt$x" });
    const latest = await account({ hash: "scrypt$8192$4$2$salt$x" });
    const { verify, calls } = fakeVerify();
    // Even a "code" equal to the dummy hash's tail does not match an unknown number.
    const check = await checkAccountCode(q, { municipalityId: TOWN, accountNumber: "QE-NOPE", code: "x" }, async (code, hash) => (await verify(code, hash)) || true);
    expect(check).toEqual({ accountNumber: "QE-NOPE", code: "x", accountId: null, hash: null, matches: false });
    expect(calls[0]!.hash).toMatch(/^scrypt\$8192\$4\$2\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(calls[0]!.hash).not.toBe(latest.verificationCodeHash);
  });

  it("uses the default cost in a town with no account at all, and works inside a transaction", async () => {
    const { verify, calls } = fakeVerify();
    const check = await q.transaction().execute((trx) => checkAccountCode(trx, { municipalityId: "empty-town", accountNumber: "1", code: "1" }, verify));
    expect(check).toMatchObject({ accountId: null, hash: null, matches: false });
    expect(calls[0]!.hash.split("$").slice(0, 4)).toEqual(["scrypt", "131072", "8", "1"]);
  });
});

describe("linkAccountWithCode", () => {
  const attemptsOf = (residentId: number) =>
    t.db.verificationAttempt.findMany({ where: { residentId }, orderBy: { id: "asc" }, select: { municipalityId: true, accountNumber: true, success: true, createdAt: true } });
  const checked = (accountNumber: string, code: string) => checkAccountCode(q, { municipalityId: TOWN, accountNumber, code }, fakeVerify().verify);

  it("links with the right code: the attempt, the link and its audit event are stored", async () => {
    const r = await resident();
    const a = await account({ number: "QE-LINK1", hash: "scrypt$4096$8$1$salt$4821" });
    const attempt = { municipalityId: TOWN, residentId: r, accountNumber: "qe-link1", code: "4821", now: NOW };
    // Checked before the transaction, as the inbox does (on SQLite, `q` inside it would wait for it).
    const check = await checked("qe-link1", "4821");
    const outcome = await q.transaction().execute((trx) => linkAccountWithCode(trx, attempt, check));
    expect(outcome).toEqual({ status: "linked", accountId: a.id });
    expect(await attemptsOf(r)).toEqual([{ municipalityId: TOWN, accountNumber: "QE-LINK1", success: true, createdAt: NOW }]);
    expect(await t.db.accountLink.findMany({ where: { accountId: a.id }, select: { municipalityId: true, residentId: true, linkedBy: true, staffId: true, createdAt: true } })).toEqual([
      { municipalityId: TOWN, residentId: r, linkedBy: "code", staffId: null, createdAt: NOW },
    ]);
    expect(await t.db.auditEvent.findMany({ where: { accountId: a.id }, select: { municipalityId: true, actorType: true, actorId: true, residentId: true, kind: true, data: true, createdAt: true } })).toEqual([
      { municipalityId: TOWN, actorType: "resident", actorId: null, residentId: r, kind: "account_linked", data: '{"via":"code"}', createdAt: NOW },
    ]);
    // The link is seen at once by the lookups.
    expect((await linkedAccountsOf(q, TOWN, r)).map((v) => v.id)).toEqual([a.id]);

    // Linking again: linked, one more attempt, but no second link and no second audit event.
    const later = new Date(NOW.getTime() + 1000);
    expect(await linkAccountWithCode(q, { ...attempt, now: later }, await checked("qe-link1", "4821"))).toEqual({ status: "linked", accountId: a.id });
    expect((await attemptsOf(r)).map((x) => [x.success, x.createdAt])).toEqual([
      [true, NOW],
      [true, later],
    ]);
    expect(await t.db.accountLink.count({ where: { accountId: a.id } })).toBe(1);
    expect(await t.db.auditEvent.count({ where: { accountId: a.id } })).toBe(1);
  });

  it("an account a staff member linked already is 'linked' without a new link or audit event", async () => {
    const r = await resident();
    const a = await account({ hash: "scrypt$4096$8$1$salt$4821" });
    await link(a.id, r);
    expect(await linkAccountWithCode(q, { municipalityId: TOWN, residentId: r, accountNumber: a.number, code: "4821", now: NOW }, await checked(a.number, "4821"))).toEqual({
      status: "linked",
      accountId: a.id,
    });
    expect(await t.db.accountLink.findMany({ where: { accountId: a.id }, select: { linkedBy: true } })).toEqual([{ linkedBy: "staff" }]);
    expect(await t.db.auditEvent.count({ where: { accountId: a.id } })).toBe(0);
  });

  it("a wrong code and an unknown number are both 'rejected' and recorded (an unknown one upper-cased)", async () => {
    const r = await resident();
    const a = await account({ number: "QE-REJ1", hash: "scrypt$4096$8$1$salt$4821" });
    const tryCode = async (accountNumber: string, code: string) =>
      linkAccountWithCode(q, { municipalityId: TOWN, residentId: r, accountNumber, code, now: NOW }, await checked(accountNumber, code));
    expect(await tryCode("qe-rej1", "1111")).toEqual({ status: "rejected" });
    expect(await tryCode(" qe-unknown ", "4821")).toEqual({ status: "rejected" });
    expect((await attemptsOf(r)).map((x) => [x.accountNumber, x.success])).toEqual([
      ["QE-REJ1", false],
      ["QE-UNKNOWN", false],
    ]);
    expect(await t.db.accountLink.count({ where: { accountId: a.id } })).toBe(0);
    expect(await t.db.auditEvent.count({ where: { accountId: a.id } })).toBe(0);
  });

  it("the fifth failure of a phone already answers 'locked'; then even the right code is locked out", async () => {
    const r = await resident();
    const a = await account({ hash: "scrypt$4096$8$1$salt$4821" });
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      // Different numbers each time: only the per-phone limit applies.
      const number = `QE-MISS${counter}-${i}`;
      const at = new Date(NOW.getTime() + i);
      outcomes.push((await linkAccountWithCode(q, { municipalityId: TOWN, residentId: r, accountNumber: number, code: "0", now: at }, await checked(number, "0"))).status);
    }
    expect(outcomes).toEqual(["rejected", "rejected", "rejected", "rejected", "locked"]);
    expect(await linkingLockedFor(q, TOWN, r, NOW)).toBe(true);
    const right = await linkAccountWithCode(q, { municipalityId: TOWN, residentId: r, accountNumber: a.number, code: "4821", now: NOW }, await checked(a.number, "4821"));
    expect(right).toEqual({ status: "locked" });
    expect((await attemptsOf(r)).at(-1)).toEqual({ municipalityId: TOWN, accountNumber: a.number, success: false, createdAt: NOW });
    expect(await t.db.accountLink.count({ where: { accountId: a.id } })).toBe(0);
    // An hour after the failures the phone may try again.
    const later = new Date(NOW.getTime() + LINK_LOCK_MS + 10);
    expect(await linkAccountWithCode(q, { municipalityId: TOWN, residentId: r, accountNumber: a.number, code: "4821", now: later }, await checked(a.number, "4821"))).toEqual({
      status: "linked",
      accountId: a.id,
    });
  });

  it("five failures on one account number lock it for every phone, known or not, in any case", async () => {
    const a = await account({ hash: "scrypt$4096$8$1$salt$4821" });
    for (const number of [a.number, `QE-GHOST${counter}`]) {
      const outcomes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const typed = i % 2 ? number.toLowerCase() : number;
        outcomes.push((await linkAccountWithCode(q, { municipalityId: TOWN, residentId: await resident(), accountNumber: typed, code: "0", now: NOW }, await checked(typed, "0"))).status);
      }
      expect(outcomes).toEqual(["rejected", "rejected", "rejected", "rejected", "locked"]);
      const fresh = await resident();
      expect(await linkAccountWithCode(q, { municipalityId: TOWN, residentId: fresh, accountNumber: number, code: "4821", now: NOW }, await checked(number, "4821"))).toEqual({ status: "locked" });
      // The phone itself is not locked.
      expect(await linkingLockedFor(q, TOWN, fresh, NOW)).toBe(false);
    }
    expect(await t.db.verificationAttempt.count({ where: { accountNumber: a.number, success: false, createdAt: { gte: new Date(NOW.getTime() - LINK_LOCK_MS) } } })).toBe(6);
    // Failures in another town do not count here.
    const elsewhere = await account({ town: OTHER_TOWN, number: a.number, hash: "scrypt$4096$8$1$salt$4821" });
    const check = await checkAccountCode(q, { municipalityId: OTHER_TOWN, accountNumber: a.number, code: "4821" }, fakeVerify().verify);
    const there = await resident(OTHER_TOWN);
    expect(await linkAccountWithCode(q, { municipalityId: OTHER_TOWN, residentId: there, accountNumber: a.number, code: "4821", now: NOW }, check)).toEqual({
      status: "linked",
      accountId: elsewhere.id,
    });
  });

  it("throws CodeCheckNeeded without a check, with another one, or when the account changed since", async () => {
    const r = await resident();
    const a = await account({ number: "QE-STALE1", hash: "scrypt$4096$8$1$salt$4821" });
    const attempt = { municipalityId: TOWN, residentId: r, accountNumber: "QE-STALE1", code: "4821", now: NOW };
    const check = await checked("QE-STALE1", "4821");
    const expectNeeded = async (c: CodeCheck | undefined, at = attempt) => {
      const error = await linkAccountWithCode(q, at, c).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CodeCheckNeeded);
      expect((error as CodeCheckNeeded).attempt).toMatchObject({ accountNumber: at.accountNumber, code: at.code });
    };
    await expectNeeded(undefined);
    await expectNeeded({ ...check, code: "1111" });
    await expectNeeded({ ...check, accountNumber: "qe-stale1" });
    // An import re-hashed the code.
    await t.db.account.update({ where: { id: a.id }, data: { verificationCodeHash: "scrypt$4096$8$1$salt2$4821" } });
    await expectNeeded(check);
    // An import created the account a number named nothing when checked.
    const ghost = await checked("QE-STALE2", "4821");
    await account({ number: "QE-STALE2", hash: "scrypt$4096$8$1$salt$4821" });
    await expectNeeded(ghost, { ...attempt, accountNumber: "QE-STALE2" });
    // Nothing was recorded for any of them.
    expect(await attemptsOf(r)).toEqual([]);
    // Checked afresh, it links.
    expect((await linkAccountWithCode(q, attempt, await checked("QE-STALE1", "4821"))).status).toBe("linked");
  });

  it("a rolled-back transaction leaves nothing behind", async () => {
    const r = await resident();
    const a = await account({ hash: "scrypt$4096$8$1$salt$4821" });
    const check = await checked(a.number, "4821");
    await expect(
      q.transaction().execute(async (trx) => {
        await linkAccountWithCode(trx, { municipalityId: TOWN, residentId: r, accountNumber: a.number, code: "4821", now: NOW }, check);
        throw new Error("later effect failed");
      }),
    ).rejects.toThrow("later effect failed");
    expect(await attemptsOf(r)).toEqual([]);
    expect(await t.db.accountLink.count({ where: { accountId: a.id } })).toBe(0);
    expect(await t.db.auditEvent.count({ where: { accountId: a.id } })).toBe(0);
  });
});

describe("recordDisclosure", () => {
  it("audits what was shown, to whom, on which channel, when", async () => {
    const r = await resident();
    const a = await account();
    await recordDisclosure(q, { municipalityId: TOWN, residentId: r, accountId: a.id, kind: "balance_disclosed", channel: "whatsapp", now: NOW });
    await recordDisclosure(q, { municipalityId: TOWN, residentId: r, accountId: a.id, kind: "statement_disclosed", channel: "sms", now: new Date(NOW.getTime() + 1) });
    expect(
      await t.db.auditEvent.findMany({
        where: { accountId: a.id, createdAt: { gte: NOW } },
        orderBy: { id: "asc" },
        select: { municipalityId: true, actorType: true, actorId: true, residentId: true, accountId: true, kind: true, data: true, createdAt: true },
      }),
    ).toEqual([
      { municipalityId: TOWN, actorType: "resident", actorId: null, residentId: r, accountId: a.id, kind: "balance_disclosed", data: '{"channel":"whatsapp"}', createdAt: NOW },
      { municipalityId: TOWN, actorType: "resident", actorId: null, residentId: r, accountId: a.id, kind: "statement_disclosed", data: '{"channel":"sms"}', createdAt: new Date(NOW.getTime() + 1) },
    ]);
  });
});
