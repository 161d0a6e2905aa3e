import { z } from "zod";
import { MediaSchema, type NewTicket } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";
import { createdEventData, newTicketColumns, type FilingContext } from "../db/hot/tickets.js";

// The inbox's ticket queries are on the hot path, in Kysely: src/db/hot/tickets.ts.
export type { FilingContext, RandomInt } from "../db/hot/tickets.js";

export const MediaList = z.array(MediaSchema).catch([]);

/**
 * Files a ticket through Prisma, for the demo seed (src/services/seed.ts), which writes inside a
 * Prisma transaction. Messages are filed by the inbox with the hot path's `fileTicket`; both build
 * the row with `newTicketColumns`.
 */
export async function fileTicket(tx: Tx, ticket: NewTicket, filing: FilingContext) {
  const routing = await tx.category.findUnique({
    where: { municipalityId_code: { municipalityId: filing.municipalityId, code: ticket.categoryCode ?? "other" } },
    select: { id: true, department: true },
  });
  const now = new Date();
  const created = await tx.ticket.create({ data: { ...newTicketColumns(ticket, filing, routing), createdAt: now, waitingSince: now, lastResidentAt: now } });
  await tx.ticketEvent.create({
    data: { ticketId: created.id, actorType: "resident", kind: "created", data: createdEventData(ticket, filing) },
  });
  return created;
}
