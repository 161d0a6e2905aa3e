import { z } from "zod";
import { MediaSchema, TICKET_STATUSES, type ChannelKind, type Locale, type NewTicket, type TicketView } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";

const OPEN_STATUSES = ["new", "waiting_staff", "in_progress"];
const Status = z.enum(TICKET_STATUSES).catch("new");
export const MediaList = z.array(MediaSchema).catch([]);

/** Picks a random integer in [0, n). Injected so tests can make references predictable. */
export type RandomInt = (n: number) => number;

/**
 * A short, digits-only reference no ticket of the municipality uses: five digits while they are
 * plentiful, then six, so that residents on feature phones type as little as possible. Random rather
 * than sequential, so a reference says nothing about how many requests the town receives.
 */
export async function freeReference(tx: Tx, municipalityId: string, randomInt: RandomInt): Promise<number> {
  for (let digits = 5; ; digits++) {
    const low = 10 ** (digits - 1);
    for (let attempt = 0; attempt < 20; attempt++) {
      const candidate = low + randomInt(9 * low);
      const taken = await tx.ticket.findUnique({
        where: { municipalityId_reference: { municipalityId, reference: candidate } },
        select: { id: true },
      });
      if (!taken) return candidate;
    }
  }
}

function toView(row: { reference: number; status: string; needsHuman: boolean; createdAt: Date; category: { code: string } | null }): TicketView {
  return {
    reference: row.reference,
    categoryCode: row.category?.code ?? null,
    status: Status.parse(row.status),
    needsHuman: row.needsHuman,
    createdAt: row.createdAt,
  };
}

/** A resident's open tickets, newest first (at most `limit`), and how many are open in all. */
export async function openTicketsOf(tx: Tx, residentId: number, limit: number) {
  const where = { residentId, status: { in: OPEN_STATUSES } };
  const [rows, total] = await Promise.all([
    tx.ticket.findMany({ where, orderBy: { createdAt: "desc" }, take: limit, include: { category: { select: { code: true } } } }),
    tx.ticket.count({ where }),
  ]);
  return { tickets: rows.map(toView), total };
}

/** One of the resident's own tickets by reference; null for anyone else's. */
export async function residentTicket(tx: Tx, municipalityId: string, residentId: number, reference: number) {
  const row = await tx.ticket.findFirst({
    where: { municipalityId, reference, residentId },
    include: { category: { select: { code: true } } },
  });
  return row ? toView(row) : null;
}

export interface FilingContext {
  municipalityId: string;
  residentId: number;
  channel: ChannelKind;
  locale: Locale;
  /** Routes the ticket to this department instead of its category's (payment reports go to "finance"). */
  department?: string;
}

/**
 * Stores a ticket the conversation collected, routed to its category's department, and records
 * its creation in the history. A ticket whose resident asked for a person waits for staff.
 */
export async function fileTicket(tx: Tx, ticket: NewTicket, filing: FilingContext) {
  // A ticket without a category (a resident who asked for a person) is routed like "other", so that
  // some department's agents see it, not only admins.
  const routing = await tx.category.findUnique({
    where: { municipalityId_code: { municipalityId: filing.municipalityId, code: ticket.categoryCode ?? "other" } },
  });
  const category = ticket.categoryCode ? routing : null;
  const created = await tx.ticket.create({
    data: {
      municipalityId: filing.municipalityId,
      reference: ticket.reference,
      residentId: filing.residentId,
      categoryId: category?.id ?? null,
      department: filing.department ?? routing?.department ?? null,
      description: ticket.description,
      latitude: ticket.location?.latitude ?? null,
      longitude: ticket.location?.longitude ?? null,
      locationLabel: ticket.location ? (ticket.location.label ?? ticket.location.address ?? null) : null,
      addressText: ticket.addressText,
      media: JSON.stringify(ticket.media),
      status: ticket.needsHuman ? "waiting_staff" : "new",
      needsHuman: ticket.needsHuman,
      childRelated: ticket.childRelated,
      channel: filing.channel,
      locale: filing.locale,
    },
  });
  await tx.ticketEvent.create({
    data: {
      ticketId: created.id,
      actorType: "resident",
      kind: "created",
      data: JSON.stringify({ channel: filing.channel, needsHuman: ticket.needsHuman }),
    },
  });
  return created;
}

/** The resident answered "1" to a resolution notice: the ticket is open again for staff. */
export async function reopenByResident(tx: Tx, municipalityId: string, residentId: number, reference: number, now: Date) {
  const ticket = await tx.ticket.findFirst({ where: { municipalityId, residentId, reference } });
  if (!ticket || (ticket.status !== "resolved" && ticket.status !== "closed")) return;
  await tx.ticket.update({ where: { id: ticket.id }, data: { status: "new" } });
  await tx.ticketEvent.create({
    data: { ticketId: ticket.id, actorType: "resident", kind: "reopened", data: JSON.stringify({ from: ticket.status }), createdAt: now },
  });
}

const THREAD_DAYS = 7;

/** The open ticket staff most recently wrote to the resident about, within a week. */
export async function staffThreadOf(tx: Tx, municipalityId: string, residentId: number, now: Date) {
  const latest = await tx.message.findFirst({
    where: {
      municipalityId,
      residentId,
      direction: "outbound",
      kind: "staff",
      createdAt: { gte: new Date(now.getTime() - THREAD_DAYS * 86_400_000) },
      ticket: { status: { in: OPEN_STATUSES } },
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    include: { ticket: { select: { reference: true, category: { select: { code: true } } } } },
  });
  return latest?.ticket ? { reference: latest.ticket.reference, categoryCode: latest.ticket.category?.code ?? null } : null;
}

/**
 * The resident answered staff on a ticket: their turn is over, so a ticket in progress waits for
 * staff again, and the history says so. Returns the ticket's id.
 */
export async function residentAnswered(tx: Tx, municipalityId: string, residentId: number, reference: number, now: Date): Promise<number | null> {
  const ticket = await tx.ticket.findFirst({ where: { municipalityId, residentId, reference } });
  if (!ticket) return null;
  if (ticket.status === "in_progress") await tx.ticket.update({ where: { id: ticket.id }, data: { status: "waiting_staff" } });
  await tx.ticketEvent.create({
    data: { ticketId: ticket.id, actorType: "resident", kind: "resident_replied", data: JSON.stringify({ from: ticket.status }), createdAt: now },
  });
  return ticket.id;
}
