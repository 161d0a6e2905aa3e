import { DEFAULT_ROUTE, type Route } from "../../channels/routes.js";
import { z } from "zod";
import { TICKET_STATUSES, type ChannelKind, type Locale, type NewTicket, type TicketView } from "../../conversation/types.js";
import type { HotQ } from "./connect.js";
import { prepared } from "./prepared.js";

/** The statuses in which a ticket is still being worked on. */
export const OPEN_STATUSES = ["new", "waiting_staff", "in_progress"] as const;
const Status = z.enum(TICKET_STATUSES).catch("new");

/** Picks a random integer in [0, n). Injected so tests can make references predictable. */
export type RandomInt = (n: number) => number;

/**
 * A short, digits-only reference no ticket of the municipality uses: five digits while they are
 * plentiful, then six, so that residents on feature phones type as little as possible. Random rather
 * than sequential, so a reference says nothing about how many requests the town receives.
 */
export function freeReference(q: HotQ, municipalityId: string, randomInt: RandomInt): Promise<number> {
  return pickFreeReference(
    async (candidate) =>
      (await q.selectFrom("Ticket").select("id").where("municipalityId", "=", municipalityId).where("reference", "=", candidate).executeTakeFirst()) !== undefined,
    randomInt,
  );
}

/** `freeReference`'s search, for any query layer: `taken` says whether the municipality uses a reference. */
export async function pickFreeReference(taken: (candidate: number) => Promise<boolean>, randomInt: RandomInt): Promise<number> {
  for (let digits = 5; ; digits++) {
    const low = 10 ** (digits - 1);
    for (let attempt = 0; attempt < 20; attempt++) {
      const candidate = low + randomInt(9 * low);
      if (!(await taken(candidate))) return candidate;
    }
  }
}

function toView(row: { reference: number; status: string; needsHuman: boolean; createdAt: Date; categoryCode: string | null }): TicketView {
  return {
    reference: row.reference,
    categoryCode: row.categoryCode,
    status: Status.parse(row.status),
    needsHuman: row.needsHuman,
    createdAt: row.createdAt,
  };
}

/** Tickets with their category's code (null without a category): what `toView` reads. */
const ticketViews = (q: HotQ) =>
  q
    .selectFrom("Ticket")
    .leftJoin("Category", "Category.id", "Ticket.categoryId")
    .select(["Ticket.reference", "Ticket.status", "Ticket.needsHuman", "Ticket.createdAt", "Category.code as categoryCode"]);

/** A resident's open tickets, newest first (at most `limit`), and how many are open in all. */
export async function openTicketsOf(q: HotQ, residentId: number, limit: number): Promise<{ tickets: TicketView[]; total: number }> {
  const [rows, count] = await Promise.all([
    ticketViews(q)
      .where("Ticket.residentId", "=", residentId)
      .where("Ticket.status", "in", OPEN_STATUSES)
      // Ties (two tickets filed at the same instant) newest row first.
      .orderBy("Ticket.createdAt", "desc")
      .orderBy("Ticket.id", "desc")
      .limit(limit)
      .execute(),
    q
      .selectFrom("Ticket")
      .select((eb) => eb.fn.countAll().as("total"))
      .where("residentId", "=", residentId)
      .where("status", "in", OPEN_STATUSES)
      .executeTakeFirstOrThrow(),
  ]);
  // COUNT(*) is a bigint on PostgreSQL, which pg reads as a string.
  return { tickets: rows.map(toView), total: Number(count.total) };
}

/** One of the resident's own tickets by reference; null for anyone else's. */
export async function residentTicket(q: HotQ, municipalityId: string, residentId: number, reference: number): Promise<TicketView | null> {
  const row = await ticketViews(q)
    .where("Ticket.municipalityId", "=", municipalityId)
    .where("Ticket.reference", "=", reference)
    .where("Ticket.residentId", "=", residentId)
    .executeTakeFirst();
  return row ? toView(row) : null;
}

export interface FilingContext {
  municipalityId: string;
  /** Null for a request another tool filed through Open311 without a phone number. */
  residentId: number | null;
  /** "open311" for a request another tool filed (src/services/open311/filing.ts). */
  channel: ChannelKind | "open311";
  /** The provider it came through (the demo seed's tickets: Twilio; another tool's: "open311"). */
  route?: Route | "open311";
  locale: Locale;
  /** Routes the ticket to this department instead of its category's (payment reports go to "finance"). */
  department?: string;
}

/**
 * Where a ticket is, as the geocoding found it (src/services/places/locate.ts): the point (a pin, or
 * the named place's when `approximate`), the matched place, the area, the nearest child-related place
 * within the child zone and how far, and whether that makes the request child-related.
 */
export interface TicketPlacement {
  latitude: number | null;
  longitude: number | null;
  approximate: boolean;
  placeId: number | null;
  areaId: number | null;
  childZonePlaceId: number | null;
  childZoneMetres: number | null;
  childRelated: boolean;
}

/**
 * A new ticket's columns, times aside: shared with the Prisma `fileTicket` the demo seed uses
 * (src/services/tickets.ts), so both file tickets the same way. `routing` is the category named by
 * the ticket's code, or "other"'s for a ticket without one. Without a `placement` the ticket keeps
 * the pin the conversation collected (if any) and no place, area or child zone.
 */
export function newTicketColumns(ticket: NewTicket, filing: FilingContext, routing: { id: number; department: string } | null, placement?: TicketPlacement) {
  const category = ticket.categoryCode ? routing : null;
  return {
    ...newTicketRow(ticket, filing, routing, category),
    ...(placement
      ? {
          latitude: placement.latitude,
          longitude: placement.longitude,
          locationApproximate: placement.approximate,
          placeId: placement.placeId,
          areaId: placement.areaId,
          childZonePlaceId: placement.childZonePlaceId,
          childZoneMetres: placement.childZoneMetres,
          // The category's flag or the child zone: either makes the request child-related.
          childRelated: ticket.childRelated || placement.childRelated,
        }
      : {}),
  };
}

function newTicketRow(ticket: NewTicket, filing: FilingContext, routing: { id: number; department: string } | null, category: { id: number } | null) {
  return {
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
    route: filing.route ?? DEFAULT_ROUTE,
    locale: filing.locale,
  };
}

/** The "created" event's data of a ticket filed by a resident. */
/**
 * The creation event's data. `childRelatedAtFiling`: child-related by its category or the
 * resident's words, before any child zone, so a point corrected later can tell a zone that no
 * longer applies from a reason that still does (see setTicketLocation).
 */
export const createdEventData = (ticket: NewTicket, filing: FilingContext) =>
  JSON.stringify({ channel: filing.channel, route: filing.route ?? DEFAULT_ROUTE, needsHuman: ticket.needsHuman, childRelatedAtFiling: ticket.childRelated });

/**
 * Stores a ticket the conversation collected, routed to its category's department, and records
 * its creation in the history. A ticket whose resident asked for a person waits for staff.
 * `now` stamps the ticket and its event (Prisma used the wall clock; the inbox passes its own);
 * `placement` is where the inbox located it (see `TicketPlacement`).
 */
export async function fileTicket(q: HotQ, ticket: NewTicket, filing: FilingContext, now: Date, placement?: TicketPlacement): Promise<{ id: number }> {
  // A ticket without a category (a resident who asked for a person) is routed like "other", so that
  // some department's agents see it, not only admins. Not from the process's CategoryCache: its
  // views carry neither ids nor departments, and any category (inactive ones too) routes.
  const routing =
    (await q
      .selectFrom("Category")
      .select(["id", "department"])
      .where("municipalityId", "=", filing.municipalityId)
      .where("code", "=", ticket.categoryCode ?? "other")
      .executeTakeFirst()) ?? null;
  const created = await q
    .insertInto("Ticket")
    // A new request waits for staff from the moment it is filed, and is unread for everyone.
    .values({ ...newTicketColumns(ticket, filing, routing, placement), createdAt: now, updatedAt: now, waitingSince: now, lastResidentAt: now })
    .returning("id")
    .executeTakeFirstOrThrow();
  await q
    .insertInto("TicketEvent")
    .values({ ticketId: created.id, actorType: "resident", kind: "created", data: createdEventData(ticket, filing), createdAt: now })
    .execute();
  return created;
}

/** The ticket of the resident's with this reference: its id and status, or undefined. */
const ownTicket = (q: HotQ, municipalityId: string, residentId: number, reference: number) =>
  q
    .selectFrom("Ticket")
    .select(["id", "status"])
    .where("municipalityId", "=", municipalityId)
    .where("residentId", "=", residentId)
    .where("reference", "=", reference)
    .executeTakeFirst();

/**
 * The resident answered "1" to a resolution notice: the ticket is open again for staff, shows as
 * reopened, waits from now and is unread for everyone. Returns its id (null when there was nothing
 * to reopen: someone else's ticket, an unknown reference, a ticket already open).
 */
export async function reopenByResident(q: HotQ, municipalityId: string, residentId: number, reference: number, now: Date): Promise<number | null> {
  const ticket = await ownTicket(q, municipalityId, residentId, reference);
  if (!ticket || (ticket.status !== "resolved" && ticket.status !== "closed")) return null;
  await q
    .updateTable("Ticket")
    .set({ status: "new", reopenedAt: now, waitingSince: now, lastResidentAt: now, updatedAt: now })
    .where("id", "=", ticket.id)
    .execute();
  await q
    .insertInto("TicketEvent")
    .values({ ticketId: ticket.id, actorType: "resident", kind: "reopened", data: JSON.stringify({ from: ticket.status }), createdAt: now })
    .execute();
  return ticket.id;
}

const THREAD_DAYS = 7;

/** The open ticket staff most recently wrote to the resident about, within a week. */
export async function staffThreadOf(q: HotQ, municipalityId: string, residentId: number, now: Date): Promise<{ reference: number; categoryCode: string | null } | null> {
  const latest = await latestStaffMessage.first(q, { municipalityId, residentId, since: new Date(now.getTime() - THREAD_DAYS * 86_400_000) });
  return latest ? { reference: latest.reference, categoryCode: latest.categoryCode } : null;
}

// Asked on every message (the engine's staffThread lookup, the guard): built once.
const latestStaffMessage = prepared((db, p: { municipalityId: string; residentId: number; since: Date }) =>
  db
    .selectFrom("Message")
    .innerJoin("Ticket", "Ticket.id", "Message.ticketId")
    .leftJoin("Category", "Category.id", "Ticket.categoryId")
    .select(["Ticket.reference", "Category.code as categoryCode"])
    .where("Message.municipalityId", "=", p.municipalityId)
    .where("Message.residentId", "=", p.residentId)
    .where("Message.direction", "=", "outbound")
    .where("Message.kind", "=", "staff")
    .where("Message.createdAt", ">=", p.since)
    .where("Ticket.status", "in", OPEN_STATUSES)
    .orderBy("Message.createdAt", "desc")
    .orderBy("Message.id", "desc")
    .limit(1),
);

/**
 * The resident wrote on a ticket (an answer to staff, a follow-up): their turn is over, so a ticket
 * in progress waits for staff again (a new one stays new), and the history says so. The ticket is
 * unread for staff from now (`lastResidentAt`), and waits since the oldest message staff have not
 * answered (`waitingSince`, kept if already set; a resolved or closed ticket waits for no one).
 * Returns the ticket's id.
 */
export async function residentAnswered(q: HotQ, municipalityId: string, residentId: number, reference: number, now: Date): Promise<number | null> {
  const ticket = await ownTicket(q, municipalityId, residentId, reference);
  if (!ticket) return null;
  const open = (OPEN_STATUSES as readonly string[]).includes(ticket.status);
  await q
    .updateTable("Ticket")
    .set((eb) => ({
      ...(ticket.status === "in_progress" ? { status: "waiting_staff" } : {}),
      lastResidentAt: now,
      // In SQL, not from the row read above: a staff reply committed meanwhile (PostgreSQL) is seen.
      ...(open ? { waitingSince: eb.fn.coalesce("waitingSince", eb.val(now)) } : {}),
      updatedAt: now,
    }))
    .where("id", "=", ticket.id)
    .execute();
  await q
    .insertInto("TicketEvent")
    .values({ ticketId: ticket.id, actorType: "resident", kind: "resident_replied", data: JSON.stringify({ from: ticket.status }), createdAt: now })
    .execute();
  return ticket.id;
}

/**
 * The messages that told us about a ticket, the current one included, belong to it: the resident's
 * and the bot's since `startedAt` that are on no ticket yet (a notification or a survey sent
 * meanwhile is not part of it). `now` is their `updatedAt` (Prisma's updateMany set it to the wall clock).
 */
export async function linkMessagesToTicket(q: HotQ, residentId: number, ticketId: number, startedAt: Date, now: Date): Promise<void> {
  await q
    .updateTable("Message")
    .set({ ticketId, updatedAt: now })
    .where("residentId", "=", residentId)
    .where("ticketId", "is", null)
    .where("kind", "in", ["resident", "bot"])
    .where("createdAt", ">=", startedAt)
    .execute();
}
