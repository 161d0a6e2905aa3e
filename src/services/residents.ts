import type { ChannelKind, Locale } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";

export interface InboundIdentity {
  municipalityId: string;
  phone: string;
  channel: ChannelKind;
  profileName?: string | undefined;
  at: Date;
}

/**
 * The resident behind a phone number, created on first contact, with the channel identity they
 * wrote from and the time of their last message on it (WhatsApp's 24-hour window is counted from it).
 */
export async function residentForInbound(tx: Tx, who: InboundIdentity) {
  const resident = await tx.resident.upsert({
    where: { municipalityId_phone: { municipalityId: who.municipalityId, phone: who.phone } },
    create: { municipalityId: who.municipalityId, phone: who.phone, profileName: who.profileName ?? null },
    update: who.profileName ? { profileName: who.profileName } : {},
  });
  await tx.channelIdentity.upsert({
    where: {
      municipalityId_channel_address: { municipalityId: who.municipalityId, channel: who.channel, address: who.phone },
    },
    create: {
      municipalityId: who.municipalityId,
      residentId: resident.id,
      channel: who.channel,
      address: who.phone,
      lastInboundAt: who.at,
    },
    update: { lastInboundAt: who.at },
  });
  return resident;
}

/** Records the resident's language. */
export async function setResidentLocale(tx: Tx, residentId: number, locale: Locale) {
  await tx.resident.update({ where: { id: residentId }, data: { locale } });
}

/** Opt-out (STOP) or back in (START); every sender checks `optedOut` before sending anything. */
export async function setOptOut(tx: Tx, residentId: number, optedOut: boolean, at: Date) {
  await tx.resident.update({
    where: { id: residentId },
    data: optedOut ? { optedOut: true, optedOutAt: at } : { optedOut: false, optedInAt: at },
  });
}

/** Why the bot stopped answering a resident: over the per-phone budget, or an autoresponder loop. */
export type BotPauseReason = "rate" | "loop";
export const BOT_PAUSE_REASONS = ["rate", "loop"] as const satisfies readonly BotPauseReason[];

/** A resident the bot stopped answering, since when and why. */
export interface BotPause {
  reason: BotPauseReason;
  since: Date;
}

/** The bot's pause on a resident as stored; null while the bot answers (an unknown reason reads as a flood). */
export function botPauseOf(resident: { botPausedAt: Date | null; botPauseReason: string | null }): BotPause | null {
  if (!resident.botPausedAt) return null;
  return { reason: resident.botPauseReason === "loop" ? "loop" : "rate", since: resident.botPausedAt };
}

/**
 * The resident's latest messages and the bot's replies to them since `since`, newest first, at
 * most `take` rows and only the columns the inbound guard reads (one query on the
 * (residentId, createdAt) index). Staff messages and notifications are not part of it.
 */
export async function recentExchange(tx: Tx, residentId: number, since: Date, take: number) {
  return tx.message.findMany({
    where: {
      residentId,
      createdAt: { gte: since },
      OR: [{ direction: "inbound" }, { direction: "outbound", kind: "bot", inReplyToId: { not: null } }],
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take,
    select: { id: true, direction: true, inReplyToId: true, body: true, createdAt: true },
  });
}

/**
 * Pauses the bot for a resident (`pause`) or lets it answer again (null), recording the change in
 * the audit log: by the system when the inbox decides, by a staff member when they resume it.
 */
export async function setBotPause(
  tx: Tx,
  change: { municipalityId: string; residentId: number; pause: BotPause | null; previous: BotPause | null; staffId?: number; now: Date },
) {
  await tx.resident.update({
    where: { id: change.residentId },
    data: change.pause ? { botPausedAt: change.pause.since, botPauseReason: change.pause.reason } : { botPausedAt: null, botPauseReason: null },
  });
  const about = change.pause ?? change.previous;
  await tx.auditEvent.create({
    data: {
      municipalityId: change.municipalityId,
      actorType: change.staffId === undefined ? "system" : "staff",
      actorId: change.staffId ?? null,
      residentId: change.residentId,
      kind: change.pause ? "bot_paused" : "bot_resumed",
      data: JSON.stringify({ reason: about?.reason ?? null, ...(change.previous && !change.pause ? { pausedAt: change.previous.since.toISOString() } : {}) }),
      createdAt: change.now,
    },
  });
}

/** Result of a staff member's "resume the bot". */
export type ResumeResult = { ok: true; reason: BotPauseReason } | { ok: false; error: "not_found" | "not_paused" };

/**
 * A staff member (or, with `staffId` null, the system) lets the bot answer a paused resident
 * again. Their messages stored while paused stay as they are; the per-phone budget still counts
 * them, so a phone still flooding is paused again by its next messages.
 */
export async function resumeBot(tx: Tx, request: { municipalityId: string; residentId: number; staffId: number | null; now: Date }): Promise<ResumeResult> {
  const resident = await tx.resident.findFirst({
    where: { id: request.residentId, municipalityId: request.municipalityId },
    select: { botPausedAt: true, botPauseReason: true },
  });
  if (!resident) return { ok: false, error: "not_found" };
  const previous = botPauseOf(resident);
  if (!previous) return { ok: false, error: "not_paused" };
  await setBotPause(tx, {
    municipalityId: request.municipalityId,
    residentId: request.residentId,
    pause: null,
    previous,
    ...(request.staffId === null ? {} : { staffId: request.staffId }),
    now: request.now,
  });
  return { ok: true, reason: previous.reason };
}
