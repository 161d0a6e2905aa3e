import { DEFAULT_ROUTE, isRoute, type Route } from "../channels/routes.js";
import type { ChannelKind, Locale } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";
import { isPhoneNumber } from "../lib/phone.js";

/** Renders a notification text (locales/{ar,en}/notify.json) for a resident's language and channel. */
export type RenderNotification = (key: string, params: Record<string, string | number>, locale: Locale, channel: ChannelKind) => string;

export interface OutboxContext {
  municipalityId: string;
  now: Date;
  render: RenderNotification;
  /** Twilio Content SID of the approved "there is an update on your request #{{1}}" template. */
  whatsappTemplateSid?: string | undefined;
  /** How long the worker may try a message before it is failed (OUTBOX_DEADLINE_HOURS; default 24 h). */
  deliveryDeadlineMs?: number | undefined;
  /**
   * How SMS reach a resident who never wrote by SMS (a reminder to an imported account holder):
   * the first configured of Twilio, the Android gateway, SMPP. Everyone else gets their messages the
   * way they last wrote.
   */
  smsRoute?: Route | undefined;
  /**
   * The routes that can send SMS on this deployment (Twilio only with an SMS number). A resident whose
   * last SMS route is not one of them (the town moved from Twilio to its own Android phone) gets SMS
   * by `smsRoute` instead. Unset: every route counts (tests, tools).
   */
  smsRoutes?: readonly Route[] | undefined;
  /**
   * The routes that can send WhatsApp on this deployment: "twilio" with a WhatsApp sender
   * (TWILIO_WHATSAPP_FROM), "whatsapp-web" when the town's own phone is enabled. A resident who last
   * wrote by "whatsapp-web" is answered there while it is one of them; otherwise through Twilio.
   * Unset: every route counts (tests, tools).
   */
  whatsappRoutes?: readonly Route[] | undefined;
  /**
   * Whether messages the town starts on its own (reminders, survey invitations) may go through
   * "whatsapp-web" (WHATSAPP_WEB_BULK; default no: an unofficial client sending in bulk is how a
   * number gets banned). Without it such residents get them by SMS, or not at all.
   */
  whatsappWebBulk?: boolean | undefined;
}

/** How long a message may take to go out before it is failed, visibly, unless configured otherwise. */
export const DEFAULT_DELIVERY_DEADLINE_MS = 24 * 3600_000;

/** Codes the worker leaves on a message it gave up on; the staff pages explain them (staff.json `outbox.reason.*`). */
export const OUTBOX_FAILURES = {
  /** Not accepted by the provider before the deadline. */
  deadline: "outbox_deadline",
  /** The provider never answered and could not be asked before the deadline: it may have gone out. */
  unconfirmed: "outbox_unconfirmed",
  /** Its route (the Android gateway, SMPP…) is not configured on any instance that ran the worker. */
  noRoute: "outbox_no_route",
} as const;

/** The deadline of a row that becomes pending at `now`. */
export const deliveryDeadline = (now: Date, deadlineMs: number | undefined = DEFAULT_DELIVERY_DEADLINE_MS) => new Date(now.getTime() + deadlineMs);

export interface OutboundText {
  residentId: number;
  ticketId: number | null;
  /** The reference the template mentions when the WhatsApp window is closed. */
  reference: number | null;
  channel: ChannelKind;
  kind: "staff" | "notification";
  body: string;
  staffId?: number;
}

/** What became of a message handed to the outbox. */
export type Enqueued =
  | { status: "queued"; messageId: number }
  | { status: "held"; messageId: number; templateQueued: boolean }
  | { status: "not_sent"; messageId: number; reason: "opted_out" };

const WINDOW_HOURS = 24;

/** True while WhatsApp allows free-form messages: the resident wrote within the last 24 hours. */
export function whatsappWindowOpen(lastInboundAt: Date | null | undefined, now: Date): boolean {
  return !!lastInboundAt && now.getTime() - lastInboundAt.getTime() < WINDOW_HOURS * 3600_000;
}

/**
 * Whether WhatsApp's 24-hour rule binds a route: it does for Twilio (the Business API refuses
 * free-form text after 24 hours, and templates are the way back); the town's own phone
 * ("whatsapp-web") writes like a person does, any time, and has no templates.
 */
export const hasReplyWindow = (route: string) => route !== "whatsapp-web";

/** The provider address of a resident on a channel. */
export const addressOn = (channel: ChannelKind, phone: string) => (channel === "whatsapp" ? `whatsapp:${phone}` : phone);

/** Whether an SMS can reach a resident: a real number, and a route on this deployment that sends SMS. */
export const smsReaches = (ctx: Pick<OutboxContext, "smsRoutes">, phone: string) => isPhoneNumber(phone) && (!ctx.smsRoutes || ctx.smsRoutes.length > 0);

/**
 * The channel a message the town starts on its own (a reminder, a survey invitation) takes to a
 * resident it would write to on WhatsApp, whose WhatsApp identity last came by `lastRoute`:
 * WhatsApp, unless that is the town's own phone without WHATSAPP_WEB_BULK — then SMS when an SMS can
 * reach them, else null (nothing reaches them in bulk). The caller still applies the 24-hour rule
 * where the route has it (`hasReplyWindow`).
 */
export function bulkChannelFor(ctx: Pick<OutboxContext, "whatsappRoutes" | "whatsappWebBulk" | "smsRoutes">, phone: string, lastRoute: string | undefined): ChannelKind | null {
  if (routeFor(ctx, "whatsapp", lastRoute) !== "whatsapp-web" || ctx.whatsappWebBulk) return "whatsapp";
  return smsReaches(ctx, phone) ? "sms" : null;
}

/**
 * Records a message for a resident and, unless it must not go out, an outbox row the worker will
 * deliver — inside the caller's transaction, so the message exists exactly when the change that
 * caused it does. Opted-out residents get nothing (the message says why). On WhatsApp through
 * Twilio outside the 24-hour window the message is held until the resident writes, and the
 * approved template is sent instead (once per wait); through the town's own phone ("whatsapp-web")
 * it is queued whenever it is written.
 */
export async function enqueueOutbound(tx: Tx, ctx: OutboxContext, text: OutboundText): Promise<Enqueued> {
  const resident = await tx.resident.findUniqueOrThrow({ where: { id: text.residentId } });
  const identity = await tx.channelIdentity.findUnique({
    where: { municipalityId_channel_address: { municipalityId: ctx.municipalityId, channel: text.channel, address: resident.phone } },
  });
  const route = routeFor(ctx, text.channel, identity?.route);
  const base = {
    municipalityId: ctx.municipalityId,
    residentId: resident.id,
    ticketId: text.ticketId,
    direction: "outbound",
    channel: text.channel,
    route,
    body: text.body,
    kind: text.kind,
    staffId: text.staffId ?? null,
    createdAt: ctx.now,
  };
  if (resident.optedOut) {
    const message = await tx.message.create({ data: { ...base, status: "not_sent", errorCode: "opted_out" } });
    return { status: "not_sent", messageId: message.id, reason: "opted_out" };
  }
  const to = addressOn(text.channel, resident.phone);
  if (text.channel === "whatsapp" && hasReplyWindow(route)) {
    if (!whatsappWindowOpen(identity?.lastInboundAt, ctx.now)) {
      const message = await tx.message.create({ data: { ...base, status: "held", errorCode: "window_closed" } });
      await tx.outbox.create({
        data: { municipalityId: ctx.municipalityId, messageId: message.id, residentId: resident.id, channel: text.channel, route, toAddress: to, body: text.body, status: "held", nextAttemptAt: ctx.now },
      });
      const ticket = text.ticketId !== null ? await tx.ticket.findUnique({ where: { id: text.ticketId }, select: { locale: true } }) : null;
      const templateQueued = await queueTemplateOnce(tx, ctx, {
        residentId: resident.id,
        ticketId: text.ticketId,
        reference: text.reference,
        locale: resident.locale ?? ticket?.locale ?? null,
        to,
        since: identity?.lastInboundAt ?? null,
      });
      return { status: "held", messageId: message.id, templateQueued };
    }
  }
  const message = await tx.message.create({ data: { ...base, status: "queued" } });
  await tx.outbox.create({
    data: { municipalityId: ctx.municipalityId, messageId: message.id, residentId: resident.id, channel: text.channel, route, toAddress: to, body: text.body, status: "pending", nextAttemptAt: ctx.now, deadlineAt: deliveryDeadline(ctx.now, ctx.deliveryDeadlineMs) },
  });
  return { status: "queued", messageId: message.id };
}

/**
 * The way a message reaches a resident on a channel: the route they last wrote by, while it is
 * configured; otherwise, for SMS, the deployment's SMS route, and for WhatsApp, Twilio. WhatsApp
 * goes through the town's own phone only to residents who last wrote to it.
 */
export function routeFor(ctx: Pick<OutboxContext, "smsRoute" | "smsRoutes" | "whatsappRoutes">, channel: ChannelKind, last: string | undefined): Route {
  if (channel === "whatsapp") {
    const own = last === "whatsapp-web" && (!ctx.whatsappRoutes || ctx.whatsappRoutes.includes(last));
    return own ? "whatsapp-web" : DEFAULT_ROUTE;
  }
  const usable = last !== undefined && isRoute(last) && (!ctx.smsRoutes || ctx.smsRoutes.includes(last));
  return usable ? last : (ctx.smsRoute ?? DEFAULT_ROUTE);
}

interface TemplateRequest {
  residentId: number;
  ticketId: number | null;
  reference: number | null;
  locale: string | null;
  to: string;
  since: Date | null;
}

/**
 * Queues the approved WhatsApp template unless one already went out (or is going out) since the
 * resident last wrote: one nudge per wait, however many replies staff hold.
 */
export async function queueTemplateOnce(tx: Tx, ctx: OutboxContext, req: TemplateRequest): Promise<boolean> {
  if (!ctx.whatsappTemplateSid) return false;
  const earlier = await tx.message.findFirst({
    where: {
      residentId: req.residentId,
      kind: "template",
      status: { notIn: ["failed", "undelivered"] },
      ...(req.since ? { createdAt: { gt: req.since } } : {}),
    },
  });
  if (earlier) return false;
  const locale: Locale = req.locale === "en" ? "en" : "ar";
  const reference = req.reference ?? 0;
  const message = await tx.message.create({
    data: {
      municipalityId: ctx.municipalityId,
      residentId: req.residentId,
      ticketId: req.ticketId,
      direction: "outbound",
      channel: "whatsapp",
      kind: "template",
      body: ctx.render("template", { reference }, locale, "whatsapp"),
      status: "queued",
      createdAt: ctx.now,
    },
  });
  await tx.outbox.create({
    data: {
      municipalityId: ctx.municipalityId,
      messageId: message.id,
      residentId: req.residentId,
      channel: "whatsapp",
      toAddress: req.to,
      body: message.body,
      contentSid: ctx.whatsappTemplateSid,
      contentVariables: JSON.stringify({ 1: String(reference) }),
      status: "pending",
      nextAttemptAt: ctx.now,
      deadlineAt: deliveryDeadline(ctx.now, ctx.deliveryDeadlineMs),
    },
  });
  return true;
}

/** Why a failed message cannot be sent again. */
export type RequeueRefusal = "not_failed" | "opted_out";

/**
 * Staff asked to try a failed message again: its outbox row goes back to pending with a fresh
 * deadline and attempt count, the message back to "queued". The row keeps its id, so a status
 * callback or a late provider answer about the earlier attempts still finds it; they name the
 * earlier try (`attemptStartedAt`, cleared here and set again when the new try starts), so they
 * cannot change the new one. Returns the provider's id of the earlier try, when there was one.
 */
export async function requeueFailed(
  tx: Tx,
  ctx: OutboxContext,
  messageId: number,
): Promise<{ ok: true; previousProviderMessageId: string | null } | { ok: false; reason: RequeueRefusal }> {
  const message = await tx.message.findUnique({ where: { id: messageId }, include: { outbox: true, resident: true } });
  if (!message?.outbox) return { ok: false, reason: "not_failed" };
  // Whatever became of the message, nothing goes to a resident who opted out: the reason that matters.
  if (message.resident.optedOut) return { ok: false, reason: "opted_out" };
  if (!isFailed(message)) return { ok: false, reason: "not_failed" };
  const outbox = message.outbox;
  // Compare-and-set on what was read, the message first: two clicks (or two staff) queue it once,
  // and a row a worker holds ("sending") or that is queued already is never touched.
  const reopened = await tx.message.updateMany({
    where: { id: message.id, status: message.status },
    data: { status: "queued", errorCode: null, errorMessage: null, providerMessageId: null },
  });
  if (reopened.count === 0) return { ok: false, reason: "not_failed" };
  const won = await tx.outbox.updateMany({
    // `isFailed` read "failed" or "sent": a row that has since been claimed or queued no longer matches.
    where: { id: outbox.id, status: outbox.status, claimId: outbox.claimId },
    data: {
      status: "pending",
      attempts: 0,
      nextAttemptAt: ctx.now,
      deadlineAt: deliveryDeadline(ctx.now, ctx.deliveryDeadlineMs),
      leaseUntil: null,
      claimId: null,
      attemptStartedAt: null,
      providerMessageId: null,
      lastError: null,
    },
  });
  if (won.count === 0) {
    // The row changed under us: leave the message as it was.
    await tx.message.update({
      where: { id: message.id },
      data: { status: message.status, errorCode: message.errorCode, errorMessage: message.errorMessage, providerMessageId: message.providerMessageId },
    });
    return { ok: false, reason: "not_failed" };
  }
  return { ok: true, previousProviderMessageId: outbox.providerMessageId ?? message.providerMessageId };
}

// Rows whose work is over, so that staff may start it again: never "pending", "sending" or "held".
const RESENDABLE_ROWS = ["failed", "sent"] as const;

/**
 * A message that will not arrive and that staff may send again: failed by the worker (refused, or
 * not accepted before its deadline), or reported failed/undelivered by the provider after it was
 * sent. Never while its row is queued, being sent or held (a report about an earlier try may have
 * marked the message failed meanwhile), nor once it was sent by SMS instead (its row is "cancelled").
 */
export function isFailed(message: { status: string; outbox: { status: string } | null }): boolean {
  if (!message.outbox) return false;
  const rowDone = (RESENDABLE_ROWS as readonly string[]).includes(message.outbox.status);
  return rowDone && (message.status === "failed" || message.status === "undelivered");
}
