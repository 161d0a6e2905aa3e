import { createHash } from "node:crypto";
import { z } from "zod";
import { ROUTES } from "../channels/routes.js";
import { CHANNELS, LOCALES, TICKET_STATUSES } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";
import { maskPhone } from "../lib/maskPhone.js";
import { attributeValuesOf } from "./open311/attributes.js";
import { whatsappWindowOpen } from "./outbox.js";
import { botPauseOf, type BotPause } from "./residents.js";
import { canAccessTicket, ticketScope, type Actor } from "./staff.js";
import { nearThresholds, targetHours, targetRank, ticketTarget, type CategoryTargets, type TicketTarget } from "./targets.js";
import { MediaList } from "./tickets.js";
import { searchTicketIds } from "./ticketSearch.js";

const OPEN = ["new", "waiting_staff", "in_progress"] as const;

/**
 * The channels a ticket can come through: a resident's own (SMS, WhatsApp), or "open311" for a
 * request another civic tool filed (GeoReport v2). Not the engine's CHANNELS: nothing is ever
 * *sent* on "open311" (a resident such a ticket has is written to by SMS).
 */
export const TICKET_CHANNELS = [...CHANNELS, "open311"] as const;
export type TicketChannel = (typeof TICKET_CHANNELS)[number];
/** The routes a ticket can come by: a provider's, or "open311" (another tool's HTTP request). */
export const TICKET_ROUTES = [...ROUTES, "open311"] as const;
export type TicketRoute = (typeof TICKET_ROUTES)[number];
/** The queue's orders (see `listTickets`). */
export const QUEUE_SORTS = ["target", "created"] as const;
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
  channel: z.enum(TICKET_CHANNELS).optional(),
  language: z.enum(LOCALES).optional(),
  childRelated: flag.optional(),
  needsHuman: flag.optional(),
  /** "me", "none" or a staff id. */
  assignee: z.union([z.enum(["me", "none"]), z.coerce.number().int().positive().max(2_147_483_647, "is not a staff id")]).optional(),
  /** Only tickets older than this many days. */
  olderThanDays: z.coerce.number().int().min(0).max(3650).optional(),
  /**
   * A reference, part of a phone number, or words of the description, the address, the messages or
   * the resident's WhatsApp name, folded like the bot folds Arabic.
   */
  // PostgreSQL text cannot hold NUL: refuse it here rather than fail in the query.
  q: z.string().trim().max(200).refine((q) => !q.includes("\u0000"), "must not contain NUL characters").optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
  /** "target": overdue first, then near their target, then the longest waiting; "created": the oldest filed first. */
  sort: z.enum(QUEUE_SORTS).default("target"),
});
export type TicketFilters = z.infer<typeof TicketFilters>;

/** Who wrote a message, as the queue names them. */
export type MessageAuthor = { kind: "resident" } | { kind: "staff"; name: string | null } | { kind: "bot" } | { kind: "notification" };

/** The latest message of a ticket, either way. */
export interface LastMessage {
  body: string;
  author: MessageAuthor;
  createdAt: Date;
}

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
  /** The resident's phone, masked; null when there is no resident (an Open311 request filed without a phone number). */
  phoneMasked: string | null;
  /** The name of the Open311 client that filed it; null for a request a resident made themselves. */
  open311Client: string | null;
  assignee: { id: number; displayName: string } | null;
  createdAt: Date;
  updatedAt: Date;
  /** Since when the resident has waited for staff (their oldest unanswered message); null when staff replied last, or it is closed. */
  waitingSince: Date | null;
  /** The resident wrote since the actor last opened the ticket, or the actor never opened it. */
  unread: boolean;
  /** The resident reopened it, and no staff member changed its status since. */
  reopened: boolean;
  /** Where it stands against its category's first-response and resolution targets. */
  target: TicketTarget;
  /** The latest message of the ticket, either way, and who wrote it; null when it has none. */
  lastMessage: LastMessage | null;
  /** The bot stopped answering the resident (a flood or a loop): staff should look. Absent where not read (the API). */
  botPause?: BotPause | null;
}

/** Tickets matching the filters, in the tabs of the queue, and how many of the current tab's the actor has not read. */
export interface QueueCounts {
  /** Assigned to the actor. */
  mine: number;
  /** Assigned to nobody. */
  unassigned: number;
  /** Everything the actor may see. */
  all: number;
  /** Unread by the actor, with all the filters (the current tab's). */
  unread: number;
}

/** The ticket filter of a search: ids from the folded text search, or a reference or a phone number. */
function searchWhere(q: string, textMatches: readonly number[]): object {
  const digits = q.replace(/[\s#+\-()]/g, "").replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660));
  const or: object[] = textMatches.length > 0 ? [{ id: { in: [...textMatches] } }] : [];
  if (/^\d+$/.test(digits)) {
    if (digits.length <= 7) or.push({ reference: Number(digits) });
    // Local numbers are stored in E.164: "71 123 456" is found as "+96171123456".
    if (digits.length >= 3) or.push({ resident: { phone: { contains: digits.replace(/^0+/, "") } } });
  }
  return or.length > 0 ? { OR: or } : { id: { in: [] } };
}

/** The Prisma filter of the queue; `assignee` overrides the filters' own (the tabs). */
function whereFor(actor: Actor, f: TicketFilters, now: Date, textMatches: readonly number[], assignee = f.assignee) {
  const and: object[] = [ticketScope(actor)];
  if (f.status === "open") and.push({ status: { in: [...OPEN] } });
  else if (f.status !== "all") and.push({ status: { in: f.status } });
  if (f.category) and.push({ category: { code: f.category } });
  if (f.department) and.push({ department: f.department });
  if (f.channel) and.push({ channel: f.channel });
  if (f.language) and.push({ locale: f.language });
  if (f.childRelated !== undefined) and.push({ childRelated: f.childRelated });
  if (f.needsHuman !== undefined) and.push({ needsHuman: f.needsHuman });
  if (assignee === "me") and.push({ assigneeId: actor.id });
  else if (assignee === "none") and.push({ assigneeId: null });
  else if (typeof assignee === "number") and.push({ assigneeId: assignee });
  if (f.olderThanDays !== undefined) and.push({ createdAt: { lte: new Date(now.getTime() - f.olderThanDays * 86_400_000) } });
  if (f.q) and.push(searchWhere(f.q, textMatches));
  return { AND: and };
}

/** The filters' search, run once per request: the ids of the tickets whose text matches. */
async function textMatchesOf(tx: Tx, actor: Actor, f: TicketFilters): Promise<number[]> {
  return f.q ? searchTicketIds(tx, actor, f.q) : [];
}

type TargetsById = ReadonlyMap<number, CategoryTargets>;

async function categoryTargets(tx: Tx, municipalityId: string): Promise<TargetsById> {
  const categories = await tx.category.findMany({ where: { municipalityId }, select: { id: true, firstResponseHours: true, resolutionHours: true } });
  return new Map(categories.map((c) => [c.id, c]));
}

/**
 * The open tickets `ticketTarget` calls near or overdue, as a database filter: per set of target
 * hours, the tickets of those categories waiting for a first reply, or created, before the
 * threshold. Null-safe (`not: null`) so that its NOT is exactly the rest of the queue.
 */
function attentionWhere(targets: TargetsById, now: Date): object {
  const groups = new Map<string, { targets: CategoryTargets | null; ids: number[]; withoutCategory: boolean }>();
  const groupOf = (category: CategoryTargets | null) => {
    const hours = targetHours(category);
    const key = `${hours.firstResponse}/${hours.resolution}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { targets: category, ids: [], withoutCategory: false }));
    return group;
  };
  groupOf(null).withoutCategory = true;
  for (const [id, category] of targets) groupOf(category).ids.push(id);
  const or = [...groups.values()].map((group) => {
    const threshold = nearThresholds(group.targets, now);
    const inGroup: object[] = [{ categoryId: { not: null, in: group.ids } }];
    if (group.withoutCategory) inGroup.push({ categoryId: null });
    return {
      AND: [
        { OR: inGroup },
        { OR: [{ firstResponseAt: null, waitingSince: { not: null, lte: threshold.firstResponse } }, { createdAt: { lte: threshold.resolution } }] },
      ],
    };
  });
  return { AND: [{ status: { in: [...OPEN] } }, { OR: or }] };
}

/** The longest-waiting first; tickets nobody waits on (staff replied last) after them, oldest first. */
const BY_WAITING = [{ waitingSince: { sort: "asc" as const, nulls: "last" as const } }, { createdAt: "asc" as const }, { id: "asc" as const }];

function byWaiting(a: { waitingSince: Date | null; createdAt: Date; id: number }, b: typeof a): number {
  if (a.waitingSince && b.waitingSince && a.waitingSince.getTime() !== b.waitingSince.getTime()) return a.waitingSince.getTime() - b.waitingSince.getTime();
  if (a.waitingSince && !b.waitingSince) return -1;
  if (!a.waitingSince && b.waitingSince) return 1;
  return a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id;
}

async function findRows(tx: Tx, actor: Actor, args: { where: object; orderBy?: object[]; skip?: number; take?: number }) {
  return tx.ticket.findMany({
    where: args.where,
    ...(args.orderBy ? { orderBy: args.orderBy } : {}),
    ...(args.skip ? { skip: args.skip } : {}),
    ...(args.take !== undefined ? { take: args.take } : {}),
    include: {
      category: true,
      resident: { select: { phone: true, botPausedAt: true, botPauseReason: true } },
      assignee: { select: { id: true, displayName: true } },
      open311Submission: { select: { client: { select: { name: true } } } },
      reads: { where: { staffId: actor.id }, select: { readAt: true } },
      messages: {
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: 1,
        select: { body: true, direction: true, kind: true, createdAt: true, staff: { select: { displayName: true } } },
      },
    },
  });
}
type FoundTicket = Awaited<ReturnType<typeof findRows>>[number];

/** Unread by a staff member: the resident wrote after they last opened it, or they never did. */
const isUnread = (lastResidentAt: Date | null, readAt: Date | undefined) => lastResidentAt !== null && (readAt === undefined || lastResidentAt > readAt);

function authorOf(message: { direction: string; kind: string; staff: { displayName: string } | null }): MessageAuthor {
  if (message.direction === "inbound") return { kind: "resident" };
  if (message.kind === "staff") return { kind: "staff", name: message.staff?.displayName ?? null };
  if (message.kind === "bot") return { kind: "bot" };
  return { kind: "notification" };
}

function queueRowOf(t: FoundTicket, now: Date): QueueRow {
  const last = t.messages[0];
  return {
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
    phoneMasked: t.resident ? maskPhone(t.resident.phone) : null,
    open311Client: t.open311Submission?.client.name ?? null,
    assignee: t.assignee,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    waitingSince: t.waitingSince,
    unread: isUnread(t.lastResidentAt, t.reads[0]?.readAt),
    reopened: t.reopenedAt !== null,
    target: ticketTarget(t, t.category, now),
    lastMessage: last ? { body: last.body, author: authorOf(last), createdAt: last.createdAt } : null,
    botPause: t.resident ? botPauseOf(t.resident) : null,
  };
}

/** One page of the queue for a filter, in the order `filters.sort` asks for. */
async function pageOf(tx: Tx, actor: Actor, filters: TicketFilters, where: object, now: Date): Promise<FoundTicket[]> {
  const start = (filters.page - 1) * filters.pageSize;
  if (filters.sort === "created") return findRows(tx, actor, { where, orderBy: [{ createdAt: "asc" }, { id: "asc" }], skip: start, take: filters.pageSize });
  // Near and overdue tickets are few: ranked here. The rest come in the database's order after them.
  const targets = await categoryTargets(tx, actor.municipalityId);
  const attention = attentionWhere(targets, now);
  const flagged = await tx.ticket.findMany({
    where: { AND: [where, attention] },
    select: { id: true, status: true, createdAt: true, waitingSince: true, firstResponseAt: true, categoryId: true },
  });
  const ranked = flagged
    .map((t) => ({ ...t, rank: targetRank(ticketTarget(t, t.categoryId === null ? null : (targets.get(t.categoryId) ?? null), now).state) }))
    .sort((a, b) => a.rank - b.rank || byWaiting(a, b));
  const onPage = ranked.slice(start, start + filters.pageSize).map((t) => t.id);
  const firstRows = onPage.length > 0 ? await findRows(tx, actor, { where: { id: { in: onPage } } }) : [];
  const position = new Map(onPage.map((id, i) => [id, i]));
  firstRows.sort((a, b) => (position.get(a.id) ?? 0) - (position.get(b.id) ?? 0));
  const take = filters.pageSize - onPage.length;
  const rest = take > 0 ? await findRows(tx, actor, { where: { AND: [where, { NOT: attention }] }, orderBy: BY_WAITING, skip: Math.max(0, start - ranked.length), take }) : [];
  return [...firstRows, ...rest];
}

/**
 * The queue an actor may see, filtered, paginated, with the actor's unread marks. By default
 * (`sort=target`) overdue tickets come first, then those near their target, then the others, each
 * the longest-waiting first (`waitingSince`; tickets staff answered last after them, oldest first);
 * `sort=created` is the oldest filed first. Agents only ever see their departments' tickets.
 */
export async function listTickets(tx: Tx, actor: Actor, filters: TicketFilters, now: Date): Promise<{ rows: QueueRow[]; total: number }> {
  // One after the other: inside a transaction (the API's) they share one connection.
  const where = whereFor(actor, filters, now, await textMatchesOf(tx, actor, filters));
  const total = await tx.ticket.count({ where });
  const tickets = await pageOf(tx, actor, filters, where, now);
  return { total, rows: tickets.map((t) => queueRowOf(t, now)) };
}

/** What the queue page shows: a page of rows (`listTickets`), and the counts of its tabs. */
export async function queueView(tx: Tx, actor: Actor, filters: TicketFilters, now: Date): Promise<{ rows: QueueRow[]; total: number; counts: QueueCounts }> {
  const matches = await textMatchesOf(tx, actor, filters);
  const where = whereFor(actor, filters, now, matches);
  const total = await tx.ticket.count({ where });
  const tickets = await pageOf(tx, actor, filters, where, now);
  const count = (assignee: TicketFilters["assignee"]) => tx.ticket.count({ where: whereFor(actor, filters, now, matches, assignee) });
  const counts: QueueCounts = { mine: await count("me"), unassigned: await count("none"), all: await count(undefined), unread: await unreadCount(tx, actor, where) };
  return { total, rows: tickets.map((t) => queueRowOf(t, now)), counts };
}

/** How many tickets of a filter the actor has not read since the resident last wrote. */
async function unreadCount(tx: Tx, actor: Actor, where: object): Promise<number> {
  const written = { AND: [where, { lastResidentAt: { not: null } }] };
  const neverOpened = await tx.ticket.count({ where: { AND: [written, { reads: { none: { staffId: actor.id } } }] } });
  // Comparing two tables' dates is not a Prisma filter: the tickets this person opened are compared here.
  const opened = await tx.ticket.findMany({
    where: { AND: [written, { reads: { some: { staffId: actor.id } } }] },
    select: { lastResidentAt: true, reads: { where: { staffId: actor.id }, select: { readAt: true } } },
  });
  return neverOpened + opened.filter((t) => isUnread(t.lastResidentAt, t.reads[0]?.readAt)).length;
}

/**
 * A short token that changes whenever the actor's queue could show something else: a ticket in
 * their scope created, changed or written to by its resident (count, latest `updatedAt` and
 * `lastResidentAt`), a ticket they opened (their latest TicketRead), a category's targets, a
 * resident's bot pause, their filters or language — and every minute, as waiting times and
 * targets move with the clock. The queue's script sends it back; the same token means nothing
 * to render.
 */
export async function queueToken(tx: Tx, actor: Actor, filters: TicketFilters, now: Date): Promise<string> {
  const tickets = await tx.ticket.aggregate({ where: ticketScope(actor), _count: { _all: true }, _max: { updatedAt: true, lastResidentAt: true } });
  const reads = await tx.ticketRead.aggregate({ where: { staffId: actor.id }, _count: { _all: true }, _max: { readAt: true } });
  const categories = await tx.category.aggregate({ where: { municipalityId: actor.municipalityId }, _max: { updatedAt: true } });
  const paused = await tx.resident.aggregate({ where: { municipalityId: actor.municipalityId, botPausedAt: { not: null } }, _count: { _all: true }, _max: { botPausedAt: true } });
  const time = (date: Date | null | undefined) => date?.getTime() ?? null;
  const parts = [
    actor.id,
    actor.role,
    actor.departments,
    actor.locale,
    filters,
    Math.floor(now.getTime() / 60_000),
    tickets._count._all,
    time(tickets._max.updatedAt),
    time(tickets._max.lastResidentAt),
    reads._count._all,
    time(reads._max.readAt),
    time(categories._max.updatedAt),
    paused._count._all,
    time(paused._max.botPausedAt),
  ];
  return createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 22);
}

/**
 * Everything about one ticket for the ticket page and the API: the resident (full phone), the whole
 * conversation with delivery states, media, location, history, whether WhatsApp's 24-hour
 * window is open, and what an Open311 client sent with it. Null when the actor may not see it.
 * A request filed through Open311 without a phone number has no resident: no conversation, no
 * window, nobody to act on.
 */
export async function ticketDetail(tx: Tx, actor: Actor, reference: number, now: Date) {
  const ticket = await tx.ticket.findFirst({
    where: { AND: [ticketScope(actor), { reference }] },
    include: {
      category: true,
      assignee: { select: { id: true, displayName: true, username: true } },
      resident: { include: { identities: true } },
      events: { orderBy: [{ createdAt: "asc" }, { id: "asc" }], include: { actor: { select: { id: true, displayName: true } } } },
      open311Submission: { include: { client: { select: { name: true, revokedAt: true } } } },
    },
  });
  if (!ticket) return null;
  const { resident } = ticket;
  // One after the other: inside a transaction (the API's) they share one connection.
  const messages = resident ? await conversationOf(tx, actor, ticket, resident.id) : [];
  const residentVisible = resident ? await residentVisibleTo(tx, actor, resident.id) : false;
  const open311 = ticket.open311Submission ? await open311SubmissionOf(tx, ticket.municipalityId, ticket.open311Submission) : null;
  const whatsapp = resident?.identities.find((i) => i.channel === "whatsapp");
  return {
    ticket,
    /** The actor may act on the resident (resume the bot): see `residentVisibleTo`. False without a resident. */
    residentVisible,
    media: MediaList.parse(JSON.parse(ticket.media)),
    messages,
    window:
      resident && ticket.channel === "whatsapp"
        ? { open: whatsappWindowOpen(whatsapp?.lastInboundAt, now), lastInboundAt: whatsapp?.lastInboundAt ?? null, route: whatsapp?.route ?? null }
        : null,
    /** What the Open311 client sent, read and explained; null for a resident's own request. */
    open311,
  };
}

/**
 * The ticket's own messages, and what the resident said since it was opened that belongs to no
 * ticket — but only when the actor may see all of this resident's open tickets: an unlinked
 * message could be about a ticket of a department the actor does not work.
 */
async function conversationOf(tx: Tx, actor: Actor, ticket: { id: number; createdAt: Date }, residentId: number) {
  const others = await tx.ticket.findMany({
    where: { residentId, id: { not: ticket.id }, status: { in: [...OPEN] } },
    select: { department: true, municipalityId: true },
  });
  const seesAll = others.every((other) => canAccessTicket(actor, other));
  const messages = await tx.message.findMany({
    where: {
      residentId,
      OR: [{ ticketId: ticket.id }, ...(seesAll ? [{ ticketId: null, createdAt: { gte: ticket.createdAt } }] : [])],
    },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    include: { staff: { select: { id: true, displayName: true } }, outbox: { select: { status: true, attempts: true, lastError: true, nextAttemptAt: true } } },
  });
  return messages.map((m) => ({ ...m, media: MediaList.parse(JSON.parse(m.media)) }));
}

/** A name in both languages (a question of the category, a value of a list). */
export interface BothNames {
  ar: string;
  en: string;
}

/** One answer an Open311 client gave to a question of the category (GeoReport v2 `attribute[code]`). */
export interface Open311Answer {
  code: string;
  /** The question as the category asks it; null for a code the ticket's category does not (or no longer) know. */
  question: BothNames | null;
  /** The value(s) given, each with its name when it is a key of the question's list. */
  values: Array<{ key: string; name: BothNames | null }>;
}

/** What an Open311 client sent with a request, beyond the ticket's own columns. Personal data: staff only. */
export interface Open311Details {
  client: { name: string; revokedAt: Date | null };
  submittedAt: Date;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  deviceId: string | null;
  /** The client's own id for the person (not a municipal account). */
  accountId: string | null;
  /** The media_url values given, as given: links to show, never to fetch or embed. */
  mediaUrls: string[];
  /** Known questions in the category's order first, then codes it does not know, as stored. */
  answers: Open311Answer[];
}

const StoredMediaUrls = z.array(z.string()).catch([]);
// Entry by entry: one odd value drops only that answer, not every answer.
const StoredAnswers = z
  .record(z.string(), z.unknown())
  .catch({})
  .transform((answers) =>
    Object.fromEntries(
      Object.entries(answers).flatMap(([code, value]): Array<[string, string | string[]]> => {
        if (typeof value === "string") return [[code, value]];
        if (Array.isArray(value) && value.every((v) => typeof v === "string")) return [[code, value as string[]]];
        return [];
      }),
    ),
  );

/** A stored JSON column read leniently: a malformed one reads as `fallback`, never a crash of the page. */
function storedJson<T>(schema: z.ZodType<T>, json: string, fallback: T): T {
  try {
    return schema.parse(JSON.parse(json));
  } catch {
    return fallback;
  }
}

/**
 * An Open311 submission as staff read it: the JSON columns parsed, and the answers explained with
 * the questions of the service it was filed in (its category then, whatever staff moved the ticket
 * to since; active or not: an answer outlives its question's retirement). A code that service does
 * not know is kept, shown raw.
 */
async function open311SubmissionOf(
  tx: Tx,
  municipalityId: string,
  submission: {
    createdAt: Date;
    firstName: string | null;
    lastName: string | null;
    email: string | null;
    deviceId: string | null;
    accountId: string | null;
    mediaUrls: string;
    attributes: string;
    serviceCode: string;
    client: { name: string; revokedAt: Date | null };
  },
): Promise<Open311Details> {
  const stored = storedJson(StoredAnswers, submission.attributes, {});
  const codes = Object.keys(stored);
  // The questions of the service it was filed in, whatever category staff moved it to since.
  const questions =
    codes.length > 0
      ? await tx.categoryAttribute.findMany({
          where: { category: { is: { municipalityId, code: submission.serviceCode } }, code: { in: codes } },
          orderBy: [{ sortOrder: "asc" }, { id: "asc" }],
        })
      : [];
  const answer = (code: string, question: (typeof questions)[number] | null): Open311Answer => {
    const raw = stored[code];
    const given = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const values = question ? attributeValuesOf(question.values) : [];
    return {
      code,
      question: question ? { ar: question.descriptionAr, en: question.descriptionEn } : null,
      values: given.map((key) => {
        const named = values.find((v) => v.key === key);
        return { key, name: named ? { ar: named.nameAr, en: named.nameEn } : null };
      }),
    };
  };
  const known = new Set(questions.map((q) => q.code));
  return {
    client: submission.client,
    submittedAt: submission.createdAt,
    firstName: submission.firstName,
    lastName: submission.lastName,
    email: submission.email,
    deviceId: submission.deviceId,
    accountId: submission.accountId,
    mediaUrls: storedJson(StoredMediaUrls, submission.mediaUrls, []),
    answers: [...questions.map((q) => answer(q.code, q)), ...codes.filter((c) => !known.has(c)).map((c) => answer(c, null))],
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
