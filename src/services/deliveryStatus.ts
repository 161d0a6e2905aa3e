import { DEFAULT_ROUTE, type Route } from "../channels/routes.js";
import type { Tx } from "../db/createDb.js";
import { queueTemplateOnce, type OutboxContext } from "./outbox.js";

// Twilio's message statuses in the order they happen; a later callback never moves a message back.
const RANK: Record<string, number> = {
  queued: 1,
  accepted: 1,
  scheduled: 1,
  sending: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
  canceled: 3,
  read: 4,
};
// The resident has it: delivered or read.
const DELIVERED = 3;

export interface DeliveryUpdate {
  /** The route that reported it (Twilio's callbacks unless said otherwise): a report only ever concerns its own route's messages. */
  route?: Route | undefined;
  providerMessageId: string;
  status: string;
  /** Our outbox row id, carried in the callback URL: known even if the worker crashed before recording the SID. */
  outboxId?: number | undefined;
  /** Which try of the row the message was (`try` in the callback URL): the row's `attemptStartedAt` then, in ms. */
  attempt?: number | undefined;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
}

/** The worker failed this message itself (deadline), without word from Twilio. */
const gaveUp = (message: { errorCode: string | null }) => message.errorCode?.startsWith("outbox_") ?? false;

const FAILURES = new Set(["failed", "undelivered", "canceled"]);

/**
 * Whether a callback is about an earlier try of the row than the current one: staff sent the
 * message again since. Callbacks name their try; older ones (sent before tries were named) are
 * judged by the provider's id the row recorded, or by there being no send under way.
 */
function aboutEarlierTry(outbox: { status: string; providerMessageId: string | null; attemptStartedAt: Date | null }, update: DeliveryUpdate): boolean {
  if (update.attempt !== undefined) return outbox.attemptStartedAt?.getTime() !== update.attempt;
  if (outbox.providerMessageId !== null) return outbox.providerMessageId !== update.providerMessageId;
  return outbox.status === "pending" || outbox.status === "held";
}

// WhatsApp refused free-form text because the resident's last message is over 24 hours old.
const WINDOW_CLOSED = "63016";

/**
 * Applies a delivery callback to the message it concerns. Idempotent, and monotonic: a late
 * "sent" after "delivered" changes nothing. A free-form WhatsApp message refused for the 24-hour
 * window (63016, usually reported here rather than when sending) is held and the template sent, as
 * if the worker had seen it. A report about an earlier try (before staff pressed "try again") never
 * fails or moves the current one. Returns false when no message matches.
 */
export async function applyDeliveryStatus(tx: Tx, update: DeliveryUpdate, now: Date, outboxCtx?: Omit<OutboxContext, "now">): Promise<boolean> {
  const rank = RANK[update.status];
  const route = update.route ?? DEFAULT_ROUTE;
  const named = update.outboxId !== undefined ? await tx.outbox.findUnique({ where: { id: update.outboxId } }) : null;
  // An outbox id from another route's report is not about this row (ids are only meaningful per route).
  const outbox = named && named.route === route ? named : null;
  const message = outbox
    ? await tx.message.findUnique({ where: { id: outbox.messageId } })
    : // An SMSC may reuse an id for a later message: the latest is the one a report is about.
      await tx.message.findFirst({ where: { direction: "outbound", route, providerMessageId: update.providerMessageId }, orderBy: { id: "desc" } });
  if (!message || rank === undefined) return false;
  // About a try before staff sent the message again: a failure, or word that Twilio merely took it,
  // says nothing about the new try and must not fail it (or let it be sent once more). Only proof
  // that the resident has the message (delivered, read) is kept: it stops a resend still queued.
  if (outbox && aboutEarlierTry(outbox, update) && (FAILURES.has(update.status) || rank < DELIVERED)) return true;
  // The worker may have crashed (or had no clear answer) after Twilio accepted the message: the
  // callback tells us it went. Clearing the claim stops any worker from sending it again. A failure
  // report is not taken as proof: it may be about an earlier attempt that staff have since retried.
  const unconfirmed = outbox !== null && !outbox.providerMessageId;
  if (outbox && unconfirmed && (outbox.status === "sending" || outbox.status === "pending" || (outbox.status === "failed" && gaveUp(message))) && !FAILURES.has(update.status)) {
    await tx.outbox.updateMany({
      where: { id: outbox.id, status: outbox.status, providerMessageId: null },
      data: { providerMessageId: update.providerMessageId, status: "sent", leaseUntil: null, claimId: null, updatedAt: now },
    });
  }
  // A message the worker gave up on (its deadline passed) that Twilio reports after all: Twilio is right.
  const current = unconfirmed && gaveUp(message) ? 0 : (RANK[message.status] ?? 0);
  if (rank <= current && message.providerMessageId) return true;
  if (update.errorCode === WINDOW_CLOSED && message.channel === "whatsapp" && message.kind !== "template" && outboxCtx) {
    await holdForWindow(tx, message, { ...outboxCtx, now });
    return true;
  }
  const failed = update.status === "failed" || update.status === "undelivered";
  await tx.message.update({
    where: { id: message.id },
    data: {
      providerMessageId: message.providerMessageId ?? update.providerMessageId,
      ...(rank > current ? { status: update.status === "canceled" ? "failed" : update.status } : {}),
      ...(failed && rank > current ? { errorCode: update.errorCode ?? null, errorMessage: update.errorMessage ?? null } : {}),
    },
  });
  return true;
}

async function holdForWindow(tx: Tx, message: { id: number; residentId: number; ticketId: number | null; municipalityId: string }, ctx: OutboxContext) {
  const outbox = await tx.outbox.findUnique({ where: { messageId: message.id } });
  if (!outbox) return;
  await tx.outbox.update({ where: { id: outbox.id }, data: { status: "held", providerMessageId: null, leaseUntil: null } });
  await tx.message.update({ where: { id: message.id }, data: { status: "held", errorCode: "window_closed", errorMessage: null, providerMessageId: null } });
  const resident = await tx.resident.findUniqueOrThrow({ where: { id: message.residentId } });
  const identity = await tx.channelIdentity.findUnique({
    where: { municipalityId_channel_address: { municipalityId: message.municipalityId, channel: "whatsapp", address: resident.phone } },
  });
  const ticket = message.ticketId !== null ? await tx.ticket.findUnique({ where: { id: message.ticketId } }) : null;
  await queueTemplateOnce(tx, ctx, {
    residentId: resident.id,
    ticketId: message.ticketId,
    reference: ticket?.reference ?? null,
    locale: resident.locale ?? ticket?.locale ?? null,
    to: outbox.toAddress,
    since: identity?.lastInboundAt ?? null,
  });
}
