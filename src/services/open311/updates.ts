import type { Db, Tx } from "../../db/createDb.js";
import { beirutW3c } from "../../lib/beirutTime.js";
import { publicTicketWhere } from "./privacy.js";
import { MAX_REQUESTS, open311Status, PUBLIC_EVENT_KINDS, publicText, publicUpdate } from "./requests.js";
import type { O311Update } from "./types.js";

/**
 * servicerequestupdates (mySociety's Open311 extension, http://wiki.open311.org/GeoReport_v2/Servicerequestupdates):
 * what the town said publicly about its public requests in a time window, oldest first, so
 * FixMyStreet can follow the answers: each public status change (open ↔ closed, or any change with a
 * public note), each public note, each reopening. Never a reply to a resident or an internal note;
 * notes are masked like every text Open311 serves.
 */

export interface UpdatesQuery {
  /** Updates made on or after `start`, before `end`. */
  start: Date;
  end: Date;
  /** At most MAX_REQUESTS. */
  limit: number;
}

const StatusKinds = ["status_changed", "reopened"] as const;

/** The public updates in the window, oldest first (ties by id), at most `limit`. */
export async function listPublicUpdates(db: Db | Tx, municipalityId: string, query: UpdatesQuery): Promise<O311Update[]> {
  const limit = Math.min(Math.max(0, Math.floor(query.limit)), MAX_REQUESTS);
  if (limit === 0) return [];
  // Events that say nothing public (an internal move between open statuses) are skipped after reading,
  // so read in pages until the answer is full or the window is exhausted.
  const updates: O311Update[] = [];
  let after: { createdAt: Date; id: number } | null = null;
  const statusBefore = new Map<number, "open" | "closed">();
  for (;;) {
    const page: Array<{ id: number; kind: string; data: string; createdAt: Date; ticket: { id: number; reference: number; status: string } }> = await db.ticketEvent.findMany({
      where: {
        kind: { in: [...PUBLIC_EVENT_KINDS] },
        createdAt: { gte: query.start, lt: query.end },
        ticket: { is: publicTicketWhere(municipalityId) },
        ...(after ? { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] } : {}),
      },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: limit,
      select: { id: true, kind: true, data: true, createdAt: true, ticket: { select: { id: true, reference: true, status: true } } },
    });
    if (page.length === 0) break;
    await loadStatusBefore(db, page, statusBefore);
    for (const event of page) {
      const status = statusAfter(event, statusBefore.get(event.ticket.id) ?? "open");
      statusBefore.set(event.ticket.id, status);
      const update = publicUpdate(event);
      if (!update) continue;
      updates.push({
        update_id: String(event.id),
        service_request_id: String(event.ticket.reference),
        status,
        updated_datetime: beirutW3c(event.createdAt),
        description: publicText(update.note) ?? "",
        media_url: "",
      });
      if (updates.length === limit) return updates;
    }
    if (page.length < limit) break;
    const last = page[page.length - 1]!;
    after = { createdAt: last.createdAt, id: last.id };
  }
  return updates;
}

/** A request's Open311 status after one of its events (a public note leaves it as it was). */
function statusAfter(event: { kind: string; data: string }, before: "open" | "closed"): "open" | "closed" {
  if (event.kind === "reopened") return "open";
  if (event.kind !== "status_changed") return before;
  try {
    const to: unknown = (JSON.parse(event.data) as { to?: unknown }).to;
    return typeof to === "string" ? open311Status(to) : before;
  } catch {
    return before;
  }
}

/**
 * For each ticket of the page not yet seen, its status just before its first event on the page, from
 * its last status change or reopening before that (a request nobody changed yet is open).
 */
async function loadStatusBefore(db: Db | Tx, page: ReadonlyArray<{ id: number; createdAt: Date; ticket: { id: number } }>, known: Map<number, "open" | "closed">): Promise<void> {
  const first = new Map<number, { id: number; createdAt: Date }>();
  for (const event of page) if (!known.has(event.ticket.id) && !first.has(event.ticket.id)) first.set(event.ticket.id, event);
  if (first.size === 0) return;
  const earlier = await db.ticketEvent.findMany({
    where: { ticketId: { in: [...first.keys()] }, kind: { in: [...StatusKinds] } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { id: true, ticketId: true, kind: true, data: true, createdAt: true },
  });
  const byTicket = new Map<number, typeof earlier>();
  for (const event of earlier) byTicket.set(event.ticketId, [...(byTicket.get(event.ticketId) ?? []), event]);
  for (const [ticketId, start] of first) {
    let status: "open" | "closed" = "open";
    for (const event of byTicket.get(ticketId) ?? []) {
      const before = event.createdAt < start.createdAt || (event.createdAt.getTime() === start.createdAt.getTime() && event.id < start.id);
      if (!before) break;
      status = statusAfter(event, status);
    }
    known.set(ticketId, status);
  }
}
