import type { Db } from "../db/createDb.js";
import { isUniqueViolation } from "../db/errors.js";

/**
 * Remembers that a staff member opened a ticket at `now` (one TicketRead row per staff member and
 * ticket): the ticket is unread for them again once the resident writes after it. Two tabs opening
 * the same ticket at once both succeed. Takes the client, not a transaction: on PostgreSQL a
 * statement that failed inside one would abort it.
 */
export async function markTicketRead(db: Db, staffId: number, ticketId: number, now: Date): Promise<void> {
  const where = { staffId_ticketId: { staffId, ticketId } };
  try {
    await db.ticketRead.upsert({ where, create: { staffId, ticketId, readAt: now }, update: { readAt: now } });
  } catch (error) {
    // The other request inserted the row between our look and our insert: it exists now.
    if (!isUniqueViolation(error)) throw error;
    await db.ticketRead.update({ where, data: { readAt: now } });
  }
}
