import type { DisclosureKind } from "../conversation/types.js";

/*
 * Linking a resident's phone to a bill's account, and showing them its data. The queries run on
 * the per-message path, in Kysely: see src/db/hot/accounts.ts (`linkedAccountsOf`,
 * `statementLinesOf`, `linkingLockedFor`, `checkAccountCode`, `linkAccountWithCode`,
 * `recordDisclosure`). What they share with the rest of the app stays here.
 */

/** Failed linking tries allowed per phone, and per account number, within `LINK_LOCK_MS`. */
export const LINK_MAX_FAILURES = 5;
export const LINK_LOCK_MS = 3600_000;

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

export interface Disclosure {
  municipalityId: string;
  residentId: number;
  accountId: number;
  kind: DisclosureKind;
  channel: string;
  now: Date;
}
