import type { z } from "zod";
import { ROUTES } from "../../channels/routes.js";
import { CHANNELS, LOCALES, TICKET_STATUSES } from "../../conversation/types.js";
import type { QueueRow } from "../../services/ticketQueries.js";
import type { TicketSummary } from "./apiSchemas.js";
import { knownValue } from "./knownValue.js";

/** A queue row as /api/v1 shows it: camelCase, ISO dates, the resident's phone masked. */
export function serializeQueueRow(row: QueueRow): z.input<typeof TicketSummary> {
  return {
    reference: row.reference,
    status: knownValue(TICKET_STATUSES, row.status, "ticket status"),
    needsHuman: row.needsHuman,
    childRelated: row.childRelated,
    channel: knownValue(CHANNELS, row.channel, "ticket channel"),
    route: knownValue(ROUTES, row.route, "ticket route"),
    locale: knownValue(LOCALES, row.locale, "ticket locale"),
    department: row.department,
    category: row.category,
    description: row.description,
    phoneMasked: row.phoneMasked,
    assignee: row.assignee,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
