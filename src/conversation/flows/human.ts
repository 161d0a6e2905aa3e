import type { StepResult } from "../result.js";
import type { Draft } from "../state.js";
import { done, draftFrom, type Turn } from "../turn.js";
import { initialState } from "../state.js";
import { fileRequest } from "./intake.js";

/**
 * "I want to talk to a person". A request being filed is filed now, flagged for staff; otherwise a
 * ticket flagged for staff is opened, unless one is already waiting for them. The resident is told
 * what happens next and given the reference.
 */
export async function human(turn: Turn, draft: Draft | undefined): Promise<StepResult> {
  if (draft && (draft.description || draft.categoryCode)) return fileRequest(turn, draftFrom(turn, draft), true);
  const { tickets } = await turn.ctx.lookups.openTickets(20);
  const waiting = tickets.find((t) => t.needsHuman && (t.status === "new" || t.status === "waiting_staff"));
  if (waiting) return done(turn, initialState(), [{ key: "human.alreadyWaiting", params: { reference: waiting.reference } }]);
  return fileRequest(turn, draftFrom(turn, draft), true);
}
