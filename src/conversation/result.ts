import type { ConversationState } from "./state.js";
import type { Effect, LinkAccountEffect, LinkOutcome, Locale, Reply } from "./types.js";

/** What one step of the conversation decided: the next state, what to say, what to write. */
export interface StepResult {
  state: ConversationState;
  replies: Reply[];
  effects: Effect[];
  /** The language to render the replies in (the resident's, after any switch). */
  locale: Locale;
  /** Set when the rest of the turn depends on the outcome of a write; see `PendingEffect`. */
  pending?: PendingEffect;
}

/**
 * A write whose outcome the reply depends on: whether a bill's code is right is only known once its
 * slow hash is checked, inside the transaction that also records the attempt. The engine stays pure
 * by splitting the turn in two: `step` returns this instead of a reply; the inbox applies the step's
 * `effects`, then this `effect`, and hands the outcome to `resume` — itself pure, reading the world
 * through the same lookups (which now see the new link). `resume`'s result is the rest of the turn:
 * its replies are the whole reply, its effects are only the ones still to apply.
 */
export interface PendingEffect {
  effect: LinkAccountEffect;
  resume(outcome: LinkOutcome): Promise<StepResult>;
}
