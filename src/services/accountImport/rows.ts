import { z } from "zod";

export const ACCOUNT_TYPES = ["property", "business", "other"] as const;
export const CURRENCIES = ["LBP", "USD"] as const;
export const LINE_KINDS = ["charge", "payment", "adjustment"] as const;
export type Currency = (typeof CURRENCIES)[number];

/** The two files of an export. */
export type ImportFile = "accounts" | "statement";

/**
 * Why a row (or a file) was refused. Each has an English text here and in
 * locales/{ar,en}/imports.json under `errors.<key>` (a test keeps the English ones equal).
 */
export const ERROR_TEXTS = {
  emptyFile: "the file is empty (no header row)",
  encoding: "the file is not UTF-8 text (save it as \"CSV UTF-8\")",
  missingColumn: "the column {{column}} is missing",
  duplicateColumn: "the column {{column}} appears twice",
  fieldCount: "has {{found}} fields where the header has {{expected}}",
  unterminatedQuote: "a quoted field is never closed",
  badQuote: "a quote is misplaced (quote the whole field and double the quotes inside it)",
  required: "{{column}} is empty",
  tooLong: "{{column}} is too long (at most {{max}} characters)",
  accountNumber: "{{column}} may only hold letters, digits and - / . (at most 40): \"{{value}}\"",
  accountType: "{{column}} must be property, business or other, not \"{{value}}\"",
  currency: "{{column}} must be LBP or USD, not \"{{value}}\"",
  kind: "{{column}} must be charge, payment or adjustment, not \"{{value}}\"",
  number: "{{column}} is not a number: \"{{value}}\"",
  lbpDecimals: "{{column}}: LBP amounts have no decimals: \"{{value}}\"",
  usdDecimals: "{{column}}: USD amounts have at most 2 decimals: \"{{value}}\"",
  date: "{{column}} is not a real date (YYYY-MM-DD): \"{{value}}\"",
  code: "{{column}} must be 4 to 8 digits",
  duplicateCurrency: "account {{number}} already has a {{currency}} row on line {{other}}",
  inconsistent: "account {{number}} has a different holder, type, description or verification code on line {{other}}",
  duplicateReference: "reference {{reference}} ({{currency}}) of account {{number}} is already on line {{other}}",
  unknownAccount: "account {{number}} is neither in the accounts file nor in the database",
  fileChanged: "the file changed while it was being imported; nothing was imported",
} as const;
export type ImportErrorKey = keyof typeof ERROR_TEXTS;

/** A refused row: where, why (a key and its parameters, for translation) and why in English. */
export interface ImportError {
  file: ImportFile;
  /** The physical line where the record starts (header = 1); 0 for the file as a whole. */
  line: number;
  key: ImportErrorKey;
  params: Record<string, string | number>;
  /** The reason in English (logs, ImportRun.error, the CLI's default language). */
  message: string;
}

/** Fills `{{name}}` placeholders, as i18next does. */
export function fillText(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(params[name] ?? ""));
}

export function importError(file: ImportFile, line: number, key: ImportErrorKey, params: Record<string, string | number> = {}): ImportError {
  return { file, line, key, params, message: fillText(ERROR_TEXTS[key], params) };
}

// Finance systems and phones sometimes write Arabic-Indic (٠-٩) or Persian (۰-۹) digits.
// Both blocks start at a multiple of 16, so the low four bits are the digit's value.
export const foldDigits = (text: string) => text.replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) & 0xf));

/** A zod string whose issues carry our error keys; `path[0]` names the column. */
const text = (max: number) => z.string().trim().max(max, "tooLong");
const requiredText = (max: number) => text(max).min(1, "required");
const accountNumber = z
  .string()
  .trim()
  .min(1, "required")
  .transform(foldDigits)
  .pipe(z.string().regex(/^[\p{L}\p{N}][\p{L}\p{N}/._-]{0,39}$/u, "accountNumber"));
const oneOf = <T extends readonly [string, ...string[]]>(values: T, key: ImportErrorKey, normalise: (s: string) => string) =>
  z
    .string()
    .trim()
    .min(1, "required")
    .transform(normalise)
    .pipe(z.enum(values, key));
// "1500000", "1,500,000", "-25.5", "1,234.56": grouping must be by threes, like the finance system prints.
const AMOUNT = /^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$/;
const amount = z
  .string()
  .trim()
  .min(1, "required")
  .transform(foldDigits)
  .pipe(z.string().regex(AMOUNT, "number"))
  .transform((s) => s.replaceAll(",", ""));
const isoDate = z
  .string()
  .trim()
  .min(1, "required")
  .transform(foldDigits)
  .refine((s) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
    // 2026-02-30 parses as 2 March: a real date reads back the same.
    const date = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(s);
  }, "date");

/** The columns of the accounts file; `description` may be left out. */
export const AccountRow = z.object({
  account_number: accountNumber,
  holder_name: requiredText(200),
  account_type: oneOf(ACCOUNT_TYPES, "accountType", (s) => s.toLowerCase()),
  description: text(500).default(""),
  currency: oneOf(CURRENCIES, "currency", (s) => s.toUpperCase()),
  amount_due: amount,
  due_date: isoDate,
  verification_code: z.string().trim().min(1, "required").transform(foldDigits).pipe(z.string().regex(/^\d{4,8}$/, "code")),
});
export type AccountRow = z.infer<typeof AccountRow>;

/** The columns of the statement file; `description` may be left out. */
export const StatementRow = z.object({
  account_number: accountNumber,
  date: isoDate,
  kind: oneOf(LINE_KINDS, "kind", (s) => s.toLowerCase()),
  description: text(500).default(""),
  currency: oneOf(CURRENCIES, "currency", (s) => s.toUpperCase()),
  amount,
  reference: requiredText(80),
});
export type StatementRow = z.infer<typeof StatementRow>;

const OPTIONAL_COLUMNS = new Set(["description"]);
export const COLUMNS: Record<ImportFile, readonly string[]> = {
  accounts: Object.keys(AccountRow.shape),
  statement: Object.keys(StatementRow.shape),
};

/** Where each known column is in a file, from its header row (names in any case, spaces or underscores). */
export type ColumnIndex = Map<string, number>;

export function readHeader(file: ImportFile, header: string[]): { columns: ColumnIndex } | { errors: ImportError[] } {
  const errors: ImportError[] = [];
  const columns: ColumnIndex = new Map();
  header.forEach((raw, index) => {
    const name = raw.trim().toLowerCase().replace(/[\s-]+/g, "_");
    if (!COLUMNS[file].includes(name)) return; // extra columns are the finance system's business
    if (columns.has(name)) errors.push(importError(file, 1, "duplicateColumn", { column: name }));
    else columns.set(name, index);
  });
  for (const column of COLUMNS[file]) {
    if (!columns.has(column) && !OPTIONAL_COLUMNS.has(column)) errors.push(importError(file, 1, "missingColumn", { column }));
  }
  return errors.length > 0 ? { errors } : { columns };
}

/** The fields of a record by column name (absent optional columns are left out). */
export function fieldsByColumn(columns: ColumnIndex, fields: string[]): Record<string, string> | { expected: number; found: number } {
  const values: Record<string, string> = {};
  let needed = 0;
  for (const [name, index] of columns) {
    needed = Math.max(needed, index + 1);
    const value = fields[index];
    if (value !== undefined) values[name] = value;
  }
  return fields.length < needed ? { expected: needed, found: fields.length } : values;
}

function isErrorKey(key: string): key is ImportErrorKey {
  return Object.hasOwn(ERROR_TEXTS, key);
}

/** Errors that quote the refused value: never a name (personal) nor a verification code (secret). */
const QUOTES_VALUE: ReadonlySet<ImportErrorKey> = new Set(["accountNumber", "accountType", "currency", "kind", "number", "lbpDecimals", "usdDecimals", "date"]);

/** The value shown in an error: short, on one line. */
export const shownValue = (value: string | undefined) => (value ?? "").trim().replace(/\s+/g, " ").slice(0, 40);

/** One error per refused field, in the order of the columns. */
export function rowErrors(file: ImportFile, line: number, error: z.ZodError, values: Record<string, string>): ImportError[] {
  return error.issues.map((issue) => {
    const column = String(issue.path[0] ?? "");
    const key = isErrorKey(issue.message) ? issue.message : "required";
    const params: Record<string, string | number> = { column };
    if (issue.code === "too_big") params.max = Number(issue.maximum);
    if (QUOTES_VALUE.has(key)) params.value = shownValue(values[column]);
    return importError(file, line, key, params);
  });
}

/** LBP is whole lira; USD has at most cents. Null when the amount suits its currency. */
export function decimalsError(currency: Currency, amountText: string): "lbpDecimals" | "usdDecimals" | null {
  const decimals = amountText.split(".")[1]?.replace(/0+$/, "").length ?? 0;
  if (currency === "LBP" && decimals > 0) return "lbpDecimals";
  if (currency === "USD" && decimals > 2) return "usdDecimals";
  return null;
}

/** A UTC midnight from YYYY-MM-DD (already checked to be a real date). */
export const utcDate = (iso: string) => new Date(`${iso}T00:00:00Z`);
