import { access, constants } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { TFunction } from "i18next";
import { prepareDatabase } from "../boot.js";
import { ConfigError, loadConfig, loadDotEnv } from "../config.js";
import type { Db } from "../db/createDb.js";
import { createI18n } from "../i18n/createI18n.js";
import { createLogger } from "../lib/logger.js";
import { IMPORT_LEASE, IMPORT_LEASE_TTL_MS, importAccounts, type ImportProgress, type ImportResult } from "../services/accountImport/importAccounts.js";
import type { ImportError } from "../services/accountImport/rows.js";
import { withLease, type LeaseResult } from "../services/jobLease.js";
import { runAsScript } from "./runCli.js";

/** Where the command writes: a terminal gets one progress line updated in place, anything else plain lines. */
export interface CliOutput {
  out: (text: string) => void;
  err: (text: string) => void;
  tty: boolean;
}

export interface AccountImportRun {
  db: Db;
  municipalityId: string;
  accounts: string;
  statement?: string | undefined;
  /** Texts of the `imports` namespace in the operator's language. */
  t: TFunction;
  output: CliOutput;
  now: Date;
  holder: string;
  hashCode?: (code: string) => Promise<string>;
  /** See ImportOptions.digestKey (config.accounts.pinKey). */
  digestKey?: string | undefined;
}

/** Rows between two plain progress lines when the output is not a terminal (a log file). */
const PLAIN_PROGRESS_EVERY = 50_000;

/**
 * Imports an export as `npm run accounts:import` does, printing progress, then a summary or every
 * bad row ("accounts.csv line 17: amount_due is not a number"). Returns the exit code: 0 imported
 * (or already up to date), 1 refused or another import running.
 */
export async function runAccountImport(run: AccountImportRun): Promise<number> {
  const { t, output } = run;
  const names = { accounts: path.basename(run.accounts), statement: run.statement ? path.basename(run.statement) : "" };
  const started = performance.now();
  let progressShown = false;
  const onProgress = (p: ImportProgress) => {
    const line = String(t("cli.progress", { file: names[p.file], phase: t(`phase.${p.phase}`), rows: t("count.rows", { count: p.rows }) }));
    if (output.tty) {
      output.out(`\r\x1b[2K${line}${p.done ? "\n" : ""}`);
      progressShown = !p.done;
    } else if (p.done || p.rows % PLAIN_PROGRESS_EVERY === 0) output.out(`${line}\n`);
  };
  let leased: LeaseResult<ImportResult>;
  try {
    leased = await withLease(run.db, IMPORT_LEASE, run.holder, IMPORT_LEASE_TTL_MS, run.now, () =>
      importAccounts(run.db, {
        municipalityId: run.municipalityId,
        accounts: run.accounts,
        statement: run.statement,
        source: `cli:${[names.accounts, names.statement].filter(Boolean).join("+")}`,
        now: run.now,
        onProgress,
        ...(run.hashCode ? { hashCode: run.hashCode } : {}),
        ...(run.digestKey ? { digestKey: run.digestKey } : {}),
      }),
    );
  } finally {
    if (progressShown) output.out("\n");
  }
  if (!leased.acquired) {
    output.err(`${t("summary.busy")}\n`);
    return 1;
  }
  const result = leased.value;
  if (!result.ok) {
    for (const error of result.errors) output.err(`${errorLine(t, names, error)}\n`);
    if (result.errorCount > result.errors.length) output.err(`${t("summary.more", { count: result.errorCount - result.errors.length })}\n`);
    output.err(`${t("summary.refused", { errors: t("count.errors", { count: result.errorCount }) })}\n`);
    return 1;
  }
  const counts = { accounts: t("count.accounts", { count: result.accounts }), lines: t("count.lines", { count: result.lines }) };
  const changes = result.changed.accounts + result.changed.balances + result.changed.lines;
  const summary = result.unchanged ? t("summary.unchanged", counts) : t("summary.imported", { ...counts, changes: t("count.changes", { count: changes }) });
  output.out(`${summary} ${t("cli.took", { seconds: ((performance.now() - started) / 1000).toFixed(1) })}\n`);
  return 0;
}

/** "accounts.csv line 17: amount_due is not a number", in the operator's language. */
export function errorLine(t: TFunction, names: Record<ImportError["file"], string>, error: ImportError): string {
  const message = String(t(`errors.${error.key}`, error.params));
  return error.line > 0 ? String(t("cli.errorLine", { file: names[error.file], line: error.line, message })) : String(t("cli.errorFile", { file: names[error.file], message }));
}

/** `npm run accounts:import -- accounts.csv [statement.csv] [--ui ar]` */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { ui: { type: "string", default: "en" }, help: { type: "boolean", default: false } },
  });
  const t = createI18n().getFixedT(values.ui === "ar" ? "ar" : "en", "imports");
  if (values.help) {
    console.log(t("cli.usage"));
    return 0;
  }
  const [accounts, statement, ...extra] = positionals;
  if (!accounts || extra.length > 0) throw new ConfigError(String(t("cli.usage")));
  for (const file of [accounts, statement]) {
    if (file === undefined) continue;
    try {
      await access(file, constants.R_OK);
    } catch {
      throw new ConfigError(String(t("cli.cannotRead", { file })));
    }
  }

  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config.log.level === "info" ? "warn" : config.log.level);
  const db = await prepareDatabase(config, logger);
  try {
    return await runAccountImport({
      db,
      municipalityId: config.municipality.id,
      accounts,
      statement,
      t,
      output: { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), tty: Boolean(process.stdout.isTTY) },
      now: new Date(),
      holder: `cli:${hostname()}:${process.pid}`,
      digestKey: config.accounts.pinKey,
    });
  } finally {
    await db.$disconnect();
  }
}

runAsScript(import.meta.url, main);
