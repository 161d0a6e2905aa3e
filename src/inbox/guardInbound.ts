import { parseState } from "../conversation/state.js";
import type { ChannelKind, Locale } from "../conversation/types.js";
import { LOCALES } from "../conversation/types.js";
import type { HotQ } from "../db/hot/connect.js";
import { conversationState, insertReply, replyTo, ticketIdOf, updateMessage } from "../db/hot/inbox.js";
import { recentExchange, setBotPause } from "../db/hot/residents.js";
import { staffThreadOf } from "../db/hot/tickets.js";
import { render } from "../i18n/render.js";
import { maskPhone } from "../lib/maskPhone.js";
import { botPauseOf } from "../services/residents.js";
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
export async function guardInbound(deps: InboxDeps, tx: HotQ, turn: GuardedTurn): Promise<InboundResult | null> {
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
  if (await awaitsBillCode(tx, resident.id, message.text)) await updateMessage(tx, turn.inboundId, { body: REDACTED_CODE }, now);
  // Staff asked this resident something lately: what they write while the bot is silent is theirs to read.
  const thread = await staffThreadOf(tx, deps.municipalityId, resident.id, now);
  if (thread) {
    const ticketId = await ticketIdOf(tx, deps.municipalityId, thread.reference);
    if (ticketId !== null) await updateMessage(tx, turn.inboundId, { ticketId }, now);
  }
  if (decision.reply === "silent") return { replies: [], duplicate: false };

  const body = render(deps.i18n, [{ key: "guard.paused" }], noticeLocale(resident.locale, message.text), message.channel);
  const to = replyTo(message, { municipalityId: deps.municipalityId, residentId: resident.id, inReplyToId: turn.inboundId, now, deadlineMs: deps.outboxDeadlineMs });
  await insertReply(tx, { ...to, ticketId: null, body });
  return { replies: [body], duplicate: false };
}

/**
 * The conversation waits for a bill's code ("linkCode") and the message reads as one: the engine
 * would take it as the code, so it must not be stored in clear. One read of the stored state.
 */
async function awaitsBillCode(tx: HotQ, residentId: number, text: string): Promise<boolean> {
  if (readVerificationCode(text) === null) return false;
  const state = await conversationState(tx, residentId);
  return state !== null && parseState(state).state.step === "linkCode";
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
