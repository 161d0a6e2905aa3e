import type { Request } from "express";
import type { Locale } from "../../conversation/types.js";
import { HttpError } from "../../lib/httpError.js";
import { BIDI_CONTROLS, BIDI_OVERRIDES, CONTROLS_BUT_LINE_BREAKS } from "../../lib/invisibleText.js";
import type { Open311FilingInput } from "../../services/open311/filing.js";
import { MAX_DESCRIPTION, MAX_REFERENCE } from "../../services/open311/requests.js";
import type { PublicRequestsQuery } from "../../services/open311/types.js";
import type { UpdatesQuery } from "../../services/open311/updates.js";
import { beirutInstant } from "../../services/surveys/recurrence.js";
import { Open311Error } from "./respond.js";

/** A parsed query string, as express gives it: only what these functions read. */
export type Query = Readonly<Record<string, unknown>>;

const DAY_MS = 24 * 3600_000;
/** GET requests: the widest date range and the most results one answer may hold (the specification's). */
export const HOUR_MS = 3_600_000;
const MAX_RANGE_DAYS = 90;
export const MAX_RESULTS = 1000;
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
// What JSON.stringify leaves raw but an error must not print as it is: DEL, C1 and direction controls.
const SHOWN_ESCAPED = new RegExp(`[\\u007f-\\u009f${BIDI_CONTROLS}]`, "gu");
const quoted = (value: string) =>
  JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value).replace(SHOWN_ESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

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

  const range = readDateRange(query, now, problems);
  if (problems.length > 0 || !range) throw new Open311Error(400, problems.slice(0, MAX_PROBLEMS));
  return { kind: "search", serviceCodes, statuses: statuses.length > 0 ? statuses : ["open", "closed"], start: range.start, end: range.end, limit: MAX_RESULTS };
}


/**
 * `start_date` and `end_date` as GET requests and servicerequestupdates read them: W3C date-times
 * with an offset, or dates (whole days in Beirut); they default to the last 90 days, may be at most
 * 90 days apart. Null when a problem was recorded.
 */
function readDateRange(query: Query, now: Date, problems: string[]): { start: Date; end: Date } | null {
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

  return range;
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

/**
 * servicerequestupdates' window: `start_date` and `end_date` as for GET requests (the last 90 days
 * when absent, at most 90 days apart). Every problem at once (400).
 */
export function readUpdatesQuery(query: Query, now: Date): UpdatesQuery {
  const problems: string[] = [];
  const range = readDateRange(query, now, problems);
  if (problems.length > 0 || !range) throw new Open311Error(400, problems.slice(0, MAX_PROBLEMS));
  return { start: range.start, end: range.end, limit: MAX_RESULTS };
}

/** A form as express's url-encoded parser (extended: false) or the multipart reader gives it. */
export type Form = Readonly<Record<string, string | string[] | undefined>>;

const MAX_MEDIA_URLS = 10;
const MAX_URL = 2000;
const MAX_ADDRESS = 500;
const MAX_NAME = 100;
const MAX_ID_TEXT = 200;
const MAX_PHONE_TEXT = 40;
const MAX_EMAIL = 254;
const MAX_ATTRIBUTE_VALUES = 50;
const MAX_ATTRIBUTES = 60;
// attribute[code] or attribute[code][] (the specification's two spellings of a list).
const ATTRIBUTE_FIELD = /^attribute\[([^\][]{1,100})\](\[\])?$/;
const DECIMAL_DEGREES = /^[+-]?\d{1,3}(\.\d{1,15})?$/;
const EMAIL_SHAPE = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/u;
// Control characters (line breaks aside, where they are allowed) and the invisible direction overrides.
const CONTROL = new RegExp(`[${CONTROLS_BUT_LINE_BREAKS}${BIDI_OVERRIDES}]`, "u");
// eslint-disable-next-line no-control-regex
const LINE_BREAK = /[\r\n\u2028\u2029]/u;
const codePoints = (text: string) => [...text].length;

/**
 * POST requests' form, read and checked (GeoReport v2: form-encoded, every argument optional but
 * `service_code` and a location): every problem at once, naming the parameter (400). Empty values
 * count as absent. Text is trimmed; `description` keeps its line breaks, one-line fields refuse
 * them. What needs the database (the service, its questions, the place, the phone number) is the
 * service's to check. `locale` is the ticket's language.
 */
export function readFilingForm(form: Form, locale: Locale): Open311FilingInput {
  const problems: string[] = [];
  const one = (name: string): string | null => {
    const raw = form[name];
    const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((v) => v.trim()).filter((v) => v !== "");
    if (values.length > 1) problems.push(`${name}: give it once`);
    return values[0] ?? null;
  };
  const text = (name: string, max: number, options: { lines?: boolean } = {}): string | null => {
    const value = one(name);
    if (value === null) return null;
    if (CONTROL.test(value) || (!options.lines && LINE_BREAK.test(value))) problems.push(`${name}: must be ${options.lines ? "text" : "one line of text"} without control characters`);
    else if (codePoints(value) > max) problems.push(`${name}: at most ${max} characters`);
    else return value.normalize("NFC");
    return null;
  };

  const serviceCode = one("service_code");
  if (serviceCode === null) problems.push("service_code: required (services.xml lists the codes)");
  else if (!/^[A-Za-z0-9_-]{1,100}$/.test(serviceCode)) problems.push(`service_code: ${quoted(serviceCode)} is not a service code`);

  const lat = one("lat");
  const long = one("long");
  let point: { latitude: number; longitude: number } | null = null;
  if ((lat === null) !== (long === null)) problems.push("lat and long: give both, or neither");
  else if (lat !== null && long !== null) {
    if (!DECIMAL_DEGREES.test(lat) || Math.abs(Number(lat)) > 90) problems.push(`lat: ${quoted(lat)} is not a latitude in decimal degrees (WGS-84)`);
    if (!DECIMAL_DEGREES.test(long) || Math.abs(Number(long)) > 180) problems.push(`long: ${quoted(long)} is not a longitude in decimal degrees (WGS-84)`);
    if (DECIMAL_DEGREES.test(lat) && DECIMAL_DEGREES.test(long)) point = { latitude: Number(lat), longitude: Number(long) };
  }
  const addressString = text("address_string", MAX_ADDRESS);
  const addressIdText = one("address_id");
  let addressId: number | null = null;
  if (addressIdText !== null) {
    if (/^\d{1,9}$/.test(addressIdText) && Number(addressIdText) > 0) addressId = Number(addressIdText);
    else problems.push(`address_id: ${quoted(addressIdText)} is not a place id`);
  }
  if (lat === null && long === null && addressString === null && addressIdText === null) problems.push("lat and long, address_string or address_id: say where the problem is");

  const description = text("description", MAX_DESCRIPTION, { lines: true });

  const mediaUrls: string[] = [];
  for (const url of queryValuesOf(form, "media_url")) {
    if (mediaUrls.length === MAX_MEDIA_URLS) {
      problems.push(`media_url: at most ${MAX_MEDIA_URLS}`);
      break;
    }
    if (isWebUrl(url) && !CONTROL.test(url)) {
      if (!mediaUrls.includes(url)) mediaUrls.push(url);
    } else problems.push(`media_url: ${quoted(url)} is not an http(s) address`);
  }

  const email = text("email", MAX_EMAIL);
  if (email !== null && !EMAIL_SHAPE.test(email)) problems.push(`email: ${quoted(email)} is not an e-mail address`);
  const phone = text("phone", MAX_PHONE_TEXT);
  const firstName = text("first_name", MAX_NAME);
  const lastName = text("last_name", MAX_NAME);
  const deviceId = text("device_id", MAX_ID_TEXT);
  const accountId = text("account_id", MAX_ID_TEXT);

  const attributes = new Map<string, string[]>();
  for (const [name, raw] of Object.entries(form)) {
    const match = ATTRIBUTE_FIELD.exec(name);
    if (!match) {
      if (name.startsWith("attribute")) problems.push(`${quoted(name)}: attributes are sent as attribute[code]=value or attribute[code][]=value`);
      continue;
    }
    const code = match[1]!;
    const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((v) => v.trim() !== "");
    if (values.some((v) => CONTROL.test(v))) {
      problems.push(`attribute ${quoted(code)}: must be text without control characters`);
      continue;
    }
    attributes.set(code, [...(attributes.get(code) ?? []), ...values.map((v) => v.normalize("NFC"))]);
  }
  if (attributes.size > MAX_ATTRIBUTES || [...attributes.values()].some((v) => v.length > MAX_ATTRIBUTE_VALUES)) problems.push("attribute: too many answers");

  if (problems.length > 0 || serviceCode === null) throw new Open311Error(400, problems.slice(0, MAX_PROBLEMS));
  return {
    serviceCode,
    point,
    addressString: addressString === null ? null : addressString.replace(/\s+/gu, " "),
    addressId,
    description,
    mediaUrls,
    email,
    phone,
    firstName,
    lastName,
    deviceId,
    accountId,
    attributes,
    locale,
  };
}

/** Every non-empty value of a repeated form field (`media_url=a&media_url=b`, or `media_url[]`). */
function queryValuesOf(form: Form, name: string): string[] {
  return [form[name], form[`${name}[]`]]
    .flatMap((raw) => (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** An absolute http(s) URL with a host, of a reasonable length, without credentials in it. */
function isWebUrl(text: string): boolean {
  if (text.length > MAX_URL) return false;
  try {
    const url = new URL(text);
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "" && url.username === "" && url.password === "";
  } catch {
    return false;
  }
}

/**
 * The language a client asked for explicitly (`locale` in the posted form or the query string, or
 * Accept-Language naming Arabic or English), else null.
 */
export function explicitLocaleOf(req: Request, form: Form): Locale | null {
  const asked = queryValues(req.query, "locale")[0]?.slice(0, 2).toLowerCase();
  const posted = typeof form.locale === "string" ? form.locale.trim().slice(0, 2).toLowerCase() : undefined;
  for (const value of [posted, asked]) if (value === "ar" || value === "en") return value;
  if (!req.get("accept-language")) return null;
  const accepted = req.acceptsLanguages("ar", "en");
  return accepted === "ar" || accepted === "en" ? accepted : null;
}
