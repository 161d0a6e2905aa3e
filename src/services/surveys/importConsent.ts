import type { Db, Tx } from "../../db/createDb.js";
import { toE164 } from "../../lib/phone.js";
import { CsvParser, type CsvRecord } from "../accountImport/readCsv.js";

/**
 * The town's registration drives collect phone numbers of residents who agreed to receive surveys;
 * staff upload them as CSV (`phone, language, area, consent_source`, header required). Every row is
 * checked first: one bad row and nothing is written. A resident who said STOP, or left surveys, is
 * never joined again by an import: they are reported as skipped.
 */

/** The most rows one upload may hold (a 2 MB file holds about 40,000). */
export const MAX_CONSENT_ROWS = 50_000;
const MAX_ERRORS = 100;
const MAX_SOURCE = 80;
const MAX_AREA = 100;

/** Why a file or a row was refused; the page maps each to a message (surveys:import.errors.*). */
export type ConsentImportErrorKey = "header" | "empty" | "tooManyRows" | "csv" | "columns" | "phone" | "language" | "consentSource" | "area" | "duplicate" | "control";
export interface ConsentImportError {
  /** The file's line (the header is line 1); 0 for the whole file. */
  line: number;
  key: ConsentImportErrorKey;
  params?: Record<string, string | number>;
}

/** Why a valid row changed nothing. */
export type ConsentSkipReason = "opted_out" | "left_surveys";
export interface ConsentSkip {
  line: number;
  phone: string;
  reason: ConsentSkipReason;
}

export type ConsentImportResult =
  | {
      ok: true;
      /** Residents who joined surveys with this import (`created` of them are new residents). */
      joined: number;
      created: number;
      /** Residents who had already joined: their area (and language, if unknown) were updated. */
      updated: number;
      skipped: ConsentSkip[];
    }
  | { ok: false; errors: ConsentImportError[]; errorCount: number };

interface ConsentRow {
  line: number;
  phone: string;
  locale: "ar" | "en" | null;
  area: string | null;
  source: string;
}

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;
const COLUMNS = ["phone", "language", "area", "consent_source"] as const;

/** Reads and checks the whole file; rows only when every one is good. */
export function parseConsentCsv(csvText: string): { rows: ConsentRow[]; errors: ConsentImportError[]; errorCount: number } {
  const parser = new CsvParser();
  const records: CsvRecord[] = parser.push(csvText.replace(/^\uFEFF/, ""));
  const last = parser.end();
  if (last) records.push(last);
  const errors: ConsentImportError[] = [];
  let errorCount = 0;
  const fail = (error: ConsentImportError) => {
    errorCount++;
    if (errors.length < MAX_ERRORS) errors.push(error);
  };
  const header = records.shift();
  const names = header?.fields.map((f) => f.trim().toLowerCase()) ?? [];
  const index = Object.fromEntries(COLUMNS.map((c) => [c, names.indexOf(c)])) as Record<(typeof COLUMNS)[number], number>;
  if (!header || header.error || index.phone < 0 || index.consent_source < 0 || names.some((n) => !(COLUMNS as readonly string[]).includes(n))) {
    fail({ line: header?.line ?? 1, key: "header", params: { columns: COLUMNS.join(", ") } });
    return { rows: [], errors, errorCount };
  }
  if (records.length === 0) {
    fail({ line: 0, key: "empty" });
    return { rows: [], errors, errorCount };
  }
  if (records.length > MAX_CONSENT_ROWS) {
    fail({ line: 0, key: "tooManyRows", params: { max: MAX_CONSENT_ROWS } });
    return { rows: [], errors, errorCount };
  }
  const rows: ConsentRow[] = [];
  const seen = new Map<string, number>();
  for (const record of records) {
    const { line, fields } = record;
    if (record.error) {
      fail({ line, key: "csv" });
      continue;
    }
    if (fields.length !== names.length) {
      fail({ line, key: "columns", params: { expected: names.length, found: fields.length } });
      continue;
    }
    const field = (c: (typeof COLUMNS)[number]) => (index[c] >= 0 ? (fields[index[c]] ?? "").trim() : "");
    const rawPhone = field("phone");
    const phone = toE164(rawPhone);
    const language = field("language").toLowerCase();
    const area = field("area");
    const source = field("consent_source");
    let bad = false;
    if (!phone) {
      fail({ line, key: "phone", params: { value: rawPhone.slice(0, 40) } });
      bad = true;
    }
    if (language !== "" && language !== "ar" && language !== "en") {
      fail({ line, key: "language", params: { value: language.slice(0, 20) } });
      bad = true;
    }
    if (source === "" || source.length > MAX_SOURCE) {
      fail({ line, key: "consentSource", params: { max: MAX_SOURCE } });
      bad = true;
    }
    if (area.length > MAX_AREA) {
      fail({ line, key: "area", params: { max: MAX_AREA } });
      bad = true;
    }
    // A stray NUL or direction mark from a spreadsheet: PostgreSQL refuses the first, and the second
    // would make an area never match its name.
    if (CONTROL.test(area) || CONTROL.test(source)) {
      fail({ line, key: "control" });
      bad = true;
    }
    if (phone && seen.has(phone)) {
      fail({ line, key: "duplicate", params: { first: seen.get(phone)! } });
      bad = true;
    }
    if (phone && !seen.has(phone)) seen.set(phone, line);
    if (bad || !phone) continue;
    rows.push({ line, phone, locale: language === "" ? null : (language as "ar" | "en"), area: area === "" ? null : area, source });
  }
  return errorCount > 0 ? { rows: [], errors, errorCount } : { rows, errors, errorCount };
}

/** Imports a consent file (see the module comment). All or nothing, in one transaction. */
export async function importConsent(db: Db, municipalityId: string, csvText: string, now: Date): Promise<ConsentImportResult> {
  const parsed = parseConsentCsv(csvText);
  if (parsed.errorCount > 0) return { ok: false, errors: parsed.errors, errorCount: parsed.errorCount };
  return db.$transaction((tx) => writeConsent(tx, municipalityId, parsed.rows, now), { maxWait: 30_000, timeout: 10 * 60_000 });
}

async function writeConsent(tx: Tx, municipalityId: string, rows: ConsentRow[], now: Date): Promise<ConsentImportResult> {
  let joined = 0;
  let created = 0;
  let updated = 0;
  const skipped: ConsentSkip[] = [];
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500);
    const existing = await tx.resident.findMany({
      where: { municipalityId, phone: { in: chunk.map((r) => r.phone) } },
      select: { id: true, phone: true, locale: true, optedOut: true, surveyJoinedAt: true, surveyLeftAt: true },
    });
    const byPhone = new Map(existing.map((r) => [r.phone, r]));
    const toCreate = [];
    for (const row of chunk) {
      const resident = byPhone.get(row.phone);
      const source = `import:${row.source}`;
      if (!resident) {
        toCreate.push({ municipalityId, phone: row.phone, locale: row.locale, area: row.area, surveyJoinedAt: now, surveySource: source, createdAt: now, updatedAt: now });
        continue;
      }
      // STOP silences everything, and leaving surveys is the resident's own choice: an import never overrides either.
      if (resident.optedOut) {
        skipped.push({ line: row.line, phone: row.phone, reason: "opted_out" });
        continue;
      }
      if (resident.surveyLeftAt) {
        skipped.push({ line: row.line, phone: row.phone, reason: "left_surveys" });
        continue;
      }
      const locale = resident.locale ?? row.locale;
      if (resident.surveyJoinedAt) {
        // Already joined (by keyword, offer or an earlier import): when and how they joined is kept.
        await tx.resident.update({ where: { id: resident.id }, data: { locale, ...(row.area ? { area: row.area } : {}), updatedAt: now } });
        updated++;
      } else {
        await tx.resident.update({ where: { id: resident.id }, data: { locale, ...(row.area ? { area: row.area } : {}), surveyJoinedAt: now, surveySource: source, updatedAt: now } });
        joined++;
      }
    }
    if (toCreate.length > 0) await tx.resident.createMany({ data: toCreate });
    created += toCreate.length;
    joined += toCreate.length;
  }
  return { ok: true, joined, created, updated, skipped };
}
