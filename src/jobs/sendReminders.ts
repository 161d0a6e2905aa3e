import { hostname } from "node:os";
import type { Logger } from "pino";
import type { ChannelKind, Locale } from "../conversation/types.js";
import type { Db } from "../db/createDb.js";
import { formatAmount } from "../lib/formatAmount.js";
import { maskPhone } from "../lib/maskPhone.js";
import { currencyOf, type AmountDigits } from "../services/accountStaff.js";
import { withLease } from "../services/jobLease.js";
import { bulkChannelFor, enqueueOutbound, hasReplyWindow, routeFor, smsReaches, whatsappWindowOpen, type Enqueued, type OutboxContext } from "../services/outbox.js";
import { isUniqueViolation } from "../db/errors.js";

export interface SendRemindersDeps {
  db: Db;
  municipalityId: string;
  /** Remind this many days before a due date (config.accounts.reminderDaysBefore). */
  daysBefore: number;
  digits: AmountDigits;
  outbox: Omit<OutboxContext, "now">;
  logger: Logger;
  /** Reminders queued per run at most, so that a due date shared by the whole town does not flood the outbox. */
  batchSize?: number;
  /** Who runs the job, for the lease (default: host name and process id). */
  holder?: string;
}

/** What one run did: nothing during quiet hours, otherwise how many reminders it queued. */
export type ReminderRun =
  | { status: "quiet_hours"; beirutHour: number }
  /** Another instance is running the job right now. */
  | { status: "busy" }
  | { status: "ran"; queued: number; more: boolean };

const TIME_ZONE = "Asia/Beirut";
/** Residents are not disturbed from 21:00 to 08:00, Beirut time. */
export const QUIET_FROM_HOUR = 21;
export const QUIET_UNTIL_HOUR = 8;
const DEFAULT_BATCH = 50;
const PAGE = 200;
const DAY_MS = 86_400_000;
const LEASE = "send-reminders";
const LEASE_TTL_MS = 5 * 60_000;

/**
 * Reminds linked residents that an account balance falls due: for every balance above zero whose
 * due date (a calendar day in Beirut) is today or within `daysBefore` days, every phone linked to
 * the account that has not opted out gets one message per account, currency and due date — in its
 * language, on the channel it last wrote on (SMS when it never wrote, or when WhatsApp's 24-hour
 * window is closed: a held reminder would arrive after the due date; see `reminderChannel` for the
 * town's own WhatsApp phone). A resident no SMS can reach then is skipped, and looked at again on
 * the next run (nothing is recorded for them). The ReminderSent row is
 * written in the same transaction as the outbox row, so a crash or a second instance never sends
 * twice. Between 21:00 and 08:00 in Beirut it does nothing; the next run in the day catches up.
 * At most `batchSize` reminders per run. Runs under the "send-reminders" job lease, so that of
 * several instances only one works at a time (the others answer "busy").
 */
export async function sendReminders(deps: SendRemindersDeps, now: Date): Promise<ReminderRun> {
  const hour = beirutHour(now);
  if (isQuietHour(hour)) return { status: "quiet_hours", beirutHour: hour };
  const leased = await withLease(deps.db, LEASE, deps.holder ?? `${hostname()}:${process.pid}`, LEASE_TTL_MS, now, () => remindDue(deps, now));
  return leased.acquired ? leased.value : { status: "busy" };
}

async function remindDue(deps: SendRemindersDeps, now: Date): Promise<ReminderRun> {
  const limit = deps.batchSize ?? DEFAULT_BATCH;
  const today = beirutDay(now);
  const lastDay = addDays(today, deps.daysBefore);
  // A day's margin on both sides: the exact test is on the Beirut calendar day, below, whichever
  // time of day the import stored the due date at (UTC or Beirut midnight).
  const from = new Date(Date.parse(`${today}T00:00:00Z`) - DAY_MS);
  const until = new Date(Date.parse(`${lastDay}T00:00:00Z`) + 2 * DAY_MS);

  let queued = 0;
  let cursor: number | undefined;
  for (;;) {
    const balances = await deps.db.accountBalance.findMany({
      where: { amountDue: { gt: 0 }, dueDate: { gte: from, lt: until }, account: { municipalityId: deps.municipalityId } },
      // Nearest due dates first, so a busy week reminds about what falls due soonest.
      orderBy: [{ dueDate: "asc" }, { id: "asc" }],
      take: PAGE,
      ...(cursor !== undefined ? { cursor: { id: cursor }, skip: 1 } : {}),
      include: {
        account: {
          select: {
            number: true,
            links: {
              where: { resident: { optedOut: false } },
              orderBy: { id: "asc" },
              select: { resident: { select: { id: true, phone: true, locale: true, identities: { select: { channel: true, route: true, lastInboundAt: true } } } } },
            },
          },
        },
      },
    });
    const last = balances.at(-1);
    if (!last) return { status: "ran", queued, more: false };
    cursor = last.id;

    const due = balances.filter((b) => {
      const day = beirutDay(b.dueDate);
      return day >= today && day <= lastDay;
    });
    const done = await deps.db.reminderSent.findMany({
      where: { accountId: { in: due.map((b) => b.accountId) }, dueDate: { gte: from, lt: until } },
      select: { accountId: true, residentId: true, currency: true, dueDate: true },
    });
    const sent = new Set(done.map((r) => reminderKey(r.accountId, r.residentId, r.currency, r.dueDate)));

    for (const balance of due) {
      for (const { resident } of balance.account.links) {
        if (sent.has(reminderKey(balance.accountId, resident.id, balance.currency, balance.dueDate))) continue;
        if (queued >= limit) return { status: "ran", queued, more: true };
        const locale: Locale = resident.locale === "en" ? "en" : "ar";
        const channel = reminderChannel(deps.outbox, resident, now);
        if (!channel) {
          deps.logger.info({ accountId: balance.accountId, to: maskPhone(resident.phone) }, "due-date reminder not sent: no channel for reminders reaches this resident");
          continue;
        }
        const currency = currencyOf(balance.currency);
        const body = deps.outbox.render(
          "reminder",
          {
            account: balance.account.number,
            amount: formatAmount(balance.amountDue.toFixed(), currency, locale, deps.digits),
            date: dayMonth(beirutDay(balance.dueDate), locale, deps.digits),
          },
          locale,
          channel,
        );
        const delivery = await remindOnce(deps, now, { accountId: balance.accountId, residentId: resident.id, currency, dueDate: balance.dueDate, channel, body });
        if (delivery) {
          queued++;
          deps.logger.info({ accountId: balance.accountId, to: maskPhone(resident.phone), channel, delivery: delivery.status }, "due-date reminder queued");
        }
      }
    }
    if (balances.length < PAGE) return { status: "ran", queued, more: false };
  }
}

interface Reminder {
  accountId: number;
  residentId: number;
  currency: string;
  dueDate: Date;
  channel: ChannelKind;
  body: string;
}

/**
 * Records the reminder and queues it in one transaction; null when another run got there first
 * (the unique ReminderSent row), in which case nothing at all was written.
 */
async function remindOnce(deps: SendRemindersDeps, now: Date, reminder: Reminder): Promise<Enqueued | null> {
  try {
    return await deps.db.$transaction(async (tx) => {
      await tx.reminderSent.create({
        data: { accountId: reminder.accountId, residentId: reminder.residentId, currency: reminder.currency, dueDate: reminder.dueDate, createdAt: now },
      });
      // No WhatsApp template for reminders: the approved one speaks of a request's reference.
      const delivery = await enqueueOutbound(tx, { ...deps.outbox, whatsappTemplateSid: undefined, now }, {
        residentId: reminder.residentId,
        ticketId: null,
        reference: null,
        channel: reminder.channel,
        kind: "notification",
        body: reminder.body,
      });
      // Telling a phone what an account owes is a disclosure: it goes in the audit trail.
      await tx.auditEvent.create({
        data: {
          municipalityId: deps.municipalityId,
          actorType: "system",
          residentId: reminder.residentId,
          accountId: reminder.accountId,
          kind: "reminder_sent",
          data: JSON.stringify({ currency: reminder.currency, dueDate: reminder.dueDate.toISOString(), channel: reminder.channel, messageId: delivery.messageId }),
          createdAt: now,
        },
      });
      return delivery;
    });
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

const reminderKey = (accountId: number, residentId: number, currency: string, dueDate: Date) => `${accountId}:${residentId}:${currency}:${dueDate.toISOString()}`;

type Identity = { channel: string; route: string; lastInboundAt: Date | null };

/**
 * The channel the resident last wrote on; SMS when they never wrote (linked at the counter) or when
 * that was WhatsApp and its 24-hour window has closed. Reminders are bulk: through the town's own
 * WhatsApp phone only with WHATSAPP_WEB_BULK (and then whenever, it has no window), SMS otherwise.
 * Null when it would be SMS and no SMS reaches them (a WhatsApp sender without a number, a town
 * without an SMS route).
 */
export function reminderChannel(ctx: Omit<OutboxContext, "now">, resident: { phone: string; identities: readonly Identity[] }, now: Date): ChannelKind | null {
  const latest = resident.identities
    .filter((i): i is Identity & { lastInboundAt: Date } => i.lastInboundAt !== null)
    .reduce<(Identity & { lastInboundAt: Date }) | null>((a, b) => (a === null || b.lastInboundAt > a.lastInboundAt ? b : a), null);
  if (latest?.channel === "whatsapp" && bulkChannelFor(ctx, resident.phone, latest.route) === "whatsapp") {
    const route = routeFor(ctx, "whatsapp", latest.route);
    if (!hasReplyWindow(route) || whatsappWindowOpen(latest.lastInboundAt, now)) return "whatsapp";
  }
  return smsReaches(ctx, resident.phone) ? "sms" : null;
}

const hourFormat = new Intl.DateTimeFormat("en-GB", { timeZone: TIME_ZONE, hour: "2-digit", hourCycle: "h23" });
const dayFormat = new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit" });

/** The hour (0-23) on Beirut's clocks at an instant, daylight saving included. */
export function beirutHour(at: Date): number {
  return Number(hourFormat.formatToParts(at).find((p) => p.type === "hour")?.value ?? "0");
}

/** True from 21:00 to 07:59 in Beirut. */
export const isQuietHour = (hour: number) => hour >= QUIET_FROM_HOUR || hour < QUIET_UNTIL_HOUR;

/** The calendar day in Beirut at an instant, as "YYYY-MM-DD". */
export function beirutDay(at: Date): string {
  const parts = Object.fromEntries(dayFormat.formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

const ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩";

/** "31/03", the way dates are written in Lebanon; Arabic-Indic digits when configured for Arabic. */
function dayMonth(day: string, locale: Locale, digits: AmountDigits): string {
  const text = `${day.slice(8, 10)}/${day.slice(5, 7)}`;
  return digits === "arabic" && locale === "ar" ? text.replace(/\d/g, (d) => ARABIC_INDIC[Number(d)]!) : text;
}
