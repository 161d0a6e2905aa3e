import { randomBytes } from "node:crypto";
import { z } from "zod";
import { CURRENCIES, type AccountView, type DisclosureKind, type LinkOutcome, type StatementLineView } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";
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
 * Tries to link an account to a resident's phone with the code printed on the bill, and records the
 * attempt. Locked when the phone, or the account number, has failed 5 times in the last hour (the
 * try that makes the fifth failure already answers "locked"). A wrong code and an unknown account
 * number take the same path — an unknown number is checked against a dummy hash with the same
 * scrypt cost as the town's real codes — and both come back "rejected", so neither the words nor
 * the time tell them apart. Attempts are recorded under the account's stored number (what staff
 * see on the account's page) or, for a number that does not exist, the typed one upper-cased, and the
 * per-number limit counts both alike.
 * A new link is stored with `linkedBy: "code"` and audited as `account_linked`.
 */
export async function linkAccountWithCode(tx: Tx, attempt: LinkAttempt): Promise<LinkOutcome> {
  const { municipalityId, residentId, code, now } = attempt;
  const typed = attempt.accountNumber.trim();
  const spellings = [...new Set([typed, typed.toUpperCase(), typed.toLowerCase()])];
  const [account, sample] = await Promise.all([
    tx.account.findFirst({ where: { municipalityId, number: { in: spellings } }, orderBy: { id: "asc" } }),
    // The cost parameters real codes are hashed with, for the dummy hash (same work either way).
    tx.account.findFirst({ where: { municipalityId }, select: { verificationCodeHash: true }, orderBy: { id: "desc" } }),
  ]);
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

  const stored = account?.verificationCodeHash ?? dummyHashLike(sample?.verificationCodeHash);
  const matches = await verifyPassword(code, stored);
  const success = account !== null && matches;
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
