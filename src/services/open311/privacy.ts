import type { Prisma } from "../../generated/sqlite/client.js";
import { FINANCE_DEPARTMENT } from "../accountStaff.js";

/**
 * Which requests Open311 may serve, and what is taken out of the text it serves. The one place
 * these rules live: the reads (requests.ts, updates), the ticket page's "public on Open311?" and
 * the tests all ask here.
 */

/**
 * The tickets of a municipality that Open311 may show: not hidden by staff, in a category that is
 * not private (an uncategorised ticket is not shown: nobody has looked at it yet), not a payment
 * report, and not routed to the finance department. A ticket this does not select answers like a
 * missing one.
 */
export function publicTicketWhere(municipalityId: string) {
  return {
    municipalityId,
    open311Hidden: false,
    categoryId: { not: null },
    category: { is: { isPrivate: false } },
    paymentReport: { is: null },
    // `department <> 'finance'` is not true for NULL in SQL: a ticket without a department would
    // drop out with a plain `not`.
    OR: [{ department: null }, { department: { not: FINANCE_DEPARTMENT } }],
  } satisfies Prisma.TicketWhereInput;
}

/** Why a ticket is not on Open311 (staff see these on the ticket page). */
export const OPEN311_EXCLUSIONS = ["no_category", "private_category", "payment_report", "finance", "hidden"] as const;
export type Open311Exclusion = (typeof OPEN311_EXCLUSIONS)[number];

/**
 * Every reason `publicTicketWhere` leaves this ticket out, in a fixed order; empty when Open311
 * shows it. `paymentReport` says whether the ticket is a resident's payment report.
 */
export function open311Exclusions(ticket: {
  open311Hidden: boolean;
  category: { isPrivate: boolean } | null;
  department: string | null;
  paymentReport: boolean;
}): Open311Exclusion[] {
  const reasons: Open311Exclusion[] = [];
  if (!ticket.category) reasons.push("no_category");
  else if (ticket.category.isPrivate) reasons.push("private_category");
  if (ticket.paymentReport) reasons.push("payment_report");
  if (ticket.department === FINANCE_DEPARTMENT) reasons.push("finance");
  if (ticket.open311Hidden) reasons.push("hidden");
  return reasons;
}

// Western, Arabic-Indic, Persian and full-width digits: residents type all of them.
const DIGIT = "[0-9\\u0660-\\u0669\\u06f0-\\u06f9\\uff10-\\uff19]";
// What people put between the digits of a number ("03 123 456", "03-123456", "03/123456",
// "+961 (3) 123.456"), and the direction marks that come with digits in right-to-left text.
// Line breaks are not: a list of one-digit lines is not a phone number.
// Also commas (Latin, Arabic, the Arabic thousands mark), underscores, stars, middle dots and the
// invisible characters (zero-width, direction isolates) a copy from a chat can carry.
const SEPARATOR =
  "[ \\t\\u00a0\\u2000-\\u200a\\u202f\\u205f\\u3000\\u200b-\\u200f\\u2066-\\u2069\\u061c\\-\\u2010-\\u2015\\u2212+.()/,\\u060c\\u066c_*\\u00b7]";
// A leading "+" or "(" goes with the number ("(03) 123 456" leaves no stray bracket).
const NUMBER_RUN = new RegExp(`[+(]{0,2}${DIGIT}(?:${SEPARATOR}{0,3}${DIGIT})*`, "gu");
const ONE_DIGIT = new RegExp(DIGIT, "gu");
/** Fewer digits than this is a reference, a house number or a count, not a phone number. */
const MIN_PHONE_DIGITS = 7;
/** What a masked number reads as: the same whatever its length. */
export const REDACTED = "•••";

/**
 * The text with every run of at least seven digits masked, as phone numbers are written: with
 * spaces, dashes, dots, slashes, brackets or a "+" between the digits, in Western or Arabic-Indic
 * digits ("call me on 03 123 456", "٠٣١٢٣٤٥٦"). A date or a long amount written the same way is
 * masked too: the town would rather lose a date than publish a number.
 */
export function redactPhones(text: string): string {
  return text.replace(NUMBER_RUN, (run) => ((run.match(ONE_DIGIT)?.length ?? 0) >= MIN_PHONE_DIGITS ? REDACTED : run));
}

// An e-mail address as residents write it, "@" in any of its forms ("＠" full-width, "﹫" small).
const EMAIL = /[^\s@＠﹫<>()[\]"',;:]+[@＠﹫][^\s@＠﹫<>()[\]"',;:]+\.[^\s@＠﹫<>()[\]"',;:]+/gu;

/**
 * What a resident wrote, fit to publish: phone numbers (see `redactPhones`) and e-mail addresses
 * masked. Used for every text Open311 serves: description, address, public note.
 */
export function redactContacts(text: string): string {
  return redactPhones(text.replace(EMAIL, REDACTED));
}
