import type { ChannelKind, Locale } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";

/** Renders a notification text (locales/{ar,en}/notify.json) for a resident's language and channel. */
export type RenderNotification = (key: string, params: Record<string, string | number>, locale: Locale, channel: ChannelKind) => string;

export interface OutboxContext {
  municipalityId: string;
  now: Date;
  render: RenderNotification;
  /** Twilio Content SID of the approved "there is an update on your request #{{1}}" template. */
  whatsappTemplateSid?: string | undefined;
}

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

/** The provider address of a resident on a channel. */
export const addressOn = (channel: ChannelKind, phone: string) => (channel === "whatsapp" ? `whatsapp:${phone}` : phone);

/**
 * Records a message for a resident and, unless it must not go out, an outbox row the worker will
 * deliver — inside the caller's transaction, so the message exists exactly when the change that
 * caused it does. Opted-out residents get nothing (the message says why). On WhatsApp outside the
 * 24-hour window the message is held until the resident writes, and the approved template is sent
 * instead (once per wait).
 */
export async function enqueueOutbound(tx: Tx, ctx: OutboxContext, text: OutboundText): Promise<Enqueued> {
  const resident = await tx.resident.findUniqueOrThrow({ where: { id: text.residentId } });
  const base = {
    municipalityId: ctx.municipalityId,
    residentId: resident.id,
    ticketId: text.ticketId,
    direction: "outbound",
    channel: text.channel,
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
  if (text.channel === "whatsapp") {
    const identity = await tx.channelIdentity.findUnique({
      where: { municipalityId_channel_address: { municipalityId: ctx.municipalityId, channel: "whatsapp", address: resident.phone } },
    });
    if (!whatsappWindowOpen(identity?.lastInboundAt, ctx.now)) {
      const message = await tx.message.create({ data: { ...base, status: "held", errorCode: "window_closed" } });
      await tx.outbox.create({
        data: { municipalityId: ctx.municipalityId, messageId: message.id, residentId: resident.id, channel: text.channel, toAddress: to, body: text.body, status: "held", nextAttemptAt: ctx.now },
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
    data: { municipalityId: ctx.municipalityId, messageId: message.id, residentId: resident.id, channel: text.channel, toAddress: to, body: text.body, status: "pending", nextAttemptAt: ctx.now },
  });
  return { status: "queued", messageId: message.id };
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
    },
  });
  return true;
}

/** The resident wrote on WhatsApp: the window is open again, so held messages go out now. */
export async function releaseHeld(tx: Tx, residentId: number, channel: ChannelKind, now: Date): Promise<number> {
  const held = await tx.outbox.findMany({ where: { residentId, channel, status: "held" }, select: { id: true, messageId: true } });
  if (held.length === 0) return 0;
  await tx.outbox.updateMany({ where: { id: { in: held.map((h) => h.id) } }, data: { status: "pending", nextAttemptAt: now } });
  await tx.message.updateMany({ where: { id: { in: held.map((h) => h.messageId) } }, data: { status: "queued", errorCode: null } });
  return held.length;
}
