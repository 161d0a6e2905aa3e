import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { Db } from "../db/createDb.js";
import { IMPORT_LEASE, IMPORT_LEASE_TTL_MS, importAccounts, importFingerprint, type ImportOptions } from "../services/accountImport/importAccounts.js";
import { fileSha256 } from "../services/accountImport/readCsv.js";
import { withLease } from "../services/jobLease.js";

export interface ImportDropFolderDeps {
  db: Db;
  municipalityId: string;
  /** The folder the finance system writes its export to (config.accounts.dropDir). */
  dropDir: string;
  logger: Logger;
  /** This instance, in the lease (e.g. `${hostname()}:${process.pid}`). */
  holder: string;
  /** Files modified less than this long ago may still be being written: wait for the next run (60 s). */
  settleMs?: number;
  /** For tests: a cheaper hash of verification codes. */
  hashCode?: ImportOptions["hashCode"];
  /** See ImportOptions.digestKey (config.accounts.pinKey). */
  digestKey?: string | undefined;
}

export type DropFolderResult =
  | { status: "no_folder" }
  | { status: "no_file" }
  | { status: "settling"; file: string }
  | { status: "busy"; file: string }
  | { status: "already_imported"; file: string }
  | { status: "invalid"; file: string; errorCount: number }
  | { status: "imported"; file: string; statement: string | null; accounts: number; lines: number; unchanged: boolean };

/** `accounts<suffix>.csv`; its statement is `statement<suffix>.csv` with the same suffix. */
const ACCOUNTS_FILE = /^accounts(.*)\.csv$/i;

/**
 * The nightly import: takes the newest `accounts*.csv` of the drop folder (by modification time,
 * then name) with the `statement*.csv` of the same export (same suffix: accounts-2026-11-28.csv goes
 * with statement-2026-11-28.csv), and imports them once: under a database lease, so that one
 * instance imports while the others skip, and not at all when the same files (by SHA-256) already
 * have a finished ImportRun. Older exports are never imported. Files still being written (modified
 * in the last minute) wait for the next run. Never throws for a bad file: the ImportRun and the log
 * say what was wrong.
 */
export async function importDropFolder(deps: ImportDropFolderDeps, now: Date): Promise<DropFolderResult> {
  const { db, logger, municipalityId } = deps;
  const exportFiles = await newestExport(deps.dropDir);
  if (exportFiles === "no_folder") {
    logger.warn({ dropDir: deps.dropDir }, "accounts drop folder does not exist");
    return { status: "no_folder" };
  }
  if (!exportFiles) return { status: "no_file" };
  const file = path.basename(exportFiles.accounts.path);
  const settleMs = deps.settleMs ?? 60_000;
  if (Math.max(exportFiles.accounts.mtimeMs, exportFiles.statement?.mtimeMs ?? 0) > now.getTime() - settleMs) {
    logger.info({ file }, "accounts export is still recent, importing it next time");
    return { status: "settling", file };
  }

  const leased = await withLease(db, IMPORT_LEASE, deps.holder, IMPORT_LEASE_TTL_MS, now, async (): Promise<DropFolderResult> => {
    const sha256 = importFingerprint(await fileSha256(exportFiles.accounts.path), exportFiles.statement ? await fileSha256(exportFiles.statement.path) : null);
    const done = await db.importRun.findFirst({ where: { municipalityId, sha256, status: "done" }, select: { id: true } });
    if (done) return { status: "already_imported", file };
    const result = await importAccounts(db, {
      municipalityId,
      accounts: exportFiles.accounts.path,
      statement: exportFiles.statement?.path,
      source: `drop:${file}`,
      now,
      ...(deps.hashCode ? { hashCode: deps.hashCode } : {}),
      ...(deps.digestKey ? { digestKey: deps.digestKey } : {}),
    });
    if (!result.ok) {
      logger.error({ file, runId: result.runId, errorCount: result.errorCount, errors: result.errors.slice(0, 10).map((e) => `${e.file} line ${e.line}: ${e.message}`) }, "accounts export refused, nothing imported");
      return { status: "invalid", file, errorCount: result.errorCount };
    }
    const statement = exportFiles.statement ? path.basename(exportFiles.statement.path) : null;
    logger.info({ file, statement, runId: result.runId, accounts: result.accounts, lines: result.lines, changed: result.changed }, "accounts export imported");
    return { status: "imported", file, statement, accounts: result.accounts, lines: result.lines, unchanged: result.unchanged };
  });
  if (!leased.acquired) {
    logger.info({ file }, "another instance is importing accounts");
    return { status: "busy", file };
  }
  return leased.value;
}

interface Found {
  path: string;
  mtimeMs: number;
}

/** The newest accounts file and its statement, null for none, "no_folder" when the folder is missing. */
async function newestExport(dir: string): Promise<{ accounts: Found; statement: Found | null } | null | "no_folder"> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT") return "no_folder";
    throw error;
  }
  const candidates: Array<Found & { name: string; suffix: string }> = [];
  for (const name of names) {
    const suffix = ACCOUNTS_FILE.exec(name)?.[1];
    if (suffix === undefined) continue;
    const info = await stat(path.join(dir, name));
    if (info.isFile()) candidates.push({ name, suffix, path: path.join(dir, name), mtimeMs: info.mtimeMs });
  }
  candidates.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  const newest = candidates[0];
  if (!newest) return null;
  const statementName = names.find((n) => n.toLowerCase() === `statement${newest.suffix}.csv`.toLowerCase());
  if (!statementName) return { accounts: newest, statement: null };
  const statementPath = path.join(dir, statementName);
  return { accounts: newest, statement: { path: statementPath, mtimeMs: (await stat(statementPath)).mtimeMs } };
}
