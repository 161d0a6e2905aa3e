/** Hours to the first staff reply when a category sets none. */
export const DEFAULT_FIRST_RESPONSE_HOURS = 24;
/** Hours to resolution when a category sets none (a week). */
export const DEFAULT_RESOLUTION_HOURS = 168;
/** The longest target an admin may set: a year. */
export const MAX_TARGET_HOURS = 8760;
/** A target is "near" once this share of its time is used. */
export const NEAR_SHARE = 0.75;

const HOUR = 3_600_000;
const OPEN = new Set(["new", "waiting_staff", "in_progress"]);

/** Where a ticket stands against its targets: in time, three quarters of the time used, or late. */
export const TARGET_STATES = ["ok", "near", "overdue"] as const;
export type TargetState = (typeof TARGET_STATES)[number];
/** Which target: the first staff reply, or the resolution. */
export type TargetKind = "first_response" | "resolution";

export interface TicketTarget {
  state: TargetState;
  /** When the target that decides `state` falls due; null when no target runs (resolved or closed). */
  dueAt: Date | null;
  kind: TargetKind | null;
}

/** A category's targets as stored (null: the default). */
export interface CategoryTargets {
  firstResponseHours: number | null;
  resolutionHours: number | null;
}

/** A category's targets in hours, the defaults filled in; a ticket without a category has the defaults. */
export function targetHours(category: CategoryTargets | null): { firstResponse: number; resolution: number } {
  return {
    firstResponse: category?.firstResponseHours ?? DEFAULT_FIRST_RESPONSE_HOURS,
    resolution: category?.resolutionHours ?? DEFAULT_RESOLUTION_HOURS,
  };
}

const RANK: Record<TargetState, number> = { ok: 0, near: 1, overdue: 2 };

/** Sorts worst first: overdue, then near, then ok. */
export const targetRank = (state: TargetState) => 2 - RANK[state];

/**
 * A ticket's state against its category's targets at `now`. While it is open, two targets run: the
 * first response, counted from `waitingSince` until staff first reply (`firstResponseAt`), and the
 * resolution, counted from its creation. Each is "near" from three quarters of its time and
 * "overdue" once due; the ticket takes the worse of the two (the earlier due on a tie). A resolved or
 * closed ticket has no running target: "ok" with no due time.
 */
export function ticketTarget(
  ticket: { status: string; createdAt: Date; waitingSince: Date | null; firstResponseAt: Date | null },
  category: CategoryTargets | null,
  now: Date,
): TicketTarget {
  if (!OPEN.has(ticket.status)) return { state: "ok", dueAt: null, kind: null };
  const hours = targetHours(category);
  const running: Array<{ kind: TargetKind; from: Date; hours: number }> = [{ kind: "resolution", from: ticket.createdAt, hours: hours.resolution }];
  if (ticket.firstResponseAt === null && ticket.waitingSince !== null) running.unshift({ kind: "first_response", from: ticket.waitingSince, hours: hours.firstResponse });
  const evaluated = running.map((target) => {
    const dueAt = new Date(target.from.getTime() + target.hours * HOUR);
    const nearAt = target.from.getTime() + target.hours * NEAR_SHARE * HOUR;
    const state: TargetState = now >= dueAt ? "overdue" : now.getTime() >= nearAt ? "near" : "ok";
    return { state, dueAt, kind: target.kind };
  });
  return evaluated.reduce((a, b) => (RANK[b.state] > RANK[a.state] || (RANK[b.state] === RANK[a.state] && b.dueAt < a.dueAt) ? b : a));
}

/**
 * The moments before which a ticket of a category with these targets is at least "near": created
 * before `resolution`, or waiting for a first reply since before `firstResponse`. What a database
 * filter needs to find the tickets `ticketTarget` calls near or overdue.
 */
export function nearThresholds(category: CategoryTargets | null, now: Date): { firstResponse: Date; resolution: Date } {
  const hours = targetHours(category);
  return {
    firstResponse: new Date(now.getTime() - hours.firstResponse * NEAR_SHARE * HOUR),
    resolution: new Date(now.getTime() - hours.resolution * NEAR_SHARE * HOUR),
  };
}
