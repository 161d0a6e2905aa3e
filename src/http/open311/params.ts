import type { Request } from "express";
import type { Locale } from "../../conversation/types.js";
import { HttpError } from "../../lib/httpError.js";
import type { PublicRequestsQuery } from "../../services/open311/types.js";
import { beirutInstant } from "../../services/surveys/recurrence.js";
import { Open311Error } from "./respond.js";

/** A parsed query string, as express gives it: only what these functions read. */
export type Query = Readonly<Record<string, unknown>>;

const DAY_MS = 24 * 3600_000;
/** GET requests: the widest date range and the most results one answer may hold (the specification's). */
export const HOUR_MS = 3_600_000;
const MAX_RANGE_DAYS = 90;
export const MAX_RESULTS = 1000;
// References are 32-bit integers in the database: PostgreSQL refuses a larger one with an error.
const MAX_REFERENCE = 2_147_483_647;
const MAX_LISTED = 1000;
// A query full of bad values gets a readable answer, not one error per value.
const MAX_PROBLEMS = 10;

/**
 * Every value a query string gives for `name`: repeated keys and comma-separated lists both count
 * (the specification allows either), blanks dropped. An empty value counts as absent.
 */
export function queryValues(query: Query, name: string): string[] {
  const raw = query[name];
  const given = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return given
    .filter((v): v is string => typeof v === "string")
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** A path parameter as one string ("" when absent; express types wildcards as lists). */
export function pathParam(req: Request, name: string): string {
  const value: unknown = req.params[name];
  return typeof value === "string" ? value : "";
}

/** A value quoted in an error, short enough to read (error text is escaped like any other). */
const quoted = (value: string) => JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);

/**
 * The language of names and descriptions: `locale=ar|en` (a longer tag such as ar-LB counts as
 * its language), else the Accept-Language header, else English.
 */
export function localeOf(req: Request): Locale {
  const asked = queryValues(req.query, "locale")[0]?.slice(0, 2).toLowerCase();
  if (asked === "ar" || asked === "en") return asked;
  return req.acceptsLanguages("en", "ar") === "ar" ? "ar" : "en";
}

/**
 * Refuses a request for another jurisdiction with 404, as the specification says. `jurisdiction_id`
 * is optional (this server has one); an empty one counts as absent; case does not matter.
 */
export function checkJurisdiction(query: Query, jurisdictionId: string): void {
  const raw = query.jurisdiction_id;
  const given = (Array.isArray(raw) ? raw : [raw]).filter((v) => v !== undefined && !(typeof v === "string" && v.trim() === ""));
  if (given.length === 0) return;
  if (given.length > 1) throw new HttpError(400, "jurisdiction_id: give it once");
  const [value] = given;
  if (typeof value !== "string" || value.trim().toLowerCase() !== jurisdictionId) throw new HttpError(404, `jurisdiction_id: ${quoted(String(value))} is not served here; this server serves ${jurisdictionId}`);
}

/**
 * The filters of GET requests, read and checked; every problem is reported at once (400).
 * `service_request_id` (comma-separated request numbers) overrides everything else. Otherwise:
 * `service_code` and `status` (open|closed) may repeat or be comma-separated; `start_date` and
 * `end_date` are W3C date-times with an offset, or dates (whole days in Beirut); they default to the
 * last 90 days, may be at most 90 days apart, and filter on when the request was made.
 */
export function readRequestsQuery(query: Query, now: Date): PublicRequestsQuery {
  const problems: string[] = [];
  const ids = queryValues(query, "service_request_id");
  if (ids.length > 0) {
    const references: number[] = [];
    if (ids.length > MAX_LISTED) problems.push(`service_request_id: at most ${MAX_LISTED} at once`);
    for (const id of ids) {
      if (/^\d{1,10}$/.test(id) && Number(id) <= MAX_REFERENCE) references.push(Number(id));
      else problems.push(`service_request_id: ${quoted(id)} is not a request number`);
    }
    if (problems.length > 0) throw new Open311Error(400, problems.slice(0, MAX_PROBLEMS));
    return { kind: "ids", references: [...new Set(references)] };
  }

  const serviceCodes = [...new Set(queryValues(query, "service_code"))];
  if (serviceCodes.some((c) => c.length > 100)) problems.push("service_code: a code is at most 100 characters");
  if (serviceCodes.length > MAX_LISTED) problems.push(`service_code: at most ${MAX_LISTED} at once`);

  const statuses: Array<"open" | "closed"> = [];
  for (const status of queryValues(query, "status")) {
    const lower = status.toLowerCase();
    if (lower === "open" || lower === "closed") {
      if (!statuses.includes(lower)) statuses.push(lower);
    } else problems.push(`status: ${quoted(status)} is neither open nor closed`);
  }

  const start = dateParam(query, "start_date", problems);
  const end = dateParam(query, "end_date", problems);
  let range: { start: Date; end: Date } | null = null;
  if (start !== undefined && end !== undefined) {
    const span = MAX_RANGE_DAYS * DAY_MS;
    const from = start ?? new Date((end?.nominal ?? now).getTime() - span);
    const ninetyDaysOn = start && new Date(start.getTime() + span);
    const to = end ?? (ninetyDaysOn ? { nominal: ninetyDaysOn, after: ninetyDaysOn } : instantBound(now));
    if (from > to.nominal) problems.push("start_date: must not be after end_date");
    // 90 calendar days in Beirut: one of them may be 25 hours long (the autumn clock change).
    else if (to.nominal.getTime() - from.getTime() > span + HOUR_MS) problems.push(`end_date: at most ${MAX_RANGE_DAYS} days after start_date`);
    else range = { start: from, end: to.after };
  }

  if (problems.length > 0 || !range) throw new Open311Error(400, problems.slice(0, MAX_PROBLEMS));
  return { kind: "search", serviceCodes, statuses: statuses.length > 0 ? statuses : ["open", "closed"], start: range.start, end: range.end, limit: MAX_RESULTS };
}

// W3C date-time (https://www.w3.org/TR/NOTE-datetime): minutes at least, seconds and fractions
// optional, an offset required. "+" in an unencoded query string arrives as a space: accepted.
const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?(Z|[+\- ]\d\d:?\d\d)$/;
const DATE = /^(\d{4})-(\d\d)-(\d\d)$/;

/**
 * A start_date or end_date: undefined when the value is bad (the problem is recorded), null when
 * absent. `start_date` is the instant the range starts at; `end_date` is read as including its
 * whole second, or its whole day for a date: `nominal` is what the 90-day rule measures to,
 * `after` the first instant outside the range.
 */
function dateParam(query: Query, name: "start_date", problems: string[]): Date | null | undefined;
function dateParam(query: Query, name: "end_date", problems: string[]): { nominal: Date; after: Date } | null | undefined;
function dateParam(query: Query, name: "start_date" | "end_date", problems: string[]): Date | { nominal: Date; after: Date } | null | undefined {
  const values = queryValues(query, name);
  if (values.length === 0) return null;
  const explain = `${name}: ${quoted(values[0]!)} is not a date-time with its offset (2026-03-14T08:30:00+02:00) or a date (2026-03-14)`;
  if (values.length > 1) {
    problems.push(`${name}: give it once`);
    return undefined;
  }
  const value = values[0]!;
  const day = DATE.exec(value);
  if (day) {
    const [year, month, date] = [day[1], day[2], day[3]].map(Number) as [number, number, number];
    if (!realDate(year, month, date)) return void problems.push(explain);
    const startOfDay = beirutInstant(year, month, date, 0, 0);
    if (name === "start_date") return startOfDay;
    const next = new Date(Date.UTC(year, month - 1, date + 1));
    const nextDay = beirutInstant(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), 0, 0);
    return { nominal: nextDay, after: nextDay };
  }
  const m = DATE_TIME.exec(value);
  if (!m) return void problems.push(explain);
  const [year, month, date, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number) as [number, number, number, number, number, number];
  if (!realDate(year, month, date) || hour > 23 || minute > 59 || second > 59) return void problems.push(explain);
  const zone = m[8]!;
  const offsetMinutes = zone === "Z" ? 0 : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  if (Math.abs(offsetMinutes) > 14 * 60) return void problems.push(explain);
  const fraction = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  const at = new Date(Date.UTC(year, month - 1, date, hour, minute, second, fraction) - offsetMinutes * 60_000);
  if (name === "start_date") return at;
  return { nominal: at, after: new Date(Math.floor(at.getTime() / 1000) * 1000 + 1000) };
}

/** The default end, now: the instant itself is in the range. */
function instantBound(at: Date): { nominal: Date; after: Date } {
  return { nominal: at, after: new Date(at.getTime() + 1) };
}

/** A calendar date that exists (no 30 February), in years a database stores without surprises. */
function realDate(year: number, month: number, day: number): boolean {
  if (year < 1970 || month < 1 || month > 12 || day < 1) return false;
  return new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
}
