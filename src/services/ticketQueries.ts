import { z } from "zod";
import { CHANNELS, LOCALES, TICKET_STATUSES } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";
import { maskPhone } from "../lib/maskPhone.js";
import { whatsappWindowOpen } from "./outbox.js";
import { botPauseOf, type BotPause } from "./residents.js";
import { canAccessTicket, ticketScope, type Actor } from "./staff.js";
import { MediaList } from "./tickets.js";

const OPEN = ["new", "waiting_staff", "in_progress"] as const;
const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const list = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .union([z.enum(values), z.array(z.enum(values))])
    .transform((v) => (Array.isArray(v) ? v : [v]));

/**
 * Queue filters as they arrive in a query string (staff page or /api/v1). Unknown keys are ignored;
 * a bad value is a 400, never silently dropped. `status=open` means new + waiting + in progress.
 */
export const TicketFilters = z.object({
  status: z.union([z.literal("open"), z.literal("all"), list(TICKET_STATUSES)]).default("open"),
  category: z.string().regex(/^[a-z_]+$/).optional(),
  department: z.string().regex(/^[a-z_]+$/).optional(),
  channel: z.enum(CHANNELS).optional(),
  language: z.enum(LOCALES).optional(),
  childRelated: flag.optional(),
  needsHuman: flag.optional(),
  /** "me", "none" or a staff id. */
  assignee: z.union([z.enum(["me", "none"]), z.coerce.number().int().positive().max(2_147_483_647, "is not a staff id")]).optional(),
  /** Only tickets older than this many days. */
  olderThanDays: z.coerce.number().int().min(0).max(3650).optional(),
  /** A reference, part of a phone number, or words of the description. */
  // PostgreSQL text cannot hold NUL: refuse it here rather than fail in the query.
  q: z.string().trim().max(200).refine((q) => !q.includes("\u0000"), "must not contain NUL characters").optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});
export type TicketFilters = z.infer<typeof TicketFilters>;

/** One row of the queue, with the resident's phone masked. */
export interface QueueRow {
  reference: number;
  status: string;
  needsHuman: boolean;
  childRelated: boolean;
  channel: string;
  /** The provider the ticket came through ("twilio" | "android" | "smpp"). */
  route: string;
  locale: string;
  department: string | null;
  category: { code: string; nameAr: string; nameEn: string } | null;
  description: string;
  phoneMasked: string;
  assignee: { id: number; displayName: string } | null;
  createdAt: Date;
  updatedAt: Date;
  /** The bot stopped answering the resident (a flood or a loop): staff should look. Absent where not read (the API). */
  botPause?: BotPause | null;
}

function whereFor(actor: Actor, f: TicketFilters, now: Date) {
  const and: object[] = [ticketScope(actor)];
  if (f.status === "open") and.push({ status: { in: [...OPEN] } });
  else if (f.status !== "all") and.push({ status: { in: f.status } });
  if (f.category) and.push({ category: { code: f.category } });
  if (f.department) and.push({ department: f.department });
  if (f.channel) and.push({ channel: f.channel });
  if (f.language) and.push({ locale: f.language });
  if (f.childRelated !== undefined) and.push({ childRelated: f.childRelated });
  if (f.needsHuman !== undefined) and.push({ needsHuman: f.needsHuman });
  if (f.assignee === "me") and.push({ assigneeId: actor.id });
  else if (f.assignee === "none") and.push({ assigneeId: null });
  else if (typeof f.assignee === "number") and.push({ assigneeId: f.assignee });
  if (f.olderThanDays !== undefined) and.push({ createdAt: { lte: new Date(now.getTime() - f.olderThanDays * 86_400_000) } });
  if (f.q) {
    const digits = f.q.replace(/[\s#+\-()]/g, "").replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660));
    const or: object[] = [{ description: { contains: f.q } }, { addressText: { contains: f.q } }];
    if (/^\d+$/.test(digits)) {
      if (digits.length <= 7) or.push({ reference: Number(digits) });
      // Local numbers are stored in E.164: "71 123 456" is found as "+96171123456".
      if (digits.length >= 3) or.push({ resident: { phone: { contains: digits.replace(/^0+/, "") } } });
    }
    and.push({ OR: or });
  }
  return { AND: and };
}

/**
 * The queue an actor may see, filtered, oldest first (the resident who has waited longest comes
 * first), paginated. Agents only ever see their departments' tickets.
 */
export async function listTickets(tx: Tx, actor: Actor, filters: TicketFilters, now: Date): Promise<{ rows: QueueRow[]; total: number }> {
  const where = whereFor(actor, filters, now);
  const [tickets, total] = await Promise.all([
    tx.ticket.findMany({
      where,
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      skip: (filters.page - 1) * filters.pageSize,
      take: filters.pageSize,
      include: { category: true, resident: { select: { phone: true, botPausedAt: true, botPauseReason: true } }, assignee: { select: { id: true, displayName: true } } },
    }),
    tx.ticket.count({ where }),
  ]);
  return {
    total,
    rows: tickets.map((t) => ({
      reference: t.reference,
      status: t.status,
      needsHuman: t.needsHuman,
      childRelated: t.childRelated,
      channel: t.channel,
      route: t.route,
      locale: t.locale,
      department: t.department,
      category: t.category ? { code: t.category.code, nameAr: t.category.nameAr, nameEn: t.category.nameEn } : null,
      description: t.description,
      phoneMasked: maskPhone(t.resident.phone),
      assignee: t.assignee,
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
      botPause: botPauseOf(t.resident),
    })),
  };
}

/**
 * Everything about one ticket for the ticket page and the API: the resident (full phone), the whole
 * conversation with delivery states, media, location, history, and whether WhatsApp's 24-hour
 * window is open. Null when the actor may not see it.
 */
export async function ticketDetail(tx: Tx, actor: Actor, reference: number, now: Date) {
  const ticket = await tx.ticket.findFirst({
    where: { AND: [ticketScope(actor), { reference }] },
    include: {
      category: true,
      assignee: { select: { id: true, displayName: true, username: true } },
      resident: { include: { identities: true } },
      events: { orderBy: [{ createdAt: "asc" }, { id: "asc" }], include: { actor: { select: { id: true, displayName: true } } } },
    },
  });
  if (!ticket) return null;
  // The ticket's own messages, and what the resident said since it was opened that belongs to no
  // ticket — but only when the actor may see all of this resident's open tickets: an unlinked
  // message could be about a ticket of a department the actor does not work.
  const others = await tx.ticket.findMany({
    where: { residentId: ticket.residentId, id: { not: ticket.id }, status: { in: [...OPEN] } },
    select: { department: true, municipalityId: true },
  });
  const seesAll = others.every((other) => canAccessTicket(actor, other));
  const messages = await tx.message.findMany({
    where: {
      residentId: ticket.residentId,
      OR: [{ ticketId: ticket.id }, ...(seesAll ? [{ ticketId: null, createdAt: { gte: ticket.createdAt } }] : [])],
    },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    include: { staff: { select: { id: true, displayName: true } }, outbox: { select: { status: true, attempts: true, lastError: true, nextAttemptAt: true } } },
  });
  const whatsapp = ticket.resident.identities.find((i) => i.channel === "whatsapp");
  return {
    ticket,
    /** The actor may act on the resident (resume the bot): see `residentVisibleTo`. */
    residentVisible: await residentVisibleTo(tx, actor, ticket.residentId),
    media: MediaList.parse(JSON.parse(ticket.media)),
    messages: messages.map((m) => ({ ...m, media: MediaList.parse(JSON.parse(m.media)) })),
    window:
      ticket.channel === "whatsapp"
        ? { open: whatsappWindowOpen(whatsapp?.lastInboundAt, now), lastInboundAt: whatsapp?.lastInboundAt ?? null }
        : null,
  };
}
export type TicketDetail = NonNullable<Awaited<ReturnType<typeof ticketDetail>>>;

/** A resident's tickets as far as who may see the resident is concerned, newest first. */
const TICKETS_NEWEST_FIRST = {
  orderBy: [{ createdAt: "desc" as const }, { id: "desc" as const }],
  select: { reference: true, status: true, department: true, municipalityId: true },
};
type ResidentTicket = { reference: number; status: string; department: string | null; municipalityId: string };
const isOpen = (ticket: { status: string }) => (OPEN as readonly string[]).includes(ticket.status);

/**
 * Whether an actor may see (and act on) a resident, from their tickets (newest first): admins
 * always; agents when one of the resident's open tickets is in their departments; for a resident
 * with no open ticket, when the latest (closed) one was — and a resident who never had a ticket
 * (a phone that only flooded) is nobody's to keep from anyone: every agent sees them.
 */
function residentVisible(actor: Actor, tickets: readonly ResidentTicket[]): boolean {
  if (actor.role === "admin") return true;
  const open = tickets.filter(isOpen);
  if (open.length > 0) return open.some((t) => canAccessTicket(actor, t));
  const latest = tickets[0];
  return !latest || canAccessTicket(actor, latest);
}

/**
 * A cheap first cut of `residentVisible` as a Prisma filter (it cannot say "the latest ticket"):
 * everything `residentVisible` admits passes it.
 */
function residentPrefilter(actor: Actor) {
  if (actor.role === "admin") return { municipalityId: actor.municipalityId };
  return {
    municipalityId: actor.municipalityId,
    OR: [
      { tickets: { some: { status: { in: [...OPEN] }, department: { in: actor.departments } } } },
      { tickets: { none: { status: { in: [...OPEN] } } } },
    ],
  };
}

/** Whether an actor may see (and act on) a resident; see `residentVisible`. */
export async function residentVisibleTo(tx: Tx, actor: Actor, residentId: number): Promise<boolean> {
  const resident = await tx.resident.findFirst({ where: { AND: [residentPrefilter(actor), { id: residentId }] }, select: { tickets: TICKETS_NEWEST_FIRST } });
  return resident !== null && residentVisible(actor, resident.tickets);
}

/** A resident the bot stopped answering, for the queue: masked phone, why, their last words, their request. */
export interface PausedResidentRow {
  residentId: number;
  phoneMasked: string;
  pause: BotPause;
  /**
   * Their latest message the actor may read, as on the ticket page: one linked to a ticket the
   * actor sees, or linked to none when the actor sees all of the resident's open tickets.
   */
  lastMessage: { body: string; createdAt: Date } | null;
  /** Their latest open ticket the actor may see. */
  reference: number | null;
}

/** The residents the bot stopped answering that an actor may see (`residentVisible`), the latest pause first. */
export async function pausedResidents(tx: Tx, actor: Actor, limit = 50): Promise<PausedResidentRow[]> {
  const rows: PausedResidentRow[] = [];
  // The prefilter may admit residents `residentVisible` refuses: read on until the page is full.
  for (let skip = 0; rows.length < limit; skip += limit) {
    const residents = await tx.resident.findMany({
      where: { AND: [residentPrefilter(actor), { botPausedAt: { not: null } }] },
      orderBy: [{ botPausedAt: "desc" }, { id: "desc" }],
      skip,
      take: limit,
      select: {
        id: true,
        phone: true,
        botPausedAt: true,
        botPauseReason: true,
        tickets: TICKETS_NEWEST_FIRST,
        messages: {
          where: { direction: "inbound", ...(actor.role === "admin" ? {} : { OR: [{ ticket: { is: ticketScope(actor) } }, { ticketId: null }] }) },
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
          take: 1,
          select: { body: true, createdAt: true, ticketId: true },
        },
      },
    });
    for (const r of residents) {
      const pause = botPauseOf(r);
      if (!pause || !residentVisible(actor, r.tickets) || rows.length >= limit) continue;
      const open = r.tickets.filter(isOpen);
      const seesAll = open.every((t) => canAccessTicket(actor, t));
      let last = r.messages[0] ?? null;
      // Unlinked words may be about a ticket of a department the agent does not work: their latest linked to one they do.
      if (last && last.ticketId === null && !seesAll) {
        last = await tx.message.findFirst({
          where: { residentId: r.id, direction: "inbound", ticket: { is: ticketScope(actor) } },
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
          select: { body: true, createdAt: true, ticketId: true },
        });
      }
      rows.push({
        residentId: r.id,
        phoneMasked: maskPhone(r.phone),
        pause,
        lastMessage: last && { body: last.body, createdAt: last.createdAt },
        reference: open.find((t) => canAccessTicket(actor, t))?.reference ?? null,
      });
    }
    if (residents.length < limit) break;
  }
  return rows;
}
