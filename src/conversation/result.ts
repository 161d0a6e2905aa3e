import type { ConversationState } from "./state.js";
import type { Effect, Locale, Reply } from "./types.js";

/** What one step of the conversation decided: the next state, what to say, what to write. */
export interface StepResult {
  state: ConversationState;
  replies: Reply[];
  effects: Effect[];
  /** The language to render the replies in (the resident's, after any switch). */
  locale: Locale;
}
