import { z } from "zod";
import type { BotPause } from "../services/residents.js";
import { normalizeText, tokens } from "../understand/normalizeText.js";
import { isCommand } from "../understand/understand.js";

/** Limits of the per-phone budget and the loop breaker; every value a positive whole number. */
export interface GuardOptions {
  /** More inbound messages than this within the window pause the bot (INBOUND_RATE_LIMIT). */
  rateLimit: number;
  /** The budget's window (INBOUND_RATE_WINDOW_MINUTES). The pause lifts when the window holds at most half the limit. */
  rateWindowMinutes: number;
  /** This many echo-like messages in a row, most of them repeats or echoes, pause the bot as a loop (LOOP_REPEAT_LIMIT). */
  loopRepeatLimit: number;
  /** A loop pause lifts by itself after this long without a message (LOOP_QUIET_MINUTES). */
  loopQuietMinutes: number;
  /** Faster than anyone types on a phone: a longer answer sooner after our reply may be a machine's (it only adds to repeats and echoes). */
  typingCharsPerSecond: number;
  /** Shorter answers are never "too fast" ("1", "ok" take a tap). */
  fastReplyMinLength: number;
}

/** The documented defaults: 20 messages in 10 minutes; 5 echoes in a row; an hour of quiet. */
export const DEFAULT_GUARD_OPTIONS: Readonly<GuardOptions> = Object.freeze({
  rateLimit: 20,
  rateWindowMinutes: 10,
  loopRepeatLimit: 5,
  loopQuietMinutes: 60,
  typingCharsPerSecond: 10,
  fastReplyMinLength: 20,
});

const count = (fallback: number) => z.number().int().positive().default(fallback);
const GuardOptionsSchema = z.strictObject({
  rateLimit: count(DEFAULT_GUARD_OPTIONS.rateLimit),
  rateWindowMinutes: count(DEFAULT_GUARD_OPTIONS.rateWindowMinutes),
  loopRepeatLimit: count(DEFAULT_GUARD_OPTIONS.loopRepeatLimit),
  loopQuietMinutes: count(DEFAULT_GUARD_OPTIONS.loopQuietMinutes),
  typingCharsPerSecond: count(DEFAULT_GUARD_OPTIONS.typingCharsPerSecond),
  fastReplyMinLength: count(DEFAULT_GUARD_OPTIONS.fastReplyMinLength),
});

/** The defaults with `overrides` on top; throws on a value that is not a positive whole number. */
export function guardOptions(overrides: Partial<GuardOptions> = {}): GuardOptions {
  const parsed = GuardOptionsSchema.safeParse(overrides);
  if (!parsed.success) throw new Error(`Bad inbound guard option: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  return parsed.data;
}

/** How many of a resident's latest messages `inboundGuard` needs to see to decide (see `RecentMessage`). */
export function recentNeeded(options: GuardOptions): number {
  // Each inbound message has at most one bot reply, so this many rows hold at least
  // max(limit + 1, 2 × loop limit + 1) inbound messages: enough to tell "over the limit", and a loop
  // (its messages, and the loop limit's worth of messages before each one to find repeats among).
  return 2 * (Math.max(options.rateLimit, 2 * options.loopRepeatLimit) + 1) + 1;
}

/** One of a resident's latest messages: their own (inbound) or the bot's reply to one (`inReplyToId`). */
export interface RecentMessage {
  id: number;
  direction: string;
  inReplyToId: number | null;
  body: string;
  createdAt: Date;
}

export interface GuardInput {
  now: Date;
  pause: BotPause | null;
  /**
   * The resident's latest messages and the bot's replies to them, newest first, the current
   * message first: at least `recentNeeded(options)` rows when there are that many.
   */
  recent: readonly RecentMessage[];
  /** The message opts out (or, for an opted-out resident, back in): it always reaches the engine. */
  keyword: boolean;
  optedOut: boolean;
}

/**
 * What to do with one inbound message: `answer` (run the engine as usual), `notice` (the one short
 * notice that the bot pauses), or `silent` (store it, show it to staff, no reply, no engine).
 * `pause`: the resident's pause to store — a new one, `null` to lift it, absent to leave it.
 */
export interface GuardDecision {
  reply: "answer" | "notice" | "silent";
  pause?: BotPause | null;
}

/**
 * The per-phone budget and the loop breaker, as a pure function of the resident's recent messages.
 * - Budget: more than `rateLimit` messages in the window → pause ("rate") with one notice. The pause
 *   lifts on the first message after which the window holds at most half the limit (hysteresis: a
 *   phone hovering at the limit does not flip between answered and silent).
 * - Loop: `loopRepeatLimit` messages in a row that each answer a bot reply with a near-same text, an
 *   echo of that reply, or a long text sooner than a person types it — more than half of them
 *   near-same or echoes, speed alone never (see `isLoop`) → pause ("loop") without a word (a reply
 *   would feed the loop). It lifts when staff resume the bot, or with the first message after
 *   `loopQuietMinutes` of quiet.
 * Opt-out (and opt-in for an opted-out resident) always reaches the engine.
 */
export function inboundGuard(input: GuardInput, options: GuardOptions): GuardDecision {
  const { now, recent } = input;
  const inbound = recent.filter((m) => m.direction === "inbound");
  const windowStart = now.getTime() - options.rateWindowMinutes * 60_000;
  const inWindow = inbound.filter((m) => m.createdAt.getTime() > windowStart).length;

  let lifted = false;
  if (input.pause) {
    const previous = inbound[1];
    const calm =
      input.pause.reason === "rate"
        ? inWindow <= Math.floor(options.rateLimit / 2)
        : !previous || now.getTime() - previous.createdAt.getTime() >= options.loopQuietMinutes * 60_000;
    if (!calm) return { reply: input.keyword ? "answer" : "silent" };
    lifted = true;
  }
  const unchanged: GuardDecision = lifted ? { reply: "answer", pause: null } : { reply: "answer" };
  if (input.keyword) return unchanged;
  if (inWindow > options.rateLimit) return { reply: input.optedOut ? "silent" : "notice", pause: { reason: "rate", since: now } };
  if (isLoop(recent, options)) return { reply: "silent", pause: { reason: "loop", since: now } };
  return unchanged;
}

/**
 * Whether the latest `loopRepeatLimit` messages, the current one first, are a loop: each answers a
 * bot reply (a robot answers our replies; a message the bot left unanswered breaks it) and looks
 * like a machine's — a repeat (near-same as one of the messages before it), an echo of our reply,
 * or a long text sooner than a person types it — and most of them (more than half) repeat or echo.
 * Speed alone is never enough: the bot answers within the request, so in a burst (a person typing
 * several lines, WhatsApp delivering queued messages on reconnect) every message looks "fast".
 * Bare numbers and menu words never count (see `bareAnswer`).
 */
function isLoop(recent: readonly RecentMessage[], options: GuardOptions): boolean {
  const limit = options.loopRepeatLimit;
  const replyTo = new Map<number, RecentMessage>();
  for (const m of recent) if (m.direction !== "inbound" && m.inReplyToId !== null) replyTo.set(m.inReplyToId, m);
  const inbound = recent.filter((m) => m.direction === "inbound");
  if (inbound.length < limit + 1) return false;
  let repeats = 0;
  for (let i = 0; i < limit; i++) {
    const message = inbound[i]!;
    const ourReply = replyTo.get(inbound[i + 1]!.id);
    if (!ourReply) return false;
    // A repeat says again what one of the `limit` messages before it said, or echoes our reply.
    const earlier = inbound.slice(i + 1, i + 1 + limit);
    const repeat = !bareAnswer(message.body) && (echoes(message.body, ourReply.body) || earlier.some((other) => nearSame(message.body, other.body)));
    if (repeat) repeats++;
    else if (!tooFast(message, ourReply, options)) return false;
  }
  return repeats > limit / 2;
}

/** A long answer sooner after our reply than anyone types it. */
function tooFast(message: RecentMessage, ourReply: RecentMessage, options: GuardOptions): boolean {
  const seconds = (message.createdAt.getTime() - ourReply.createdAt.getTime()) / 1000;
  const length = [...message.body.trim()].length;
  return length >= options.fastReplyMinLength && seconds * options.typingCharsPerSecond < length;
}

/** The message repeats our reply: near-same, or quoting it whole (of a few words at least) inside its own. */
function echoes(message: string, ourReply: string): boolean {
  if (nearSame(message, ourReply)) return true;
  const reply = canonical(ourReply);
  return reply.split(" ").length >= QUOTED_REPLY_WORDS && /\p{L}/u.test(reply) && ` ${canonical(message)} `.includes(` ${reply} `);
}
const QUOTED_REPLY_WORDS = 3;

/**
 * A bare number (a menu choice, a reference, a bill's code: "1", "١", "4821") or one of the bot's
 * menu words ("yes", "ok", "نعم", "menu", "help"…): a confused resident taps them again and again,
 * so they never count toward a loop, not even as the same as themselves.
 */
export function bareAnswer(text: string): boolean {
  const normalized = normalizeText(text);
  if (/^[\d ]+$/.test(normalized)) return normalized.replace(/ /g, "").length <= BARE_NUMBER_DIGITS;
  const words = tokens(normalized);
  return MENU_WORDS.some((command) => isCommand(words, command));
}
const BARE_NUMBER_DIGITS = 16;
const MENU_WORDS = ["yes", "no", "skip", "menu", "help", "cancel", "english", "arabic"] as const;

// Long texts (an away message, a receipt) count as near-same when this share of their words match.
const LONG_TEXT_WORDS = 8;
const SIMILAR_WORDS = 0.8;

/**
 * Two messages say the same thing: equal once normalised (case, spacing, punctuation, digit shapes,
 * Arabic letter variants) with numbers inside words masked — a counter, a date, a time; or, for long
 * texts, at least 80% the same words. A bare number or a menu word (`bareAnswer`: "1", "ok") and a
 * message without words (a photo, a pin, an emoji) are never the same as anything, themselves included.
 */
export function nearSame(a: string, b: string): boolean {
  if (bareAnswer(a) || bareAnswer(b)) return false;
  const x = canonical(a);
  const y = canonical(b);
  if (!x || !y) return false;
  if (x === y) return true;
  const xs = x.split(" ");
  const ys = y.split(" ");
  if (Math.min(xs.length, ys.length) < LONG_TEXT_WORDS) return false;
  return diceSimilarity(xs, ys) >= SIMILAR_WORDS;
}

function canonical(text: string): string {
  const normalized = normalizeText(text);
  return /\p{L}/u.test(normalized) ? normalized.replace(/\d+/g, "0") : normalized;
}

/** 2 × shared words ÷ all words, counting repeated words as often as they occur. */
function diceSimilarity(xs: readonly string[], ys: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const w of xs) counts.set(w, (counts.get(w) ?? 0) + 1);
  let shared = 0;
  for (const w of ys) {
    const left = counts.get(w) ?? 0;
    if (left > 0) {
      shared++;
      counts.set(w, left - 1);
    }
  }
  return (2 * shared) / (xs.length + ys.length);
}
