import type { Locale } from "../../conversation/types.js";
import { formatAmount } from "../../lib/formatAmount.js";
import type { Translate } from "./staffContext.js";

// The municipality is in Lebanon; staff read times on the town hall's clock.
const TIME_ZONE = "Asia/Beirut";
// Latin digits in Arabic too: references, phone numbers and times then read the same everywhere.
const INTL_LOCALE: Record<Locale, string> = { ar: "ar-LB-u-nu-latn", en: "en-GB" };

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: Locale, style: "full" | "short"): Intl.DateTimeFormat {
  const key = `${locale}:${style}`;
  let format = dateTimeFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(INTL_LOCALE[locale], {
      timeZone: TIME_ZONE,
      ...(style === "full" ? { dateStyle: "medium", timeStyle: "short" } : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }),
    });
    dateTimeFormats.set(key, format);
  }
  return format;
}

/** A date and time in Beirut, e.g. "12 Mar 2025, 09:41". */
export function formatDateTime(date: Date, locale: Locale): string {
  return formatter(locale, "full").format(date);
}

/** A short date and time for lists, e.g. "12 Mar, 09:41". */
export function formatShortDateTime(date: Date, locale: Locale): string {
  return formatter(locale, "short").format(date);
}

/** How long ago, in the largest whole unit: "just now", "5 minutes", "3 hours", "2 days". */
export function formatAge(t: Translate, since: Date, now: Date): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - since.getTime()) / 60_000));
  if (minutes < 1) return t("age.justNow");
  if (minutes < 60) return t("age.minutes", { count: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t("age.hours", { count: hours });
  return t("age.days", { count: Math.floor(hours / 24) });
}

/** A name stored in both languages (categories, departments), in the reader's. */
export function localName(named: { nameAr: string; nameEn: string }, locale: Locale): string {
  return locale === "ar" ? named.nameAr : named.nameEn;
}

/** Department names by code, in the reader's language; an unknown code is shown as is. */
export function departmentLabel(departments: ReadonlyArray<{ code: string; nameAr: string; nameEn: string }>, code: string | null, locale: Locale): string | null {
  if (code === null) return null;
  const department = departments.find((d) => d.code === code);
  return department ? localName(department, locale) : code;
}

/** Twilio error codes staff meet, explained in words (the rest show their code and Twilio's text). */
const TWILIO_CODES = new Set(["21211", "21408", "21610", "21612", "21614", "30003", "30004", "30005", "30006", "30007", "30008", "63003", "63016", "63018", "63024"]);

/** Why a message was not (yet) delivered, in words; null when there is nothing to explain. */
export function deliveryReason(t: Translate, message: { errorCode: string | null; errorMessage: string | null }): string | null {
  const parts: string[] = [];
  const code = message.errorCode;
  if (code === "opted_out" || code === "window_closed") parts.push(t(`delivery.reason.${code}`));
  else if (code && TWILIO_CODES.has(code)) parts.push(t(`delivery.twilio.${code}`));
  else if (code) parts.push(t("delivery.reason.code", { code }));
  if (message.errorMessage) parts.push(message.errorMessage);
  return parts.length > 0 ? parts.join(" — ") : null;
}

/** The OpenStreetMap page centred on a point, zoomed to street level. */
export function mapLink(latitude: number, longitude: number): string {
  const lat = String(latitude);
  const lon = String(longitude);
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=18/${lat}/${lon}`;
}

/** Cuts long text for one line of a list, at a character boundary that keeps Arabic letters whole. */
export function excerpt(text: string, max = 90): string {
  const chars = [...text.replace(/\s+/g, " ").trim()];
  return chars.length <= max ? chars.join("") : `${chars.slice(0, max - 1).join("").trimEnd()}…`;
}

const dateFormats = new Map<Locale, Intl.DateTimeFormat>();
/**
 * A calendar date such as a due date, e.g. "31 Mar 2025". Read on Beirut's calendar, which gives
 * the same day whether the import stored it at UTC or at Beirut midnight.
 */
export function formatDate(date: Date, locale: Locale): string {
  let format = dateFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(INTL_LOCALE[locale], { timeZone: TIME_ZONE, dateStyle: "medium" });
    dateFormats.set(locale, format);
  }
  return format.format(date);
}

/** An amount for staff, with Latin digits in both languages: "1,250,000 ل.ل.", "85.50 USD". */
export function formatMoney(amount: string | { toFixed(): string }, currency: string, locale: Locale): string {
  return formatAmount(typeof amount === "string" ? amount : amount.toFixed(), currency === "USD" ? "USD" : "LBP", locale, "western");
}

// Unicode isolates: FSI ("first strong isolate") takes the direction of the value's first letter
// (left to right when it has none: digits, a phone number); PDI closes it.
const FSI = "\u2068";
const PDI = "\u2069";
const ISOLATE_OPENERS = new Set(["\u2066", "\u2067", "\u2068"]);

/** Drops the isolate closers that close nothing and closes the isolates left open. */
function balancedIsolates(value: string): string {
  let depth = 0;
  let out = "";
  for (const c of value) {
    if (ISOLATE_OPENERS.has(c)) depth++;
    else if (c === PDI) {
      if (depth === 0) continue;
      depth--;
    }
    out += c;
  }
  return out + PDI.repeat(depth);
}

/** An unsigned number or a time ("42", "1,250,000", "33.8", "10:00"): one run of digits that reads the same in both directions. */
const PLAIN_NUMBER = /^\d+(?:[.,:]\d+)*$/;

/**
 * A value to insert into a sentence of the other direction, wrapped in Unicode isolates (FSI … PDI)
 * so that it keeps its own order and leaves the sentence's alone: "08 540 123" does not become
 * "123 540 08" in Arabic, a quoted "QE-12" stays between its quotes, "-25" keeps its minus in
 * front, an Arabic name stays whole in English. Works in any text (flash messages, titles,
 * attributes), where `<bdi>` cannot go. A stray isolate in the value cannot close ours. An unsigned
 * number is left as it is: it cannot be scrambled, and "#10427" must keep its "#" attached.
 */
export function isolate(value: string | number): string {
  const text = String(value);
  return text === "" || PLAIN_NUMBER.test(text) ? text : `${FSI}${balancedIsolates(text)}${PDI}`;
}

/**
 * Translation parameters with every value isolated (see `isolate`), except `count`, from which
 * i18next picks the plural form, and other numbers that are not negative (kept as numbers).
 */
export function isolateParams(params: Readonly<Record<string, string | number>>): Record<string, string | number> {
  return Object.fromEntries(Object.entries(params).map(([name, value]) => [name, name === "count" || (typeof value === "number" && value >= 0) ? value : isolate(value)]));
}

/** A translator that isolates every value it inserts into a sentence (see `isolateParams`). */
export function isolating(t: Translate): Translate {
  return (key, params) => (params ? t(key, isolateParams(params)) : t(key));
}
