import { parseState } from "../conversation/state.js";
import type { ChannelKind, Locale } from "../conversation/types.js";
import { LOCALES } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";
import { render } from "../i18n/render.js";
import { maskPhone } from "../lib/maskPhone.js";
import { botPauseOf, recentExchange, setBotPause } from "../services/residents.js";
import { staffThreadOf } from "../services/tickets.js";
import { languageEvidence } from "../understand/detectLanguage.js";
import { normalizeText, tokens } from "../understand/normalizeText.js";
import { readVerificationCode } from "../understand/readAccountInput.js";
import { isCommand } from "../understand/understand.js";
import type { InboxDeps } from "./handleInbound.js";
import { guardOptions, inboundGuard, recentNeeded } from "./inboundGuard.js";
import { REDACTED_CODE, type InboundMessage, type InboundResult } from "./inboundMessage.js";

export interface GuardedTurn {
  resident: { id: number; locale: string | null; optedOut: boolean; botPausedAt: Date | null; botPauseReason: string | null };
  /** The stored row of the message being handled. */
  inboundId: number;
  message: InboundMessage;
  now: Date;
}

/**
 * The per-phone budget and the loop breaker for one inbound message, inside the inbox's
 * transaction (see `inboundGuard` for the rules; options from `deps.guard` over the defaults).
 * Stores a pause or its end. Returns what to answer when the engine must not run — the one notice,
 * or silence with the message linked to the ticket staff are talking about — or null to go on.
 */
export async function guardInbound(deps: InboxDeps, tx: Tx, turn: GuardedTurn): Promise<InboundResult | null> {
  const { resident, message, now } = turn;
  const options = guardOptions(deps.guard);
  const lookBack = Math.max(options.rateWindowMinutes, options.loopQuietMinutes) * 60_000;
  const recent = await recentExchange(tx, resident.id, new Date(now.getTime() - lookBack), recentNeeded(options));
  const pause = botPauseOf(resident);
  const decision = inboundGuard({ now, pause, recent, keyword: subscriptionKeyword(message.text, message.channel, resident.optedOut), optedOut: resident.optedOut }, options);

  if (decision.pause !== undefined) {
    await setBotPause(tx, { municipalityId: deps.municipalityId, residentId: resident.id, pause: decision.pause, previous: pause, now });
    deps.logger.warn(
      { from: maskPhone(message.from), channel: message.channel, reason: (decision.pause ?? pause)?.reason },
      decision.pause ? "bot paused for a resident" : "bot answers a resident again",
    );
  }
  if (decision.reply === "answer") return null;

  // The engine does not run, so it cannot blank out a bill's code: do it here (see `REDACTED_CODE`).
  if (await awaitsBillCode(tx, resident.id, message.text)) await tx.message.update({ where: { id: turn.inboundId }, data: { body: REDACTED_CODE } });
  // Staff asked this resident something lately: what they write while the bot is silent is theirs to read.
  const thread = await staffThreadOf(tx, deps.municipalityId, resident.id, now);
  if (thread) {
    const ticket = await tx.ticket.findFirst({ where: { municipalityId: deps.municipalityId, reference: thread.reference }, select: { id: true } });
    if (ticket) await tx.message.update({ where: { id: turn.inboundId }, data: { ticketId: ticket.id } });
  }
  if (decision.reply === "silent") return { replies: [], duplicate: false };

  const body = render(deps.i18n, [{ key: "guard.paused" }], noticeLocale(resident.locale, message.text), message.channel);
  await tx.message.create({
    data: {
      municipalityId: deps.municipalityId,
      residentId: resident.id,
      direction: "outbound",
      kind: "bot",
      channel: message.channel,
      inReplyToId: turn.inboundId,
      body,
      status: "replied",
      createdAt: now,
    },
  });
  return { replies: [body], duplicate: false };
}

/**
 * The conversation waits for a bill's code ("linkCode") and the message reads as one: the engine
 * would take it as the code, so it must not be stored in clear. One read of the stored state.
 */
async function awaitsBillCode(tx: Tx, residentId: number, text: string): Promise<boolean> {
  if (readVerificationCode(text) === null) return false;
  const conversation = await tx.conversation.findUnique({ where: { residentId }, select: { state: true } });
  return conversation !== null && parseState(conversation.state).state.step === "linkCode";
}

/**
 * The message opts out (STOP, and on SMS the carrier's CANCEL/END/QUIT too) — or, for a resident who
 * opted out, back in: a resident can always unsubscribe, paused or not. Matched as the engine does.
 */
function subscriptionKeyword(text: string, channel: ChannelKind, optedOut: boolean): boolean {
  const words = tokens(normalizeText(text));
  if (words.length === 0) return false;
  if (optedOut) return isCommand(words, "optIn");
  return isCommand(words, "optOut") || (channel === "sms" && isCommand(words, "smsOptOut"));
}

/** The resident's language, or the message's when we do not know it yet (as the engine decides). */
function noticeLocale(stored: string | null, text: string): Locale {
  return LOCALES.find((l) => l === stored) ?? (languageEvidence(text).language === "en" ? "en" : "ar");
}
