import type { StepResult } from "../result.js";
import { initialState } from "../state.js";
import { atMenu, categoryName, done, MAIN_MENU, type Turn } from "../turn.js";
import type { Reply, TextRef, TicketView } from "../types.js";

// One SMS can hold about three ticket lines in Arabic; the rest is summarised as "and N more".
const SHOWN = 3;

async function line(turn: Turn, ticket: TicketView): Promise<TextRef> {
  return {
    $t: "status.line",
    params: {
      reference: ticket.reference,
      category: await categoryName(turn, ticket.categoryCode),
      status: { $t: `ticketStatus.${ticket.status}` },
    },
  };
}

/** Mid-request, a status answer keeps the request and points back to its question. */
function inRequest(turn: Turn): boolean {
  const { state } = turn;
  return Boolean(state.draft) && state.step !== "idle" && state.step !== "menu";
}

/** "What happened to my requests?": the resident's open tickets, newest first. */
export async function statusList(turn: Turn): Promise<StepResult> {
  const { tickets, total } = await turn.ctx.lookups.openTickets(SHOWN);
  if (inRequest(turn)) {
    // SMS segments cost money: mid-request the list is not followed by the menu, only a pointer back.
    const answer: Reply[] = total === 0 ? [{ key: "status.none" }] : [{ key: "status.list", params: { count: total, lines: { lines: await Promise.all(tickets.map((t) => line(turn, t))) } } }];
    return done(turn, turn.state, [...answer, { key: "intake.resume" }]);
  }
  if (total === 0) return done(turn, atMenu(), [{ key: "status.none" }, MAIN_MENU]);
  const lines = await Promise.all(tickets.map((t) => line(turn, t)));
  return done(turn, initialState(), [
    { key: "status.list", params: { count: total, lines: { lines } } },
    ...(total > tickets.length ? [{ key: "status.more", params: { count: total - tickets.length } }] : []),
  ]);
}

/**
 * The status of one ticket by its reference. Someone else's ticket and a number that does not
 * exist get the same answer. A request being filed meanwhile is kept.
 */
export async function statusOf(turn: Turn, reference: number): Promise<StepResult> {
  const ticket = await turn.ctx.lookups.ticketByReference(reference);
  const answer: Reply = ticket
    ? { key: "status.one", params: { line: await line(turn, ticket) } }
    : { key: "status.notFound", params: { reference } };
  const { state } = turn;
  // Mid-request, a short pointer back rather than the whole question again: SMS segments cost money.
  if (inRequest(turn)) return done(turn, state, [answer, { key: "intake.resume" }]);
  return done(turn, initialState(), [answer]);
}
