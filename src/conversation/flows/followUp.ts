import { tokens } from "../../understand/normalizeText.js";
import { splitMedia } from "../media.js";
import type { StepResult } from "../result.js";
import { initialState, type FollowUp } from "../state.js";
import { categoryName, done, hasWords, strike, type Turn } from "../turn.js";
import type { Reply } from "../types.js";

/** How many open requests "which one?" lists, newest first: four fit two Arabic SMS segments. */
const listed = (turn: Turn) => (turn.ctx.capabilities.maxSegments === null ? 5 : 4);

/**
 * A message that is not a request, a command or an answer to a question, from a resident with
 * open requests ("thanks, when will you come to fix it?", a detail they forgot): it belongs to one
 * of them. With one open request it is added there; with several the resident is asked which one,
 * and the message waits (on no ticket) for the answer. Null when they have no open request, or the
 * message has no words (a lone emoji): the menu, as before.
 */
export async function followUp(turn: Turn): Promise<StepResult | null> {
  if (!hasWords(turn)) return null;
  const { tickets } = await turn.ctx.lookups.openTickets(listed(turn));
  const [only, ...others] = tickets;
  if (!only) return null;
  if (others.length === 0) return attach(turn, only.reference);
  const pending: FollowUp = {
    tickets: tickets.map((t) => ({ reference: t.reference, categoryCode: t.categoryCode })),
    since: turn.ctx.now.toISOString(),
  };
  return done(turn, { ...initialState(), step: "chooseTicket", followUp: pending }, [await whichTicket(turn, pending)]);
}

/**
 * At "which request is it about?": a number from the list, one of the listed references, or a
 * short answer naming the category of exactly one of them attaches the follow-up (and whatever
 * the resident wrote since) to it. More words or a photo are more of the same follow-up (a
 * greeting: no harm done): kept, and the question asked again; a lone emoji counts as a miss. Anything else (a new request, a question, a command) returns null
 * and is read afresh; the follow-up then stays on no ticket, where staff see it as before.
 */
export async function chooseTicketAnswer(turn: Turn, pending: FollowUp): Promise<StepResult | null> {
  const { u, event } = turn;
  const byNumber = u.choice !== null ? pending.tickets[u.choice - 1] : undefined;
  const reference = u.intent.type === "status" ? u.intent.reference : undefined;
  const byReference = reference !== undefined ? pending.tickets.find((t) => t.reference === reference) : undefined;
  // "المي", "the road one": a short answer that names one of the listed requests' categories.
  const named = u.categoryCode && tokens(u.normalized).length <= 4 ? pending.tickets.filter((t) => t.categoryCode === u.categoryCode) : [];
  const chosen = byNumber ?? byReference ?? (named.length === 1 ? named[0] : undefined);
  if (chosen) {
    // The list may be a day old: a request closed since is no longer one to add to.
    const now = await turn.ctx.lookups.ticketByReference(chosen.reference);
    if (!now || now.status === "resolved" || now.status === "closed") return followUpAgain(turn, pending);
    return attach(turn, chosen.reference, pending.since);
  }
  // Two listed requests of the category named: which one is still the question.
  if (named.length > 1) return done(turn, { ...turn.state, strikes: 0 }, [await whichTicket(turn, pending)]);
  if (u.choice !== null) return strike(turn, [{ key: "retry.number", params: { max: pending.tickets.length } }]);
  if (u.intent.type !== "unclear" && u.intent.type !== "greeting") return null;
  const brought = splitMedia(event.media).images.length > 0 || event.location !== undefined;
  if (hasWords(turn) || brought) return done(turn, { ...turn.state, strikes: 0 }, [await whichTicket(turn, pending)]);
  return strike(turn, [await whichTicket(turn, pending)]);
}

/**
 * The request chosen was closed meanwhile: the question again with the requests open now (the
 * follow-up keeps its start), or, with none left open, the follow-up stays on no ticket and the
 * message is read afresh.
 */
async function followUpAgain(turn: Turn, pending: FollowUp): Promise<StepResult | null> {
  const { tickets } = await turn.ctx.lookups.openTickets(listed(turn));
  if (tickets.length === 0) return null;
  const fresh: FollowUp = { tickets: tickets.map((t) => ({ reference: t.reference, categoryCode: t.categoryCode })), since: pending.since };
  return done(turn, { ...turn.state, step: "chooseTicket", followUp: fresh, strikes: 0 }, [await whichTicket(turn, fresh)]);
}

/** The question listing the open requests, numbered as `pending` has them. */
export async function whichTicket(turn: Turn, pending: FollowUp): Promise<Reply> {
  const options = await Promise.all(
    pending.tickets.map(async (t, i) => ({
      n: i + 1,
      label: { $t: "followUp.option", params: { reference: t.reference, category: await categoryName(turn, t.categoryCode) } },
    })),
  );
  return { key: "followUp.choose", params: { choices: { options } } };
}

/** The message (and with `since`, the resident's messages since then on no ticket) goes to request `reference`. */
function attach(turn: Turn, reference: number, since?: string): StepResult {
  return done(turn, initialState(), [{ key: "thread.added", params: { reference } }], [
    { type: "addToTicket", reference, ...(since ? { since: new Date(since) } : {}) },
  ]);
}
