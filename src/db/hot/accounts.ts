import { randomBytes } from "node:crypto";
import { z } from "zod";
import { CURRENCIES, type AccountView, type LinkOutcome, type StatementLineView } from "../../conversation/types.js";
import {
  CodeCheckNeeded,
  LINK_LOCK_MS,
  LINK_MAX_FAILURES,
  type CodeCheck,
  type Disclosure,
  type LinkAttempt,
  type VerifyCode,
} from "../../services/accounts.js";
import { verifyPassword } from "../../services/passwords.js";
import type { HotQ } from "./connect.js";

/*
 * The resident side of bills and accounts on the per-message path (Kysely; see ./connect.ts):
 * what a linked resident may see, and linking an account with the code printed on the bill.
 * The constants, types and `CodeCheckNeeded` stay in src/services/accounts.ts.
 */

const Currency = z.enum(CURRENCIES);
const AccountType = z.enum(["property", "business", "other"]).catch("other");
const LineKind = z.enum(["charge", "payment", "adjustment"]).catch("adjustment");

/** The accounts linked to a resident, with balances per currency (LBP first) and the latest payment; by number. */
export async function linkedAccountsOf(q: HotQ, municipalityId: string, residentId: number): Promise<AccountView[]> {
  const accounts = await q
    .selectFrom("AccountLink as k")
    .innerJoin("Account as a", "a.id", "k.accountId")
    // The account's latest payment, if any (one row per link either way).
    .leftJoin("StatementLine as p", (join) =>
      join.on((eb) =>
        eb(
          "p.id",
          "=",
          eb
            .selectFrom("StatementLine as l")
            .select("l.id")
            .whereRef("l.accountId", "=", "a.id")
            .where("l.kind", "=", "payment")
            .orderBy("l.date", "desc")
            .orderBy("l.id", "desc")
            .limit(1),
        ),
      ),
    )
    .select(["a.id", "a.number", "a.holderName", "a.accountType", "p.date as paymentDate", "p.amount as paymentAmount", "p.currency as paymentCurrency"])
    .where("k.municipalityId", "=", municipalityId)
    .where("k.residentId", "=", residentId)
    .orderBy("k.id")
    .execute();
  if (accounts.length === 0) return [];
  const balances = await q
    .selectFrom("AccountBalance")
    .select(["accountId", "currency", "amountDue", "dueDate"])
    .where("accountId", "in", accounts.map((a) => a.id))
    .orderBy("accountId")
    .orderBy("currency", "asc")
    .execute();
  return accounts
    .map((account) => {
      const paymentCurrency = Currency.safeParse(account.paymentCurrency);
      return {
        id: account.id,
        number: account.number,
        holderName: account.holderName,
        accountType: AccountType.parse(account.accountType),
        balances: balances.flatMap((b) => {
          if (b.accountId !== account.id) return [];
          const currency = Currency.safeParse(b.currency);
          return currency.success ? [{ currency: currency.data, amountDue: plainDecimal(b.amountDue), dueDate: b.dueDate }] : [];
        }),
        lastPayment:
          account.paymentDate !== null && account.paymentAmount !== null && paymentCurrency.success
            ? { date: account.paymentDate, amount: plainDecimal(account.paymentAmount).replace(/^-/, ""), currency: paymentCurrency.data }
            : null,
      };
    })
    .sort((a, b) => a.number.localeCompare(b.number, "en", { numeric: true }));
}

/** The latest `limit` statement lines of an account, newest first — only if it is linked to the resident. */
export async function statementLinesOf(
  q: HotQ,
  municipalityId: string,
  residentId: number,
  accountId: number,
  limit: number,
): Promise<StatementLineView[]> {
  const lines = await q
    .selectFrom("StatementLine")
    .select(["date", "kind", "description", "currency", "amount", "reference"])
    .where("accountId", "=", accountId)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom("AccountLink")
          .select("AccountLink.id")
          .where("AccountLink.municipalityId", "=", municipalityId)
          .where("AccountLink.residentId", "=", residentId)
          .where("AccountLink.accountId", "=", accountId),
      ),
    )
    .orderBy("date", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
  return lines.flatMap((l) => {
    const currency = Currency.safeParse(l.currency);
    return currency.success
      ? [{ date: l.date, kind: LineKind.parse(l.kind), description: l.description, currency: currency.data, amount: plainDecimal(l.amount), reference: l.reference }]
      : [];
  });
}

/** Failed linking tries in this town in the hour before `now` (narrow it by phone or by number). */
function recentFailures(q: HotQ, municipalityId: string, now: Date) {
  return q
    .selectFrom("VerificationAttempt")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("municipalityId", "=", municipalityId)
    .where("success", "=", false)
    .where("createdAt", ">=", new Date(now.getTime() - LINK_LOCK_MS));
}

/** Whether this phone has failed `LINK_MAX_FAILURES` times in the last hour. */
export async function linkingLockedFor(q: HotQ, municipalityId: string, residentId: number, now: Date): Promise<boolean> {
  const { n } = await recentFailures(q, municipalityId, now).where("residentId", "=", residentId).executeTakeFirstOrThrow();
  return Number(n) >= LINK_MAX_FAILURES;
}

/** Reads the account a typed number names (any letter case). */
function findTypedAccount(q: HotQ, municipalityId: string, typedNumber: string) {
  const typed = typedNumber.trim();
  const spellings = [...new Set([typed, typed.toUpperCase(), typed.toLowerCase()])];
  return q
    .selectFrom("Account")
    .select(["id", "number", "verificationCodeHash"])
    .where("municipalityId", "=", municipalityId)
    .where("number", "in", spellings)
    .orderBy("id", "asc")
    .limit(1)
    .executeTakeFirst();
}

/**
 * Checks a bill's code outside any transaction (see `CodeCheck`). A wrong code and an unknown
 * account number cost the same: an unknown number is checked against a dummy hash with the same
 * scrypt cost as the town's real codes.
 */
export async function checkAccountCode(
  q: HotQ,
  attempt: { municipalityId: string; accountNumber: string; code: string },
  verify: VerifyCode = verifyPassword,
): Promise<CodeCheck> {
  const [account, sample] = await Promise.all([
    findTypedAccount(q, attempt.municipalityId, attempt.accountNumber),
    // The cost parameters real codes are hashed with, for the dummy hash (same work either way).
    q
      .selectFrom("Account")
      .select("verificationCodeHash")
      .where("municipalityId", "=", attempt.municipalityId)
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst(),
  ]);
  const hash = account?.verificationCodeHash ?? dummyHashLike(sample?.verificationCodeHash);
  const matches = await verify(attempt.code, hash);
  return { accountNumber: attempt.accountNumber, code: attempt.code, accountId: account?.id ?? null, hash: account ? hash : null, matches: account !== undefined && matches };
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
export async function linkAccountWithCode(q: HotQ, attempt: LinkAttempt, check: CodeCheck | undefined): Promise<LinkOutcome> {
  const { municipalityId, residentId, now } = attempt;
  const account = (await findTypedAccount(q, municipalityId, attempt.accountNumber)) ?? null;
  if (!check || check.accountNumber !== attempt.accountNumber || check.code !== attempt.code) throw new CodeCheckNeeded(attempt);
  // An import changed the account (or created it) since the check: check again.
  if ((account?.id ?? null) !== check.accountId || (account ? account.verificationCodeHash : null) !== check.hash) throw new CodeCheckNeeded(attempt);
  const typed = attempt.accountNumber.trim();
  const accountNumber = account?.number ?? typed.toUpperCase();
  // Both counts in one round trip, each on its own index.
  const counts = await q
    .selectNoFrom([
      recentFailures(q, municipalityId, now).where("residentId", "=", residentId).as("byPhone"),
      recentFailures(q, municipalityId, now).where("accountNumber", "=", accountNumber).as("byNumber"),
    ])
    .executeTakeFirstOrThrow();
  const byPhone = Number(counts.byPhone);
  const byNumber = Number(counts.byNumber);
  const record = (success: boolean) =>
    q.insertInto("VerificationAttempt").values({ municipalityId, residentId, accountNumber, success, createdAt: now }).execute();
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

  // Already linked (by code or by staff): nothing to store, nothing to audit.
  const created = await q
    .insertInto("AccountLink")
    .values({ municipalityId, accountId: account.id, residentId, linkedBy: "code", createdAt: now })
    .onConflict((oc) => oc.columns(["accountId", "residentId"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  if (created) {
    await q
      .insertInto("AuditEvent")
      .values({ municipalityId, actorType: "resident", residentId, accountId: account.id, kind: "account_linked", data: JSON.stringify({ via: "code" }), createdAt: now })
      .execute();
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

/** Records in the audit trail that account data was shown to a resident, and on which channel. */
export async function recordDisclosure(q: HotQ, d: Disclosure): Promise<void> {
  await q
    .insertInto("AuditEvent")
    .values({
      municipalityId: d.municipalityId,
      actorType: "resident",
      residentId: d.residentId,
      accountId: d.accountId,
      kind: d.kind,
      data: JSON.stringify({ channel: d.channel }),
      createdAt: d.now,
    })
    .execute();
}

const DECIMAL_TEXT = /^([+-])?(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;

/**
 * A Decimal column's value as Prisma's `Decimal#toFixed()` wrote it: plain notation, no leading or
 * trailing zeros, no "-0" ("12.500000000000000000000000000000" from PostgreSQL's DECIMAL(65,30) and
 * 12.5 from SQLite both read "12.5"; 1.25e21 reads "1250000000000000000000"). Digit by digit, so
 * no float rounding.
 */
export function plainDecimal(value: string): string {
  const match = DECIMAL_TEXT.exec(value.trim());
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) throw new RangeError(`not a decimal: ${JSON.stringify(value)}`);
  const [, sign, whole = "", fraction = "", exponent = "0"] = match;
  // value = 0.digits × 10^point
  const digits = whole + fraction;
  let point = whole.length + Number(exponent);
  const leading = digits.length - digits.replace(/^0+/, "").length;
  const significant = digits.slice(leading).replace(/0+$/, "");
  if (significant === "") return "0";
  point -= leading;
  let text: string;
  if (point <= 0) text = `0.${"0".repeat(-point)}${significant}`;
  else if (point >= significant.length) text = significant + "0".repeat(point - significant.length);
  else text = `${significant.slice(0, point)}.${significant.slice(point)}`;
  return sign === "-" ? `-${text}` : text;
}
