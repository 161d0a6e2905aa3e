import type { z } from "zod";
import { LOCALES, TICKET_STATUSES } from "../../conversation/types.js";
import { TICKET_CHANNELS, TICKET_ROUTES, type QueueRow } from "../../services/ticketQueries.js";
import type { QueueTicket, TicketSummary } from "./apiSchemas.js";
import { knownValue } from "./knownValue.js";

/** What every queue row has; `ticketSummary` builds one after a change, without the reader's queue fields. */
type SummaryRow = Omit<QueueRow, "waitingSince" | "unread" | "reopened" | "target" | "lastMessage" | "botPause">;

/**
 * A queue row as /api/v1 shows it: camelCase, ISO dates, the resident's phone masked (null without
 * one), the Open311 client that filed it; and, for a row of the queue, since when the resident has
 * waited, the reader's unread mark, the reopened mark and the target.
 */
export function serializeQueueRow(row: QueueRow): z.input<typeof QueueTicket>;
export function serializeQueueRow(row: SummaryRow): z.input<typeof TicketSummary>;
export function serializeQueueRow(row: SummaryRow | QueueRow): z.input<typeof TicketSummary> | z.input<typeof QueueTicket> {
  const summary = {
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
  } satisfies z.input<typeof TicketSummary>;
  if (!("target" in row)) return summary;
  return {
    ...summary,
    waitingSince: row.waitingSince?.toISOString() ?? null,
    unread: row.unread,
    reopened: row.reopened,
    target: { state: row.target.state, dueAt: row.target.dueAt?.toISOString() ?? null },
  };
}
