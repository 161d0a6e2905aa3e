import type { Db } from "../db/createDb.js";
import { isUniqueViolation } from "../db/errors.js";
import { canAccessTicket, type Actor } from "./staff.js";
import { ticketForActor } from "./staffActions.js";

/** What a staff member is doing on a ticket page: reading it, or typing a reply to the resident. */
export const PRESENCE_STATES = ["viewing", "replying"] as const;
export type PresenceState = (typeof PRESENCE_STATES)[number];

/** How often an open ticket page says it is still open. */
export const PRESENCE_HEARTBEAT_MS = 15_000;
/** How long a page counts as open after its last word: two heartbeats may be lost on the way. */
export const PRESENCE_WINDOW_MS = 45_000;

/** Someone else who has the ticket open. */
export interface Presence {
  staffId: number;
  name: string;
  state: PresenceState;
  seenAt: Date;
}

/** What a page says about itself: still open in a state, or closed ("left"). */
export type PresenceUpdate = PresenceState | "left";

/**
 * A ticket page's heartbeat: the actor has ticket `reference` open (`viewing` or `replying`) at
 * `now`, or closed it (`left`). Answers who else has it open (`presenceOnTicket`). A ticket the
 * actor may not work is `not_found`, and nothing is written: presence is never recorded on, nor
 * read from, a ticket someone cannot see. Stored in the database, so every instance of the app
 * sees every page. Takes the client, not a transaction (a failed insert would abort one on PostgreSQL).
 */
export async function recordPresence(db: Db, actor: Actor, reference: number, update: PresenceUpdate, now: Date): Promise<{ ok: true; others: Presence[] } | { ok: false; error: "not_found" }> {
  const ticket = await ticketForActor(db, actor, reference);
  if (!ticket) return { ok: false, error: "not_found" };
  await touchPresence(db, actor, ticket.id, update, now);
  return { ok: true, others: await presenceOnTicket(db, actor, ticket, now) };
}

/**
 * Writes the actor's presence on a ticket they may see (checked by the caller), and forgets their
 * pages of other tickets that have gone quiet, so the table holds about one row per open page.
 */
export async function touchPresence(db: Db, actor: Actor, ticketId: number, update: PresenceUpdate, now: Date): Promise<void> {
  const cutoff = new Date(now.getTime() - PRESENCE_WINDOW_MS);
  await db.ticketPresence.deleteMany({ where: { staffId: actor.id, ticketId: { not: ticketId }, seenAt: { lt: cutoff } } });
  const where = { staffId_ticketId: { staffId: actor.id, ticketId } };
  if (update === "left") {
    await db.ticketPresence.deleteMany({ where: { staffId: actor.id, ticketId } });
    return;
  }
  try {
    await db.ticketPresence.upsert({ where, create: { staffId: actor.id, ticketId, state: update, seenAt: now }, update: { state: update, seenAt: now } });
  } catch (error) {
    // The same person's other tab inserted the row a moment before: it exists now.
    if (!isUniqueViolation(error)) throw error;
    await db.ticketPresence.update({ where, data: { state: update, seenAt: now } });
  }
}

/**
 * The other staff members who have the ticket open now (heard from within PRESENCE_WINDOW_MS),
 * replying first, then by name. Only people who may still see the ticket: one whose department no
 * longer works it (it was moved) or whose account was deactivated is not shown.
 */
export async function presenceOnTicket(db: Db, actor: Actor, ticket: { id: number; department: string | null; municipalityId: string }, now: Date): Promise<Presence[]> {
  if (!canAccessTicket(actor, ticket)) return [];
  const rows = await db.ticketPresence.findMany({
    where: {
      ticketId: ticket.id,
      staffId: { not: actor.id },
      seenAt: { gte: new Date(now.getTime() - PRESENCE_WINDOW_MS) },
      // canAccessTicket, for the others: admins, and agents of the ticket's department.
      staff: {
        active: true,
        municipalityId: ticket.municipalityId,
        OR: [{ role: "admin" }, ...(ticket.department !== null ? [{ departments: { some: { departmentCode: ticket.department } } }] : [])],
      },
    },
    include: { staff: { select: { displayName: true } } },
  });
  return rows
    .map((row): Presence => ({ staffId: row.staffId, name: row.staff.displayName, state: row.state === "replying" ? "replying" : "viewing", seenAt: row.seenAt }))
    .sort((a, b) => (a.state === b.state ? a.name.localeCompare(b.name) : a.state === "replying" ? -1 : 1));
}
