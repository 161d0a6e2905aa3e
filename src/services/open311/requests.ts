import { z } from "zod";
import type { Locale } from "../../conversation/types.js";
import type { Db, Tx } from "../../db/createDb.js";
import type { Prisma } from "../../generated/sqlite/client.js";
import { beirutW3c } from "../../lib/beirutTime.js";
import { publicTicketWhere, redactContacts } from "./privacy.js";
import type { O311Request, PublicRequestsQuery } from "./types.js";

/**
 * The requests side of Open311 GeoReport v2 (GET requests, GET requests/{id}): public tickets only
 * (privacy.ts), read field by field — never the resident, the messages, replies or internal notes,
 * never the assignee. Phone numbers residents typed into a description or an address are masked.
 */

/** The Baladiya statuses Open311 calls "open"; resolved and closed are "closed". */
const OPEN_STATUSES = ["new", "waiting_staff", "in_progress"] as const;
const CLOSED_STATUSES = ["resolved", "closed"] as const;
/** The longest description GeoReport v2 allows (its JSON Schema's maxLength), in code points. */
export const MAX_DESCRIPTION = 4000;
/** At most this many requests in one answer (the specification's default cap). */
export const MAX_REQUESTS = 1000;
// References are 32-bit integers in the database: PostgreSQL refuses a larger one with an error.
export const MAX_REFERENCE = 2_147_483_647;

/** A Baladiya status as Open311 says it. */
export function open311Status(status: string): "open" | "closed" {
  return (CLOSED_STATUSES as readonly string[]).includes(status) ? "closed" : "open";
}

/** The history events that can say something public; `note` and `reply` are never read. */
export const PUBLIC_EVENT_KINDS = ["status_changed", "public_note", "reopened"] as const;

/** A history event as stored: `data` is JSON. */
export interface StoredEvent {
  kind: string;
  data: string;
  createdAt: Date;
}

const StatusChange = z.object({ from: z.string().catch(""), to: z.string().catch(""), publicNote: z.string().optional().catch(undefined) });
const PublicNote = z.object({ text: z.string().catch("") });

function parsed<T>(schema: z.ZodType<T>, json: string): T | null {
  try {
    const result = schema.safeParse(JSON.parse(json));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}

/**
 * What an event says publicly, or null when it says nothing: a status change that moves the
 * request between open and closed or carries a public note, a public note, a reopening (whose
 * note is null: it clears the previous one). Moves that stay open (new → in progress when staff
 * reply, waiting ↔ in progress) are internal: they neither clear a note nor update the request.
 */
export function publicUpdate(event: StoredEvent): { note: string | null } | null {
  switch (event.kind) {
    case "reopened":
      return { note: null };
    case "public_note": {
      const text = parsed(PublicNote, event.data)?.text.trim();
      return text ? { note: text } : null;
    }
    case "status_changed": {
      const change = parsed(StatusChange, event.data);
      // Unreadable data: a change we cannot place still moved the request.
      if (!change) return { note: null };
      const note = change.publicNote?.trim() || null;
      return note !== null || open311Status(change.from) !== open311Status(change.to) ? { note } : null;
    }
    default:
      return null;
  }
}

/**
 * Where the request stands publicly after its history (oldest first): the note of the latest public
 * update (null when it had none, or was a reopening) and when that was (null when none).
 */
export function publicState(events: readonly StoredEvent[]): { note: string | null; updatedAt: Date | null } {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    const update = publicUpdate(event);
    if (update) return { note: update.note, updatedAt: event.createdAt };
  }
  return { note: null, updatedAt: null };
}

const named = { select: { nameAr: true, nameEn: true } } as const;
/** Everything a request is served from, and nothing else. */
const REQUEST_FIELDS = {
  reference: true,
  status: true,
  description: true,
  addressText: true,
  latitude: true,
  longitude: true,
  department: true,
  createdAt: true,
  category: { select: { code: true, nameAr: true, nameEn: true } },
  place: named,
  events: {
    where: { kind: { in: [...PUBLIC_EVENT_KINDS] } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { kind: true, data: true, createdAt: true },
  },
} satisfies Prisma.TicketSelect;
type RequestRow = Prisma.TicketGetPayload<{ select: typeof REQUEST_FIELDS }>;

/** A name in the language asked, else in the other one; null when both are blank. */
function nameIn(locale: Locale, row: { nameAr: string; nameEn: string } | null): string | null {
  if (!row) return null;
  const [first, second] = locale === "ar" ? [row.nameAr, row.nameEn] : [row.nameEn, row.nameAr];
  return first.trim() || second.trim() || null;
}

/**
 * Public coordinates to 4 decimals (about 11 m): enough to find a pothole, not a resident's door
 * (a WhatsApp pin is often sent from home). Staff and the town's own GIS export keep 6.
 */
const round4 = (value: number) => Math.round(value * 1e4) / 1e4 || 0;

/** Masked, at most MAX_DESCRIPTION code points (masked first: a cut never leaves half a number). */
export function publicText(text: string | null, max = Infinity): string | null {
  const trimmed = text?.trim();
  if (!trimmed) return null;
  const masked = redactContacts(trimmed);
  const points = [...masked];
  return points.length > max ? points.slice(0, max).join("") : masked;
}

function toRequest(row: RequestRow, departments: ReadonlyMap<string, { nameAr: string; nameEn: string }>, locale: Locale): O311Request {
  const { note, updatedAt } = publicState(row.events);
  const point = row.latitude !== null && row.longitude !== null ? { lat: round4(row.latitude), long: round4(row.longitude) } : { lat: null, long: null };
  return {
    service_request_id: String(row.reference),
    status: open311Status(row.status),
    status_notes: publicText(note),
    service_name: nameIn(locale, row.category),
    service_code: row.category?.code ?? null,
    description: publicText(row.description, MAX_DESCRIPTION),
    agency_responsible: row.department === null ? null : (nameIn(locale, departments.get(row.department) ?? null) ?? row.department),
    service_notice: null,
    requested_datetime: beirutW3c(row.createdAt),
    updated_datetime: beirutW3c(updatedAt ?? row.createdAt),
    expected_datetime: null,
    address: publicText(row.addressText) ?? publicText(nameIn(locale, row.place)),
    address_id: null,
    zipcode: null,
    lat: point.lat,
    long: point.long,
    // Nothing is published yet: WhatsApp photos sit behind Twilio's credentials.
    media_url: null,
  };
}

/** The Baladiya statuses behind a list of Open311 ones. */
function statusesFor(statuses: ReadonlyArray<"open" | "closed">): string[] {
  return [...new Set(statuses)].flatMap((s) => (s === "open" ? [...OPEN_STATUSES] : [...CLOSED_STATUSES]));
}

/**
 * GET requests: the public requests a query selects, as Open311 serves them, names in `locale`.
 * `ids`: those of the references that are public, in the order asked (repeats once); `search`:
 * by service codes (an unknown code matches nothing; none given: all), Open311 statuses (none: all)
 * and requested time (start ≤ created < end), newest first, at most `limit` (and MAX_REQUESTS).
 * Two calls whatever the number of requests: the tickets (Prisma reads their category, place and
 * public events with one query per relation) and the departments named.
 */
export async function listPublicRequests(db: Db | Tx, municipalityId: string, query: PublicRequestsQuery, locale: Locale): Promise<O311Request[]> {
  let rows: RequestRow[];
  if (query.kind === "ids") {
    const references = [...new Set(query.references.filter((r) => Number.isSafeInteger(r) && r > 0 && r <= MAX_REFERENCE))];
    if (references.length === 0) return [];
    const found = await db.ticket.findMany({ where: { AND: [publicTicketWhere(municipalityId), { reference: { in: references } }] }, select: REQUEST_FIELDS });
    const byReference = new Map(found.map((row) => [row.reference, row]));
    rows = references.flatMap((r) => byReference.get(r) ?? []);
  } else {
    const limit = Math.min(Math.max(0, Math.floor(query.limit)), MAX_REQUESTS);
    if (limit === 0) return [];
    const filters: Prisma.TicketWhereInput[] = [publicTicketWhere(municipalityId), { createdAt: { gte: query.start, lt: query.end } }];
    if (query.serviceCodes.length > 0) filters.push({ category: { is: { code: { in: [...new Set(query.serviceCodes)] } } } });
    if (query.statuses.length > 0) filters.push({ status: { in: statusesFor(query.statuses) } });
    rows = await db.ticket.findMany({ where: { AND: filters }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: limit, select: REQUEST_FIELDS });
  }
  if (rows.length === 0) return [];
  const codes = [...new Set(rows.flatMap((row) => (row.department === null ? [] : [row.department])))];
  const departments =
    codes.length > 0 ? await db.department.findMany({ where: { municipalityId, code: { in: codes } }, select: { code: true, nameAr: true, nameEn: true } }) : [];
  const departmentNames = new Map(departments.map((d) => [d.code, d]));
  return rows.map((row) => toRequest(row, departmentNames, locale));
}

/** GET requests/{id}: one public request, or null when there is none by that reference (or it is not public). */
export async function publicRequest(db: Db | Tx, municipalityId: string, reference: number, locale: Locale): Promise<O311Request | null> {
  const [request] = await listPublicRequests(db, municipalityId, { kind: "ids", references: [reference] }, locale);
  return request ?? null;
}
