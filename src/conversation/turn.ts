import { tokens } from "../understand/normalizeText.js";
import { isCommand, type Understanding } from "../understand/understand.js";
import type { StepResult } from "./result.js";
import type { ConversationState, Draft } from "./state.js";
import type { Effect, InboundEvent, Locale, Localized, Reply, StepContext, TextRef } from "./types.js";

/** Everything a flow needs to decide one turn. */
export interface Turn {
  state: ConversationState;
  event: InboundEvent;
  ctx: StepContext;
  u: Understanding;
  locale: Locale;
  /** Replies already decided this turn (e.g. "only text, photos and locations"), said first. */
  preface: Reply[];
  effects: Effect[];
}

/** The main menu: the same key in both languages, each offering the other language as option 4. */
export const MAIN_MENU: Reply = { key: "menu" };

/** Builds the step's result from a turn and what the flow decided. */
export function done(turn: Turn, state: ConversationState, replies: Reply[], effects: Effect[] = []): StepResult {
  return { state, replies: [...turn.preface, ...replies], effects: [...turn.effects, ...effects], locale: turn.locale };
}

/** Back to the main menu, draft dropped. */
export const atMenu = (): ConversationState => ({ version: 1, step: "menu", strikes: 0 });

/**
 * An answer the bot could not use. The third in a row offers a way out (staff, try again,
 * menu) instead of asking the same question forever.
 */
export function strike(turn: Turn, retry: Reply[], draft: Draft | undefined = turn.state.draft): StepResult {
  const state: ConversationState = { ...turn.state, ...(draft ? { draft } : {}) };
  const strikes = state.strikes + 1;
  if (strikes >= 3) return done(turn, { ...state, step: "stuck", strikes: 0, resumeStep: state.step }, [{ key: "stuck" }]);
  return done(turn, { ...state, strikes }, retry);
}

/**
 * The message is one of the listed answers ("1", "yes", "نعم", "la2"...), or a short answer that
 * starts with one ("eh akid", "la2 mish hek", "نعم صحيح").
 */
export function said(turn: Turn, answer: "yes" | "no" | "skip"): boolean {
  const words = tokens(turn.u.normalized);
  if (isCommand(words, answer)) return true;
  return words.length >= 2 && words.length <= 4 && isCommand(words.slice(0, 1), answer) && !isCommand(words.slice(0, 1), answer === "yes" ? "no" : "yes");
}

/** The message has words in it, not just a number, a symbol or an emoji. */
export const hasWords = (turn: Turn) => (turn.u.normalized.match(/\p{L}/gu) ?? []).length >= 2;

/**
 * A draft carrying whatever this message brought (photos, voice notes, a pin, a mention of children)
 * on top of `base`. Media the bot cannot read is still kept for staff.
 */
export function draftFrom(turn: Turn, base?: Draft): Draft {
  const location = turn.event.location ?? base?.location;
  return {
    media: [...(base?.media ?? []), ...turn.event.media],
    childRelated: (base?.childRelated ?? false) || turn.u.aboutChildren,
    photoAsked: base?.photoAsked ?? false,
    startedAt: base?.startedAt ?? turn.ctx.now.toISOString(),
    ...(base?.categoryCode ? { categoryCode: base.categoryCode } : {}),
    ...(base?.description ? { description: base.description } : {}),
    ...(base?.addressText ? { addressText: base.addressText } : {}),
    ...(location ? { location } : {}),
  };
}

/** A category's name in both languages, for replies; "unspecified" when there is none. */
export async function categoryName(turn: Turn, code: string | null | undefined): Promise<Localized | TextRef> {
  const category = (await turn.ctx.lookups.categories()).find((c) => c.code === code);
  return category ? category.name : { $t: "category.none" };
}
