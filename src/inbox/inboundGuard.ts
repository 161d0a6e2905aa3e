import { z } from "zod";
import type { BotPause } from "../services/residents.js";
import { normalizeText } from "../understand/normalizeText.js";

/** Limits of the per-phone budget and the loop breaker; every value a positive whole number. */
export interface GuardOptions {
  /** More inbound messages than this within the window pause the bot (INBOUND_RATE_LIMIT). */
  rateLimit: number;
  /** The budget's window (INBOUND_RATE_WINDOW_MINUTES). The pause lifts when the window holds at most half the limit. */
  rateWindowMinutes: number;
  /** This many echo-like messages in a row pause the bot as a loop (LOOP_REPEAT_LIMIT). */
  loopRepeatLimit: number;
  /** A loop pause lifts by itself after this long without a message (LOOP_QUIET_MINUTES). */
  loopQuietMinutes: number;
  /** Faster than anyone types on a phone: a longer answer sooner after our reply is a machine's. */
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
  // max(limit + 1, loop limit + 1) inbound messages: enough to tell "over the limit" and a loop.
  return 2 * (Math.max(options.rateLimit, options.loopRepeatLimit) + 1) + 1;
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
 * - Loop: `loopRepeatLimit` messages in a row that each answer a bot reply with the same or near-same
 *   text as before, an echo of that reply, or a long text sooner than a person types it → pause
 *   ("loop") without a word (a reply would feed the loop). It lifts when staff resume the bot, or
 *   with the first message after `loopQuietMinutes` of quiet.
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
  if (echoStreak(recent, options) >= options.loopRepeatLimit) return { reply: "silent", pause: { reason: "loop", since: now } };
  return unchanged;
}

/** How many messages in a row, the current one last, look like a machine answering our replies. */
function echoStreak(recent: readonly RecentMessage[], options: GuardOptions): number {
  const replyTo = new Map<number, RecentMessage>();
  for (const m of recent) if (m.direction !== "inbound" && m.inReplyToId !== null) replyTo.set(m.inReplyToId, m);
  const inbound = recent.filter((m) => m.direction === "inbound");
  let streak = 0;
  for (let i = 0; i + 1 < inbound.length; i++) {
    const message = inbound[i]!;
    const previous = inbound[i + 1]!;
    // A loop answers our replies: after a message the bot left unanswered, it is broken.
    const ourReply = replyTo.get(previous.id);
    if (!ourReply || !echoLike(message, previous, ourReply, options)) break;
    streak++;
  }
  return streak;
}

function echoLike(message: RecentMessage, previous: RecentMessage, ourReply: RecentMessage, options: GuardOptions): boolean {
  const seconds = (message.createdAt.getTime() - ourReply.createdAt.getTime()) / 1000;
  const length = [...message.body.trim()].length;
  const tooFast = length >= options.fastReplyMinLength && seconds * options.typingCharsPerSecond < length;
  return tooFast || nearSame(message.body, previous.body) || nearSame(message.body, ourReply.body);
}

// Long texts (an away message, a receipt) count as near-same when this share of their words match.
const LONG_TEXT_WORDS = 8;
const SIMILAR_WORDS = 0.8;

/**
 * Two messages say the same thing: equal once normalised (case, spacing, punctuation, digit shapes,
 * Arabic letter variants) with numbers inside words masked — a counter, a date, a time; or, for long
 * texts, at least 80% the same words. A bare number is compared as it is ("1" ≠ "2": menu choices),
 * and a message without words (a photo, a pin, an emoji) is never the same as anything.
 */
export function nearSame(a: string, b: string): boolean {
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
