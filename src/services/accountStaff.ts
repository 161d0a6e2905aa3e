import type { ChannelKind, Locale } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";
import { formatAmount } from "../lib/formatAmount.js";
import { toE164 } from "../lib/phone.js";
import { LINK_LOCK_MS, LINK_MAX_FAILURES } from "./accounts.js";
import { enqueueOutbound, type Enqueued, type OutboxContext } from "./outbox.js";
import type { Actor } from "./staff.js";
import type { ActionError, ActionResult } from "./staffActions.js";

/** The department whose agents work accounts and payment reports (admins always may). */
export const FINANCE_DEPARTMENT = "finance";
export const CURRENCIES = ["LBP", "USD"] as const;
export type Currency = (typeof CURRENCIES)[number];
/** Digits in amounts sent to residents (config.accounts.digits). */
export type AmountDigits = "western" | "arabic";

/** Why staff turn down a reported payment; each has its own one-segment text for the resident. */
export const REJECTION_REASONS = ["not_received", "amount_mismatch", "wrong_account", "unreadable", "other"] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** What payment decisions need to tell the resident: the outbox, and how to write amounts. */
export type PaymentContext = OutboxContext & { digits?: AmountDigits | undefined };

const MAX_NOTE = 500;

const forbidden = (message: string): ActionError => ({ ok: false, error: "forbidden", message });
const notFound = (message: string): ActionError => ({ ok: false, error: "not_found", message });
const invalid = (message: string): ActionError => ({ ok: false, error: "invalid", message });

/** Admins, and agents of the finance department, see accounts and decide on reported payments. */
export function canWorkAccounts(actor: Actor): boolean {
  return actor.role === "admin" || actor.departments.includes(FINANCE_DEPARTMENT);
}

/** A stored currency code, read strictly: anything but USD is lira (the import only writes these two). */
export const currencyOf = (code: string): Currency => (code === "USD" ? "USD" : "LBP");

/** The statement reference of a confirmed payment report: stable, so confirming twice adds nothing. */
export const paymentLineReference = (paymentReportId: number) => `PR-${paymentReportId}`;

interface AuditEntry {
  actor: Actor;
  kind: string;
  accountId: number;
  residentId: number | null;
  data: Record<string, unknown>;
  now: Date;
}

async function audit(tx: Tx, entry: AuditEntry) {
  await tx.auditEvent.create({
    data: {
      municipalityId: entry.actor.municipalityId,
      actorType: "staff",
      actorId: entry.actor.id,
      residentId: entry.residentId,
      accountId: entry.accountId,
      kind: entry.kind,
      data: JSON.stringify(entry.data),
      createdAt: entry.now,
    },
  });
}

async function ticketEvent(tx: Tx, ticketId: number, actor: Actor, kind: string, data: Record<string, unknown>, now: Date) {
  await tx.ticketEvent.create({ data: { ticketId, actorType: "staff", actorId: actor.id, kind, data: JSON.stringify(data), createdAt: now } });
}

export interface StaffLinkRequest {
  accountNumber: string;
  /** As typed at the counter: "03 123 456", "+961 3 123 456"... */
  phone: string;
  /** The language the holder speaks, stored only when the resident has none yet. */
  locale?: Locale | undefined;
}

export type StaffLinkResult = ActionResult<{ linkId: number; residentId: number; phone: string; alreadyLinked: boolean; newResident: boolean }>;

/**
 * An admin links a phone to an account after checking the holder's ID at the counter. The phone is
 * normalised to E.164; a phone that never wrote becomes a resident now. Linking an already linked
 * phone changes nothing. Audited as "account_linked".
 */
export async function linkAccountByStaff(tx: Tx, actor: Actor, request: StaffLinkRequest, now: Date): Promise<StaffLinkResult> {
  if (actor.role !== "admin") return forbidden("Only administrators link phones to accounts");
  const phone = toE164(request.phone);
  if (!phone) return invalid("That is not a valid phone number");
  const number = request.accountNumber.trim();
  const account = await tx.account.findUnique({ where: { municipalityId_number: { municipalityId: actor.municipalityId, number } } });
  if (!account) return notFound(`No account ${number}`);

  let resident = await tx.resident.findUnique({ where: { municipalityId_phone: { municipalityId: actor.municipalityId, phone } } });
  const newResident = !resident;
  if (!resident) {
    resident = await tx.resident.create({ data: { municipalityId: actor.municipalityId, phone, locale: request.locale ?? null, createdAt: now } });
  } else if (resident.locale === null && request.locale) {
    resident = await tx.resident.update({ where: { id: resident.id }, data: { locale: request.locale } });
  }

  const existing = await tx.accountLink.findUnique({ where: { accountId_residentId: { accountId: account.id, residentId: resident.id } } });
  if (existing) return { ok: true, linkId: existing.id, residentId: resident.id, phone, alreadyLinked: true, newResident };

  const link = await tx.accountLink.create({
    data: { municipalityId: actor.municipalityId, accountId: account.id, residentId: resident.id, linkedBy: "staff", staffId: actor.id, createdAt: now },
  });
  await audit(tx, { actor, kind: "account_linked", accountId: account.id, residentId: resident.id, data: { linkId: link.id, linkedBy: "staff", idChecked: true }, now });
  return { ok: true, linkId: link.id, residentId: resident.id, phone, alreadyLinked: false, newResident };
}

/** An admin removes a phone's access to an account (a sold shop, a lost phone). Audited as "account_unlinked". */
export async function unlinkAccount(tx: Tx, actor: Actor, linkId: number, now: Date): Promise<ActionResult<{ accountNumber: string; residentId: number }>> {
  if (actor.role !== "admin") return forbidden("Only administrators unlink phones from accounts");
  // Ids are 32-bit in PostgreSQL: a larger number is no link, not a database error.
  if (!Number.isSafeInteger(linkId) || linkId < 1 || linkId > 2_147_483_647) return notFound(`No link ${linkId}`);
  const link = await tx.accountLink.findUnique({ where: { id: linkId }, include: { account: true } });
  if (!link || link.account.municipalityId !== actor.municipalityId) return notFound(`No link ${linkId}`);
  await tx.accountLink.delete({ where: { id: link.id } });
  await audit(tx, {
    actor,
    kind: "account_unlinked",
    accountId: link.accountId,
    residentId: link.residentId,
    data: { linkId: link.id, linkedBy: link.linkedBy, linkedAt: link.createdAt.toISOString() },
    now,
  });
  return { ok: true, accountNumber: link.account.number, residentId: link.residentId };
}

async function reportFor(tx: Tx, actor: Actor, paymentReportId: number) {
  if (!Number.isSafeInteger(paymentReportId) || paymentReportId < 1 || paymentReportId > 2_147_483_647) return null;
  const report = await tx.paymentReport.findUnique({ where: { id: paymentReportId }, include: { ticket: { include: { resident: true } }, account: true } });
  if (!report || report.municipalityId !== actor.municipalityId) return null;
  // A payment is reported by a resident over SMS or WhatsApp, so its ticket always has one; a
  // ticket without (filed through Open311) would have nobody to tell or credit: no such report.
  const { resident } = report.ticket;
  if (!resident) return null;
  return { ...report, ticket: { ...report.ticket, resident, residentId: resident.id } };
}
type Report = NonNullable<Awaited<ReturnType<typeof reportFor>>>;

/** Claims a reported payment for one decision: false when someone else decided first. */
async function claim(tx: Tx, report: Report, data: { status: "confirmed" | "rejected"; confirmedById?: number; confirmedAt?: Date }) {
  const { count } = await tx.paymentReport.updateMany({ where: { id: report.id, status: "reported" }, data });
  return count === 1;
}

/** Closes the payment ticket (resolved or closed), recording the change in its history. */
async function settleTicket(tx: Tx, actor: Actor, report: Report, status: "resolved" | "closed", now: Date) {
  const ticket = report.ticket;
  if (ticket.status === "resolved" || ticket.status === "closed") return;
  // Settled: nobody waits any more, and a reopening is answered.
  await tx.ticket.update({ where: { id: ticket.id }, data: { status, waitingSince: null, reopenedAt: null } });
  await ticketEvent(tx, ticket.id, actor, "status_changed", { from: ticket.status, to: status }, now);
}

/** Tells the resident about a decision on their payment, in their language, on the ticket's channel. */
async function notifyResident(tx: Tx, ctx: PaymentContext, report: Report, key: string, balance: string | null, now: Date): Promise<Enqueued> {
  const { ticket } = report;
  const locale: Locale = (ticket.resident.locale ?? ticket.locale) === "en" ? "en" : "ar";
  const channel: ChannelKind = ticket.channel === "whatsapp" ? "whatsapp" : "sms";
  const digits = ctx.digits ?? "western";
  const currency = currencyOf(report.currency);
  const amounts = {
    amount: formatAmount(report.amount.toFixed(), currency, locale, digits),
    ...(balance !== null ? { balance: formatAmount(balance, currency, locale, digits) } : {}),
  };
  return enqueueOutbound(tx, { ...ctx, now }, {
    residentId: ticket.residentId,
    ticketId: ticket.id,
    reference: ticket.reference,
    channel,
    kind: "notification",
    body: ctx.render(key, amounts, locale, channel),
  });
}

export type ConfirmResult = ActionResult<
  { outcome: "confirmed"; delivery: Enqueued; balance: string; currency: Currency; accountNumber: string } | { outcome: "already_confirmed"; accountNumber: string }
>;

/**
 * Finance staff (or an admin) confirm a payment a resident reported: a "payment" statement line
 * (negative amount, reference PR-<id>), the balance in that currency reduced, the report confirmed, the ticket
 * resolved, an audit entry, and a message to the resident with the amount and the new balance.
 * Confirming again (a double click, two colleagues at once) changes nothing.
 */
export async function confirmPayment(tx: Tx, ctx: PaymentContext, actor: Actor, paymentReportId: number, now: Date): Promise<ConfirmResult> {
  if (!canWorkAccounts(actor)) return forbidden("Only finance staff and administrators confirm payments");
  const report = await reportFor(tx, actor, paymentReportId);
  if (!report) return notFound(`No payment report ${paymentReportId}`);
  const accountNumber = report.account.number;
  if (report.status === "confirmed") return { ok: true, outcome: "already_confirmed", accountNumber };
  if (report.status === "rejected") return invalid("This payment was already rejected");
  const currency = currencyOf(report.currency);
  const balance = await tx.accountBalance.findUnique({ where: { accountId_currency: { accountId: report.accountId, currency } } });
  // Never mix currencies: a payment in a currency the account is not billed in is for the finance office.
  if (!balance) return invalid(`Account ${accountNumber} has no ${currency} balance`);

  if (!(await claim(tx, report, { status: "confirmed", confirmedById: actor.id, confirmedAt: now }))) {
    const current = await tx.paymentReport.findUniqueOrThrow({ where: { id: report.id } });
    return current.status === "confirmed" ? { ok: true, outcome: "already_confirmed", accountNumber } : invalid("This payment was already rejected");
  }
  const reference = paymentLineReference(report.id);
  const description = [report.paidAt, report.paymentRef].filter((s) => s.trim() !== "").join(" · ");
  await tx.statementLine.upsert({
    where: { accountId_reference_currency: { accountId: report.accountId, reference, currency } },
    // Payments are negative on a statement, as the finance system exports them (charges positive).
    create: { accountId: report.accountId, date: now, kind: "payment", description, currency, amount: report.amount.negated(), reference, createdAt: now },
    update: {},
  });
  // An atomic decrement: two confirmations of different reports never lose one another's update.
  const updated = await tx.accountBalance.update({ where: { id: balance.id }, data: { amountDue: { decrement: report.amount } } });
  const newBalance = updated.amountDue.toFixed();

  await settleTicket(tx, actor, report, "resolved", now);
  await ticketEvent(tx, report.ticketId, actor, "payment_confirmed", { paymentReportId: report.id, amount: report.amount.toFixed(), currency, statementReference: reference }, now);
  await audit(tx, {
    actor,
    kind: "payment_confirmed",
    accountId: report.accountId,
    residentId: report.ticket.residentId,
    data: { paymentReportId: report.id, ticketReference: report.ticket.reference, amount: report.amount.toFixed(), currency, statementReference: reference, balance: newBalance },
    now,
  });
  const delivery = await notifyResident(tx, ctx, report, "payment.confirmed", newBalance, now);
  return { ok: true, outcome: "confirmed", delivery, balance: newBalance, currency, accountNumber };
}

export interface Rejection {
  reason: RejectionReason;
  /** For colleagues (the ticket history and the audit trail); never sent to the resident. */
  note?: string | undefined;
}

export type RejectResult = ActionResult<{ outcome: "rejected"; delivery: Enqueued } | { outcome: "already_rejected" }>;

/**
 * Finance staff (or an admin) turn down a reported payment with one of REJECTION_REASONS: the
 * report is marked rejected, the ticket closed, an audit entry written, and the resident told why
 * in their language (one SMS segment), with "bring the receipt to the town hall".
 */
export async function rejectPayment(tx: Tx, ctx: PaymentContext, actor: Actor, paymentReportId: number, rejection: Rejection, now: Date): Promise<RejectResult> {
  if (!canWorkAccounts(actor)) return forbidden("Only finance staff and administrators reject payments");
  const reason = REJECTION_REASONS.find((r) => r === rejection.reason);
  if (!reason) return invalid(`Unknown reason ${String(rejection.reason)}`);
  const note = (rejection.note ?? "").trim();
  if (note.includes("\u0000")) return invalid("The note contains a NUL character");
  if (note.length > MAX_NOTE) return invalid(`The note is longer than ${MAX_NOTE} characters`);
  const report = await reportFor(tx, actor, paymentReportId);
  if (!report) return notFound(`No payment report ${paymentReportId}`);
  if (report.status === "rejected") return { ok: true, outcome: "already_rejected" };
  if (report.status === "confirmed") return invalid("This payment was already confirmed");
  if (!(await claim(tx, report, { status: "rejected" }))) {
    const current = await tx.paymentReport.findUniqueOrThrow({ where: { id: report.id } });
    return current.status === "rejected" ? { ok: true, outcome: "already_rejected" } : invalid("This payment was already confirmed");
  }
  await settleTicket(tx, actor, report, "closed", now);
  await ticketEvent(tx, report.ticketId, actor, "payment_rejected", { paymentReportId: report.id, reason, ...(note ? { note } : {}) }, now);
  await audit(tx, {
    actor,
    kind: "payment_rejected",
    accountId: report.accountId,
    residentId: report.ticket.residentId,
    data: { paymentReportId: report.id, ticketReference: report.ticket.reference, amount: report.amount.toFixed(), currency: currencyOf(report.currency), reason, ...(note ? { note } : {}) },
    now,
  });
  const delivery = await notifyResident(tx, ctx, report, `payment.rejected.${reason}`, null, now);
  return { ok: true, outcome: "rejected", delivery };
}

// ---------------------------------------------------------------------------------------------
// What the staff pages read.

/** Account search as the staff list sends it. */
export interface AccountSearch {
  /** Part of an account number, of the holder's name, or of a linked phone (any digits). */
  q?: string | undefined;
  page: number;
  pageSize: number;
}

const foldDigits = (text: string) => text.replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660)).replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x6f0));

/**
 * Accounts matching a search (number, holder, linked phone), by number, with their balances and
 * how many phones are linked. For finance staff and admins only (callers check canWorkAccounts).
 */
export async function searchAccounts(tx: Tx, municipalityId: string, search: AccountSearch) {
  const q = search.q ? foldDigits(search.q.trim()) : "";
  const or: object[] = [];
  if (q) {
    or.push({ number: { contains: q } }, { holderName: { contains: q } });
    const digits = q.replace(/[\s+\-()]/g, "");
    // Local numbers are stored in E.164: "03 123 456" is found as "+9613123456".
    if (/^\d{3,}$/.test(digits)) or.push({ links: { some: { resident: { phone: { contains: digits.replace(/^0+/, "") } } } } });
  }
  const where = { municipalityId, ...(or.length > 0 ? { OR: or } : {}) };
  const [rows, total] = await Promise.all([
    tx.account.findMany({
      where,
      orderBy: [{ number: "asc" }, { id: "asc" }],
      skip: (search.page - 1) * search.pageSize,
      take: search.pageSize,
      include: { balances: { orderBy: { currency: "asc" } }, _count: { select: { links: true } } },
    }),
    tx.account.count({ where }),
  ]);
  return { rows, total };
}
export type AccountRow = Awaited<ReturnType<typeof searchAccounts>>["rows"][number];

/**
 * Everything staff see about one account: balances, recent statement lines, linked phones, payment
 * reports, verification attempts made with its number (and whether they have locked it), and its
 * audit trail. Null when unknown.
 */
export async function accountDetail(tx: Tx, municipalityId: string, number: string, now: Date, limits = { lines: 50, attempts: 50, audit: 100 }) {
  const account = await tx.account.findUnique({
    where: { municipalityId_number: { municipalityId, number } },
    include: {
      balances: { orderBy: { currency: "asc" } },
      lines: { orderBy: [{ date: "desc" }, { id: "desc" }], take: limits.lines },
      links: { orderBy: { createdAt: "asc" }, include: { resident: { select: { id: true, phone: true, locale: true, optedOut: true } } } },
      paymentReports: { orderBy: { createdAt: "desc" }, take: 20, include: { ticket: { select: { reference: true, status: true } } } },
    },
  });
  if (!account) return null;
  const [attempts, recentFailures, auditEvents] = await Promise.all([
    tx.verificationAttempt.findMany({ where: { municipalityId, accountNumber: number }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: limits.attempts }),
    tx.verificationAttempt.count({ where: { municipalityId, accountNumber: number, success: false, createdAt: { gte: new Date(now.getTime() - LINK_LOCK_MS) } } }),
    tx.auditEvent.findMany({ where: { municipalityId, accountId: account.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: limits.audit }),
  ]);
  // Attempts and audit entries name residents and staff by id; look their phones and names up once.
  const residentIds = [...new Set([...attempts.map((a) => a.residentId), ...auditEvents.flatMap((e) => (e.residentId === null ? [] : [e.residentId]))])];
  const staffIds = [...new Set([...auditEvents.flatMap((e) => (e.actorType === "staff" && e.actorId !== null ? [e.actorId] : [])), ...account.links.flatMap((l) => (l.staffId === null ? [] : [l.staffId]))])];
  const [residents, staff] = await Promise.all([
    tx.resident.findMany({ where: { id: { in: residentIds } }, select: { id: true, phone: true } }),
    tx.staff.findMany({ where: { id: { in: staffIds } }, select: { id: true, displayName: true } }),
  ]);
  return {
    account,
    attempts,
    /** Wrong codes for this number in the last hour; at LINK_MAX_FAILURES the bot stops accepting codes for it. */
    recentFailures,
    locked: recentFailures >= LINK_MAX_FAILURES,
    auditEvents,
    phones: new Map(residents.map((r) => [r.id, r.phone])),
    staffNames: new Map(staff.map((s) => [s.id, s.displayName])),
  };
}
export type AccountDetail = NonNullable<Awaited<ReturnType<typeof accountDetail>>>;

/** The accounts a resident's phone is linked to, and its latest verification attempts (the ticket page shows both). */
export async function accountsOfResident(tx: Tx, municipalityId: string, residentId: number, attemptLimit = 10) {
  const [links, attempts] = await Promise.all([
    tx.accountLink.findMany({ where: { municipalityId, residentId }, orderBy: { createdAt: "asc" }, include: { account: { select: { number: true, holderName: true } } } }),
    tx.verificationAttempt.findMany({ where: { municipalityId, residentId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: attemptLimit }),
  ]);
  return { links, attempts };
}
