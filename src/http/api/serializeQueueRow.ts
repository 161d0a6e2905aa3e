import type { z } from "zod";
import { LOCALES, TICKET_STATUSES } from "../../conversation/types.js";
import { TICKET_CHANNELS, TICKET_ROUTES, type QueueRow } from "../../services/ticketQueries.js";
import type { TicketSummary } from "./apiSchemas.js";
import { knownValue } from "./knownValue.js";

/** A queue row as /api/v1 shows it: camelCase, ISO dates, the resident's phone masked (null without one), the Open311 client that filed it. */
export function serializeQueueRow(row: QueueRow): z.input<typeof TicketSummary> {
  return {
    reference: row.reference,
    status: knownValue(TICKET_STATUSES, row.status, "ticket status"),
    needsHuman: row.needsHuman,
    childRelated: row.childRelated,
    channel: knownValue(TICKET_CHANNELS, row.channel, "ticket channel"),
    route: knownValue(TICKET_ROUTES, row.route, "ticket route"),
    locale: knownValue(LOCALES, row.locale, "ticket locale"),
    department: row.department,
    category: row.category,
    description: row.description,
    phoneMasked: row.phoneMasked,
    open311Client: row.open311Client,
    assignee: row.assignee,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
