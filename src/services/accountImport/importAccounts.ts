import { createHash, createHmac, type Hash } from "node:crypto";
import { availableParallelism } from "node:os";
import { Prisma } from "../../generated/sqlite/client.js";
import type { Db, Tx } from "../../db/createDb.js";
import { hashPassword } from "../passwords.js";
import { readCsv } from "./readCsv.js";
import {
  AccountRow,
  decimalsError,
  fieldsByColumn,
  importError,
  readHeader,
  rowErrors,
  shownValue,
  StatementRow,
  utcDate,
  type ColumnIndex,
  type Currency,
  type ImportError,
  type ImportFile,
} from "./rows.js";

/**
 * scrypt parameters for verification codes: 4 MiB and ~10 ms per hash, 32 times cheaper than staff
 * passwords, so that a first import of 100,000 accounts takes minutes, not hours. A code of 4-8
 * digits cannot be protected offline by any hash cost; what protects it is the rate limit on tries
 * per phone and per account. `verifyPassword` reads the parameters from each stored hash.
 */
export const PIN_HASH_PARAMS = { N: 2 ** 12, r: 8, p: 1 };
/** At most this many bad rows are listed (the total is counted). */
export const MAX_LISTED_ERRORS = 100;
const BATCH = 500;

export interface ImportProgress {
  file: ImportFile;
  /** check: reading and validating; compare: against the database (and hashing new codes); write: in the transaction. */
  phase: "check" | "compare" | "write";
  rows: number;
  /** The last report of this file and phase. */
  done: boolean;
}

export interface ImportOptions {
  municipalityId: string;
  /** Path of the accounts CSV. */
  accounts: string;
  /** Path of the statement CSV, if the export has one. */
  statement?: string | undefined;
  /** Who or what started the import ("cli:accounts.csv", "upload:hala", "drop:accounts-2026-11-28.csv"). */
  source: string;
  now: Date;
  onProgress?: (progress: ImportProgress) => void;
  /** Rows between two progress reports (5,000). */
  progressEvery?: number;
  /** Hashes a verification code; scrypt with PIN_HASH_PARAMS unless a test passes a cheaper one. */
  hashCode?: (code: string) => Promise<string>;
  /**
   * When set, the code digest is an HMAC with this secret instead of a plain SHA-256. A plain
   * digest of a 4-8 digit code gives the code away to whoever reads the database (try every code);
   * a secret kept outside the database does not. Changing it re-hashes every code once.
   */
  digestKey?: string;
}

export type ImportResult =
  | {
      ok: true;
      runId: number;
      /** Accounts (distinct numbers) in the accounts file. */
      accounts: number;
      /** Rows of the statement file. */
      lines: number;
      /** Nothing in the database differed from the files: nothing was written. */
      unchanged: boolean;
      /** Rows created, updated or (balances only) removed. */
      changed: { accounts: number; balances: number; lines: number };
    }
  | { ok: false; runId: number; errors: ImportError[]; errorCount: number };

/**
 * Imports the finance system's export: the accounts file (one row per account and currency) and,
 * optionally, its statement lines. All or nothing: the files are validated first (every bad row
 * is reported with its line and reason, and then nothing changes), then compared with the database
 * outside any transaction (new or changed verification codes are hashed there, the slow part), then
 * written in ONE transaction. Both files are streamed each time, so memory grows with the number
 * of accounts, not with the size of the files.
 *
 * The export is the finance system's current state: for each account in the file its details and
 * balances are replaced by the file's rows (a currency it no longer owes in is removed). Accounts
 * not in the file are left alone; statement lines are history and are only added or corrected
 * (by account, reference and currency), never removed. Importing the same files again writes
 * nothing and says `unchanged`. Every call is recorded as an ImportRun.
 */
export async function importAccounts(db: Db, options: ImportOptions): Promise<ImportResult> {
  const ctx = new ImportContext(db, options);
  const checked = await checkFiles(ctx);
  const sha256 = importFingerprint(checked.accountsSha, checked.statementSha);
  if (ctx.errors.count > 0) {
    const errors = ctx.errors.sorted();
    const run = await db.importRun.create({
      data: { ...runBase(ctx, sha256), status: "failed", finishedAt: ctx.elapsedSince(), error: errorSummary(errors, ctx.errors.count) },
    });
    return { ok: false, runId: run.id, errors, errorCount: ctx.errors.count };
  }
  const run = await db.importRun.create({ data: { ...runBase(ctx, sha256), status: "running" } });
  const counts = { accounts: checked.accounts.size, lines: checked.lines };
  try {
    // Outside the transaction: reads only, and every code that needs it is hashed here, so the
    // transaction (which blocks other writers on SQLite) holds only the writes.
    const planned = await syncFiles(db, ctx, checked, "compare");
    if (planned.accounts + planned.balances + planned.lines === 0) {
      await db.importRun.update({ where: { id: run.id }, data: { status: "done", ...counts, finishedAt: ctx.elapsedSince() } });
      return { ok: true, runId: run.id, ...counts, unchanged: true, changed: planned };
    }
    const changed = await db.$transaction(
      async (tx) => {
        const written = await syncFiles(tx, ctx, checked, "write");
        await tx.importRun.update({ where: { id: run.id }, data: { status: "done", ...counts, finishedAt: ctx.elapsedSince() } });
        return written;
      },
      { maxWait: 60_000, timeout: 30 * 60_000 },
    );
    const unchanged = changed.accounts + changed.balances + changed.lines === 0;
    return { ok: true, runId: run.id, ...counts, unchanged, changed };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await db.importRun.update({ where: { id: run.id }, data: { status: "failed", error: message.slice(0, 2000), finishedAt: ctx.elapsedSince() } });
    if (error instanceof FileChangedError) return { ok: false, runId: run.id, errors: [error.importError], errorCount: 1 };
    throw error;
  }
}

/** What identifies an export in ImportRun.sha256: the accounts file's SHA-256, and the statement's after a "+". */
export function importFingerprint(accountsSha: string, statementSha?: string | null): string {
  return statementSha ? `${accountsSha}+${statementSha}` : accountsSha;
}

/** The digest that tells whether an account's code changed since the last import (see Account.verificationCodeDigest). */
export function codeDigest(accountNumber: string, code: string, key?: string): string {
  // Without a secret there is no safe digest: a plain hash of a 4-8 digit code gives the code away
  // to anyone who reads the database. Then nothing is stored and every import re-hashes the codes.
  if (!key) return "";
  return createHmac("sha256", key).update(`${accountNumber}:${code}`).digest("hex");
}

function runBase(ctx: ImportContext, sha256: string) {
  return { municipalityId: ctx.options.municipalityId, source: ctx.options.source.slice(0, 200), sha256, startedAt: ctx.options.now };
}

function errorSummary(errors: ImportError[], count: number): string {
  const lines = errors.slice(0, 20).map((e) => `${e.file} line ${e.line}: ${e.message}`);
  if (count > lines.length) lines.push(`… ${count - lines.length} more`);
  return lines.join("\n");
}

/** The first MAX_LISTED_ERRORS errors, and how many there were. */
class ErrorList {
  private readonly list: ImportError[] = [];
  count = 0;

  add(...errors: ImportError[]) {
    for (const error of errors) {
      this.count++;
      if (this.list.length < MAX_LISTED_ERRORS) this.list.push(error);
    }
  }

  sorted(): ImportError[] {
    const order = { accounts: 0, statement: 1 };
    return [...this.list].sort((a, b) => order[a.file] - order[b.file] || a.line - b.line);
  }
}

class ImportContext {
  readonly errors = new ErrorList();
  /** Files whose header or encoding was wrong: their rows were not checked. */
  readonly unreadable = new Set<ImportFile>();
  readonly hashCode: (code: string) => Promise<string>;
  /** Hashes of new or changed codes, made while comparing, used while writing. */
  readonly hashes = new Map<string, string>();
  readonly progressEvery: number;

  constructor(
    readonly db: Db,
    readonly options: ImportOptions,
  ) {
    this.hashCode = options.hashCode ?? ((code) => hashPassword(code, PIN_HASH_PARAMS));
    this.progressEvery = options.progressEvery ?? 5000;
  }

  private readonly started = performance.now();

  /** `now` plus the time the import has taken so far (ImportRun.finishedAt). */
  elapsedSince(): Date {
    return new Date(this.options.now.getTime() + Math.round(performance.now() - this.started));
  }

  digest(accountNumber: string, code: string) {
    return codeDigest(accountNumber, code, this.options.digestKey);
  }

  /** Counts rows and reports every `progressEvery` of them, then once more at the end. */
  progress(file: ImportFile, phase: ImportProgress["phase"]) {
    let rows = 0;
    const report = this.options.onProgress;
    return {
      row: () => {
        rows++;
        if (report && rows % this.progressEvery === 0) report({ file, phase, rows, done: false });
      },
      done: () => report?.({ file, phase, rows, done: true }),
    };
  }
}

/** What the first pass keeps of each account: enough to check its other rows and to write it. */
interface AccountInfo {
  /** The line of its first row: the account itself is written from that row. */
  line: number;
  /** Holder, type, description and code, hashed: every row of the account must agree. */
  fingerprint: string;
  /** Line of its row in each currency. */
  currencies: Partial<Record<Currency, number>>;
}

interface CheckedFiles {
  accounts: Map<string, AccountInfo>;
  accountsSha: string;
  statementSha: string | null;
  lines: number;
}

/** One parsed, valid row with the line it starts on. */
interface Parsed<T> {
  line: number;
  row: T;
}

/**
 * Streams a file's records as rows: the header is checked, each record becomes a column → value
 * object. Records that cannot be read are reported and skipped; after a bad header the rest of the
 * file is read (for its hash) but not checked, and bytes that are not UTF-8 end it.
 */
async function* tableRows(ctx: ImportContext, file: ImportFile, path: string, hash?: Hash): AsyncGenerator<{ line: number; values: Record<string, string> }> {
  let columns: ColumnIndex | null = null;
  let sawHeader = false;
  for await (const record of readCsv(path, hash)) {
    if (record.error) {
      ctx.errors.add(importError(file, record.line, record.error));
      if (record.error !== "encoding") continue;
      ctx.unreadable.add(file);
      return;
    }
    if (!sawHeader) {
      sawHeader = true;
      const header = readHeader(file, record.fields);
      if ("errors" in header) {
        ctx.errors.add(...header.errors);
        ctx.unreadable.add(file);
      } else columns = header.columns;
      continue;
    }
    // Without a usable header the rest is only read for the file's hash.
    if (!columns) continue;
    const values = fieldsByColumn(columns, record.fields);
    if ("expected" in values) {
      ctx.errors.add(importError(file, record.line, "fieldCount", { expected: values.expected, found: values.found }));
      continue;
    }
    yield { line: record.line, values };
  }
  if (!sawHeader) {
    ctx.errors.add(importError(file, 0, "emptyFile"));
    ctx.unreadable.add(file);
  }
}

/** Pass 1: every row of both files validated; the accounts remembered by number. */
async function checkFiles(ctx: ImportContext): Promise<CheckedFiles> {
  const accounts = new Map<string, AccountInfo>();
  const accountsHash = createHash("sha256");
  const progress = ctx.progress("accounts", "check");
  for await (const { line, values } of tableRows(ctx, "accounts", ctx.options.accounts, accountsHash)) {
    progress.row();
    const parsed = parseAccountRow(ctx, line, values);
    if (!parsed) continue;
    const { row } = parsed;
    const fingerprint = createHash("sha1").update(`${row.holder_name}\0${row.account_type}\0${row.description}\0${row.verification_code}`).digest("base64");
    const info = accounts.get(row.account_number);
    if (!info) {
      accounts.set(row.account_number, { line, fingerprint, currencies: { [row.currency]: line } });
      continue;
    }
    const other = info.currencies[row.currency];
    if (other !== undefined) ctx.errors.add(importError("accounts", line, "duplicateCurrency", { number: row.account_number, currency: row.currency, other }));
    else if (info.fingerprint !== fingerprint) ctx.errors.add(importError("accounts", line, "inconsistent", { number: row.account_number, other: info.line }));
    else info.currencies[row.currency] = line;
  }
  progress.done();
  const accountsSha = accountsHash.digest("hex");

  let statementSha: string | null = null;
  let lines = 0;
  if (ctx.options.statement) {
    const statementHash = createHash("sha256");
    const seen = new Map<string, number>();
    // Numbers not in the accounts file: they must already be in the database.
    const elsewhere = new Map<string, number[]>();
    const progress = ctx.progress("statement", "check");
    for await (const { line, values } of tableRows(ctx, "statement", ctx.options.statement, statementHash)) {
      progress.row();
      lines++;
      const parsed = parseStatementRow(ctx, line, values);
      if (!parsed) continue;
      const { row } = parsed;
      const key = `${row.account_number}\0${row.reference}\0${row.currency}`;
      const other = seen.get(key);
      if (other !== undefined) {
        ctx.errors.add(importError("statement", line, "duplicateReference", { reference: row.reference, currency: row.currency, number: row.account_number, other }));
        continue;
      }
      seen.set(key, line);
      if (!accounts.has(row.account_number)) {
        const at = elsewhere.get(row.account_number) ?? [];
        if (at.length < MAX_LISTED_ERRORS) at.push(line);
        elsewhere.set(row.account_number, at);
      }
    }
    progress.done();
    statementSha = statementHash.digest("hex");
    // Without a readable accounts file every statement row would look orphaned: say nothing of them.
    if (!ctx.unreadable.has("accounts")) {
      const numbers = [...elsewhere.keys()];
      for (let i = 0; i < numbers.length; i += BATCH) {
        const chunk = numbers.slice(i, i + BATCH);
        const found = await ctx.db.account.findMany({ where: { municipalityId: ctx.options.municipalityId, number: { in: chunk } }, select: { number: true } });
        const known = new Set(found.map((a) => a.number));
        for (const number of chunk) {
          if (known.has(number)) continue;
          for (const line of elsewhere.get(number) ?? []) ctx.errors.add(importError("statement", line, "unknownAccount", { number }));
        }
      }
    }
  }
  return { accounts, accountsSha, statementSha, lines };
}

function parseAccountRow(ctx: ImportContext, line: number, values: Record<string, string>): Parsed<AccountRow> | null {
  const parsed = AccountRow.safeParse(values);
  if (!parsed.success) {
    ctx.errors.add(...rowErrors("accounts", line, parsed.error, values));
    return null;
  }
  const decimals = decimalsError(parsed.data.currency, parsed.data.amount_due);
  if (decimals) {
    ctx.errors.add(importError("accounts", line, decimals, { column: "amount_due", value: shownValue(values.amount_due) }));
    return null;
  }
  return { line, row: parsed.data };
}

function parseStatementRow(ctx: ImportContext, line: number, values: Record<string, string>): Parsed<StatementRow> | null {
  const parsed = StatementRow.safeParse(values);
  if (!parsed.success) {
    ctx.errors.add(...rowErrors("statement", line, parsed.error, values));
    return null;
  }
  const decimals = decimalsError(parsed.data.currency, parsed.data.amount);
  if (decimals) {
    ctx.errors.add(importError("statement", line, decimals, { column: "amount", value: shownValue(values.amount) }));
    return null;
  }
  return { line, row: parsed.data };
}

/** Thrown inside the transaction when a file's bytes differ from what was checked: everything rolls back. */
class FileChangedError extends Error {
  override readonly name = "FileChangedError";
  constructor(readonly importError: ImportError) {
    super(importError.message);
  }
}

type Mode = "compare" | "write";
interface Changes {
  accounts: number;
  balances: number;
  lines: number;
}

/**
 * Passes 2 and 3, the same code: "compare" only reads (and hashes the codes that changed) and
 * counts what would change; "write" applies those changes. Files are re-read in batches and must
 * still have the bytes that were checked.
 */
async function syncFiles(client: Db | Tx, ctx: ImportContext, checked: CheckedFiles, mode: Mode): Promise<Changes> {
  const changes: Changes = { accounts: 0, balances: 0, lines: 0 };
  await inBatches(ctx, "accounts", ctx.options.accounts, checked.accountsSha, mode, parseAccountRow, (batch) => syncAccountBatch(client, ctx, checked, batch, mode, changes));
  if (ctx.options.statement && checked.statementSha) {
    await inBatches(ctx, "statement", ctx.options.statement, checked.statementSha, mode, parseStatementRow, (batch) => syncStatementBatch(client, ctx, batch, mode, changes));
  }
  return changes;
}

async function inBatches<T>(
  ctx: ImportContext,
  file: ImportFile,
  path: string,
  expectedSha: string,
  mode: Mode,
  parse: (ctx: ImportContext, line: number, values: Record<string, string>) => Parsed<T> | null,
  handle: (batch: Parsed<T>[]) => Promise<void>,
): Promise<void> {
  const hash = createHash("sha256");
  const progress = ctx.progress(file, mode);
  let batch: Parsed<T>[] = [];
  for await (const { line, values } of tableRows(ctx, file, path, hash)) {
    progress.row();
    const parsed = parse(ctx, line, values);
    if (parsed) batch.push(parsed);
    if (batch.length >= BATCH) {
      await handle(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await handle(batch);
  progress.done();
  if (hash.digest("hex") !== expectedSha || ctx.errors.count > 0) throw new FileChangedError(importError(file, 0, "fileChanged"));
}

async function syncAccountBatch(client: Db | Tx, ctx: ImportContext, checked: CheckedFiles, batch: Parsed<AccountRow>[], mode: Mode, changes: Changes): Promise<void> {
  const municipalityId = ctx.options.municipalityId;
  const numbers = [...new Set(batch.map((p) => p.row.account_number))];
  const select = {
    id: true,
    number: true,
    holderName: true,
    accountType: true,
    description: true,
    verificationCodeDigest: true,
    balances: { select: { id: true, currency: true, amountDue: true, dueDate: true } },
  } as const;
  const found = await client.account.findMany({ where: { municipalityId, number: { in: numbers } }, select });
  const byNumber = new Map(found.map((a) => [a.number, a]));

  // The accounts themselves, from each one's first row.
  const toCreate: Prisma.AccountCreateManyInput[] = [];
  const toHash: Array<{ number: string; code: string }> = [];
  const updates: Array<{ id: number; data: Prisma.AccountUpdateInput }> = [];
  for (const { line, row } of batch) {
    if (checked.accounts.get(row.account_number)?.line !== line) continue;
    const digest = ctx.digest(row.account_number, row.verification_code);
    const current = byNumber.get(row.account_number);
    const codeChanged = digest === "" || current?.verificationCodeDigest !== digest;
    if (codeChanged && mode === "compare") toHash.push({ number: row.account_number, code: row.verification_code });
    const details = { holderName: row.holder_name, accountType: row.account_type, description: row.description };
    if (!current) {
      changes.accounts++;
      if (mode === "write") toCreate.push({ municipalityId, number: row.account_number, ...details, verificationCodeDigest: digest, verificationCodeHash: await hashFor(ctx, row) });
      continue;
    }
    const detailsChanged = current.holderName !== details.holderName || current.accountType !== details.accountType || current.description !== details.description;
    if (!detailsChanged && !codeChanged) continue;
    changes.accounts++;
    if (mode === "write") {
      updates.push({ id: current.id, data: { ...details, ...(codeChanged ? { verificationCodeDigest: digest, verificationCodeHash: await hashFor(ctx, row) } : {}) } });
    }
  }
  if (toHash.length > 0) {
    await mapLimit(toHash, hashConcurrency(), async ({ number, code }) => {
      ctx.hashes.set(number, await ctx.hashCode(code));
    });
  }
  if (mode === "write") {
    if (toCreate.length > 0) {
      await client.account.createMany({ data: toCreate });
      const created = await client.account.findMany({ where: { municipalityId, number: { in: toCreate.map((a) => a.number) } }, select });
      for (const account of created) byNumber.set(account.number, account);
    }
    for (const { id, data } of updates) await client.account.update({ where: { id }, data });
  }

  // Their balances: one per row; currencies the account no longer owes in go.
  // A changed balance is replaced (deleted and created again) rather than updated row by row: when
  // the yearly bills change every amount and due date, two statements per batch instead of 500.
  const newBalances: Prisma.AccountBalanceCreateManyInput[] = [];
  const stale: number[] = [];
  for (const { line, row } of batch) {
    const account = byNumber.get(row.account_number);
    const dueDate = utcDate(row.due_date);
    if (!account) {
      changes.balances++; // compare mode, a new account
      continue;
    }
    const info = checked.accounts.get(row.account_number);
    if (info?.line === line) {
      for (const balance of account.balances) {
        if (isCurrency(balance.currency) && info.currencies[balance.currency] !== undefined) continue;
        changes.balances++;
        stale.push(balance.id);
      }
    }
    const current = account.balances.find((b) => b.currency === row.currency);
    if (current && sameAmount(row.amount_due, current.amountDue) && current.dueDate.getTime() === dueDate.getTime()) continue;
    changes.balances++;
    if (current) stale.push(current.id);
    newBalances.push({ accountId: account.id, currency: row.currency, amountDue: row.amount_due, dueDate });
  }
  if (mode === "write") {
    if (stale.length > 0) await client.accountBalance.deleteMany({ where: { id: { in: stale } } });
    if (newBalances.length > 0) await client.accountBalance.createMany({ data: newBalances });
  }
}

async function syncStatementBatch(client: Db | Tx, ctx: ImportContext, batch: Parsed<StatementRow>[], mode: Mode, changes: Changes): Promise<void> {
  const numbers = [...new Set(batch.map((p) => p.row.account_number))];
  const accounts = await client.account.findMany({ where: { municipalityId: ctx.options.municipalityId, number: { in: numbers } }, select: { id: true, number: true } });
  const idOf = new Map(accounts.map((a) => [a.number, a.id]));
  const existing = await client.statementLine.findMany({
    where: { accountId: { in: accounts.map((a) => a.id) }, reference: { in: [...new Set(batch.map((p) => p.row.reference))] } },
    select: { id: true, accountId: true, reference: true, currency: true, date: true, kind: true, description: true, amount: true },
  });
  const byKey = new Map(existing.map((l) => [`${l.accountId}\0${l.reference}\0${l.currency}`, l]));
  const toCreate: Prisma.StatementLineCreateManyInput[] = [];
  const updates: Array<{ id: number; data: { date: Date; kind: string; description: string; amount: string } }> = [];
  for (const { row } of batch) {
    const accountId = idOf.get(row.account_number);
    if (accountId === undefined) {
      // Only in compare mode: its account is new in this import (checked in pass 1).
      changes.lines++;
      continue;
    }
    const data = { date: utcDate(row.date), kind: row.kind, description: row.description, amount: row.amount };
    const current = byKey.get(`${accountId}\0${row.reference}\0${row.currency}`);
    if (!current) {
      changes.lines++;
      toCreate.push({ accountId, reference: row.reference, currency: row.currency, ...data });
    } else if (
      current.date.getTime() !== data.date.getTime() ||
      current.kind !== data.kind ||
      current.description !== data.description ||
      !sameAmount(data.amount, current.amount)
    ) {
      changes.lines++;
      updates.push({ id: current.id, data });
    }
  }
  if (mode === "write") {
    if (toCreate.length > 0) await client.statementLine.createMany({ data: toCreate });
    for (const { id, data } of updates) await client.statementLine.update({ where: { id }, data });
  }
}

/** The hash made while comparing; made now only if the database changed in between. */
async function hashFor(ctx: ImportContext, row: AccountRow): Promise<string> {
  return ctx.hashes.get(row.account_number) ?? (await ctx.hashCode(row.verification_code));
}

/** Compared as decimals ("150" = "150.00"); through text, as the PostgreSQL client has its own Decimal class. */
function sameAmount(text: string, stored: { toString(): string }): boolean {
  return new Prisma.Decimal(text).equals(stored.toString());
}

function isCurrency(value: string): value is Currency {
  return value === "LBP" || value === "USD";
}

/** scrypt runs on libuv's thread pool (4 threads by default): keep it busy, no more. */
function hashConcurrency(): number {
  return Math.min(4, Math.max(2, availableParallelism()));
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The lease every account import takes (nightly job, command line, upload form): one at a time. */
export const IMPORT_LEASE = "accounts-import";
/** Renewed while the import runs; a crashed importer blocks others at most this long. */
export const IMPORT_LEASE_TTL_MS = 10 * 60_000;
