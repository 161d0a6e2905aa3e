import { randomBytes } from "node:crypto";
import { z } from "zod";
import { CURRENCIES, type AccountView, type DisclosureKind, type LinkOutcome, type StatementLineView } from "../conversation/types.js";
import type { Db, Tx } from "../db/createDb.js";
import { verifyPassword } from "./passwords.js";

/** Failed linking tries allowed per phone, and per account number, within `LINK_LOCK_MS`. */
export const LINK_MAX_FAILURES = 5;
export const LINK_LOCK_MS = 3600_000;

const Currency = z.enum(CURRENCIES);
const AccountType = z.enum(["property", "business", "other"]).catch("other");
const LineKind = z.enum(["charge", "payment", "adjustment"]).catch("adjustment");

/** The accounts linked to a resident, with balances per currency (LBP first) and the latest payment; by number. */
export async function linkedAccountsOf(tx: Tx, municipalityId: string, residentId: number): Promise<AccountView[]> {
  const links = await tx.accountLink.findMany({
    where: { municipalityId, residentId },
    include: {
      account: {
        include: {
          balances: { orderBy: { currency: "asc" } },
          lines: { where: { kind: "payment" }, orderBy: [{ date: "desc" }, { id: "desc" }], take: 1 },
        },
      },
    },
  });
  return links
    .map(({ account }) => {
      const payment = account.lines[0];
      const paymentCurrency = Currency.safeParse(payment?.currency);
      return {
        id: account.id,
        number: account.number,
        holderName: account.holderName,
        accountType: AccountType.parse(account.accountType),
        balances: account.balances.flatMap((b) => {
          const currency = Currency.safeParse(b.currency);
          return currency.success ? [{ currency: currency.data, amountDue: b.amountDue.toFixed(), dueDate: b.dueDate }] : [];
        }),
        lastPayment:
          payment && paymentCurrency.success
            ? { date: payment.date, amount: payment.amount.abs().toFixed(), currency: paymentCurrency.data }
            : null,
      };
    })
    .sort((a, b) => a.number.localeCompare(b.number, "en", { numeric: true }));
}

/** The latest `limit` statement lines of an account, newest first — only if it is linked to the resident. */
export async function statementLinesOf(
  tx: Tx,
  municipalityId: string,
  residentId: number,
  accountId: number,
  limit: number,
): Promise<StatementLineView[]> {
  const link = await tx.accountLink.findFirst({ where: { municipalityId, residentId, accountId }, select: { id: true } });
  if (!link) return [];
  const lines = await tx.statementLine.findMany({ where: { accountId }, orderBy: [{ date: "desc" }, { id: "desc" }], take: limit });
  return lines.flatMap((l) => {
    const currency = Currency.safeParse(l.currency);
    return currency.success
      ? [{ date: l.date, kind: LineKind.parse(l.kind), description: l.description, currency: currency.data, amount: l.amount.toFixed(), reference: l.reference }]
      : [];
  });
}

/** Failed linking tries from this resident's phone in the hour before `now`. */
async function phoneFailures(tx: Tx, municipalityId: string, residentId: number, now: Date): Promise<number> {
  const since = new Date(now.getTime() - LINK_LOCK_MS);
  return tx.verificationAttempt.count({ where: { municipalityId, residentId, success: false, createdAt: { gte: since } } });
}

/** Whether this phone has failed `LINK_MAX_FAILURES` times in the last hour. */
export async function linkingLockedFor(tx: Tx, municipalityId: string, residentId: number, now: Date): Promise<boolean> {
  return (await phoneFailures(tx, municipalityId, residentId, now)) >= LINK_MAX_FAILURES;
}

export interface LinkAttempt {
  municipalityId: string;
  residentId: number;
  /** As typed (see `readAccountNumber`): digits folded, spaces removed; any letter case. */
  accountNumber: string;
  code: string;
  now: Date;
}

/**
 * The slow half of a code check — which account a typed number names and whether the code matches
 * its scrypt hash — done BEFORE the transaction that records the attempt, so no transaction (and, on
 * SQLite, no other path's query) waits for the hashing.
 */
export interface CodeCheck {
  accountNumber: string;
  code: string;
  /** The account the number named when checked, null for an unknown number (checked against a dummy hash). */
  accountId: number | null;
  /** The hash the code was checked against; the transaction re-checks it is still the account's. */
  hash: string | null;
  matches: boolean;
}

/** Checks a code against a hash; `verifyPassword` in production. */
export type VerifyCode = (code: string, hash: string) => Promise<boolean>;

/**
 * Thrown inside a transaction that needs a code check it was not given (or whose check is stale
 * because an import changed the account meanwhile): roll back, run `checkAccountCode`, try again.
 */
export class CodeCheckNeeded extends Error {
  constructor(readonly attempt: { accountNumber: string; code: string }) {
    super("an account code must be checked before this transaction");
    this.name = "CodeCheckNeeded";
  }
}

/** Reads the account a typed number names (any letter case). */
function findTypedAccount(db: Db | Tx, municipalityId: string, typedNumber: string) {
  const typed = typedNumber.trim();
  const spellings = [...new Set([typed, typed.toUpperCase(), typed.toLowerCase()])];
  return db.account.findFirst({ where: { municipalityId, number: { in: spellings } }, orderBy: { id: "asc" }, select: { id: true, number: true, verificationCodeHash: true } });
}

/**
 * Checks a bill's code outside any transaction (see `CodeCheck`). A wrong code and an unknown
 * account number cost the same: an unknown number is checked against a dummy hash with the same
 * scrypt cost as the town's real codes.
 */
export async function checkAccountCode(
  db: Db | Tx,
  attempt: { municipalityId: string; accountNumber: string; code: string },
  verify: VerifyCode = verifyPassword,
): Promise<CodeCheck> {
  const [account, sample] = await Promise.all([
    findTypedAccount(db, attempt.municipalityId, attempt.accountNumber),
    // The cost parameters real codes are hashed with, for the dummy hash (same work either way).
    db.account.findFirst({ where: { municipalityId: attempt.municipalityId }, select: { verificationCodeHash: true }, orderBy: { id: "desc" } }),
  ]);
  const hash = account?.verificationCodeHash ?? dummyHashLike(sample?.verificationCodeHash);
  const matches = await verify(attempt.code, hash);
  return { accountNumber: attempt.accountNumber, code: attempt.code, accountId: account?.id ?? null, hash: account ? hash : null, matches: account !== null && matches };
}

/**
 * Records a try to link an account to a resident's phone with the code printed on the bill, using
 * the `check` done before the transaction (it throws `CodeCheckNeeded` when the check is missing or
 * the account's code changed since). Locked when the phone, or the account number, has failed 5
 * times in the last hour (the try that makes the fifth failure already answers "locked"). A wrong
 * code and an unknown account number both come back "rejected", so neither the words nor the time
 * tell them apart. Attempts are recorded under the account's stored number (what staff see on the
 * account's page) or, for a number that does not exist, the typed one upper-cased, and the
 * per-number limit counts both alike.
 * A new link is stored with `linkedBy: "code"` and audited as `account_linked`.
 */
export async function linkAccountWithCode(tx: Tx, attempt: LinkAttempt, check: CodeCheck | undefined): Promise<LinkOutcome> {
  const { municipalityId, residentId, now } = attempt;
  const account = await findTypedAccount(tx, municipalityId, attempt.accountNumber);
  if (!check || check.accountNumber !== attempt.accountNumber || check.code !== attempt.code) throw new CodeCheckNeeded(attempt);
  // An import changed the account (or created it) since the check: check again.
  if ((account?.id ?? null) !== check.accountId || (account ? account.verificationCodeHash : null) !== check.hash) throw new CodeCheckNeeded(attempt);
  const typed = attempt.accountNumber.trim();
  const accountNumber = account?.number ?? typed.toUpperCase();
  const since = new Date(now.getTime() - LINK_LOCK_MS);
  const [byPhone, byNumber] = await Promise.all([
    phoneFailures(tx, municipalityId, residentId, now),
    tx.verificationAttempt.count({ where: { municipalityId, accountNumber, success: false, createdAt: { gte: since } } }),
  ]);
  const record = (success: boolean) =>
    tx.verificationAttempt.create({ data: { municipalityId, residentId, accountNumber, success, createdAt: now } });
  if (byPhone >= LINK_MAX_FAILURES || byNumber >= LINK_MAX_FAILURES) {
    await record(false);
    return { status: "locked" };
  }

  const success = account !== null && check.matches;
  await record(success);
  if (!success) {
    const lockedNow = byPhone + 1 >= LINK_MAX_FAILURES || byNumber + 1 >= LINK_MAX_FAILURES;
    return { status: lockedNow ? "locked" : "rejected" };
  }

  const existing = await tx.accountLink.findUnique({ where: { accountId_residentId: { accountId: account.id, residentId } } });
  if (!existing) {
    await tx.accountLink.create({ data: { municipalityId, accountId: account.id, residentId, linkedBy: "code", createdAt: now } });
    await tx.auditEvent.create({
      data: { municipalityId, actorType: "resident", residentId, accountId: account.id, kind: "account_linked", data: JSON.stringify({ via: "code" }), createdAt: now },
    });
  }
  return { status: "linked", accountId: account.id };
}

// Used only while the town has no account at all (nothing to leak): hashPassword's default cost.
const DEFAULT_COST = { N: 2 ** 17, r: 8, p: 1 };

/**
 * A hash no code matches, with the same scrypt cost as `sample`, so checking a code against it
 * takes as long as against a real one.
 */
function dummyHashLike(sample: string | undefined): string {
  const [scheme, n, r, p] = (sample ?? "").split("$");
  const cost = scheme === "scrypt" && Number(n) > 1 && Number(r) > 0 && Number(p) > 0 ? { N: Number(n), r: Number(r), p: Number(p) } : DEFAULT_COST;
  return ["scrypt", cost.N, cost.r, cost.p, randomBytes(16).toString("base64"), randomBytes(64).toString("base64")].join("$");
}

export interface Disclosure {
  municipalityId: string;
  residentId: number;
  accountId: number;
  kind: DisclosureKind;
  channel: string;
  now: Date;
}

/** Records in the audit trail that account data was shown to a resident, and on which channel. */
export async function recordDisclosure(tx: Tx, d: Disclosure): Promise<void> {
  await tx.auditEvent.create({
    data: {
      municipalityId: d.municipalityId,
      actorType: "resident",
      residentId: d.residentId,
      accountId: d.accountId,
      kind: d.kind,
      data: JSON.stringify({ channel: d.channel }),
      createdAt: d.now,
    },
  });
}
