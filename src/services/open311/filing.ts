import { createHash } from "node:crypto";
import type { Locale } from "../../conversation/types.js";
import type { Db, Tx } from "../../db/createDb.js";
import { createdEventData, newTicketColumns, pickFreeReference, type RandomInt, type TicketPlacement } from "../../db/hot/tickets.js";
import { toE164 } from "../../lib/phone.js";
import { understand } from "../../understand/understand.js";
import { FINANCE_DEPARTMENT } from "../accountStaff.js";
import { locate, NOWHERE, type Placement, type Point } from "../places/locate.js";
import { placeSetOf, pointRefusal } from "../places/setTicketLocation.js";
import { attributeDatatypeOf, attributeValuesOf, readAttributeAnswers, type AttributeRule } from "./attributes.js";
import type { Open311ClientRef } from "./clients.js";

/**
 * Filing a request through Open311 (GeoReport v2 POST requests): another tool's request becomes an
 * ordinary ticket in the staff queue, routed to its category's department, located like a resident's
 * (a point, else the landmark its address names, with the area and the child zone), child-related
 * for its category, its words or its point. With a phone number it is linked to that resident, who
 * then hears about its status by SMS like anyone else; without one it has no resident (staff answer
 * it with public notes). What the client sent beyond the ticket's columns (names, e-mail, device,
 * answers to the service's questions, media links) is kept in Open311Submission for staff, never
 * served by Open311. One transaction: a request is filed whole or not at all.
 */

/** A request as the HTTP layer read it from the form: shapes checked, nothing looked up yet. */
export interface Open311FilingInput {
  serviceCode: string;
  /** lat + long, already numbers. */
  point: Point | null;
  addressString: string | null;
  /** The id of one of the town's places (its GeoJSON export's `id`). */
  addressId: number | null;
  description: string | null;
  /** http(s) links, kept as links: never fetched, never published. */
  mediaUrls: string[];
  email: string | null;
  /** As the client sent it; normalised like a resident's. */
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  deviceId: string | null;
  accountId: string | null;
  /** attribute[code] (repeated, or attribute[code][]) → values. */
  attributes: ReadonlyMap<string, readonly string[]>;
  /** The ticket's language (notifications go in the resident's own when they have one). */
  locale: Locale;
}

export interface FilingContext {
  municipalityId: string;
  client: Open311ClientRef;
  now: Date;
  randomInt: RandomInt;
  /** CHILD_ZONE_METRES */
  zoneMetres: number;
}

export type FilingOutcome =
  | {
      ok: true;
      reference: number;
      /** True when the same client sent the same request moments ago: that one's reference, nothing new filed. */
      repeated: boolean;
      /** The phone given was linked to a resident, who will hear about the request by SMS. */
      residentLinked: boolean;
    }
  /**
   * 400: every problem found, in English (Open311 error descriptions name the parameter); 403: the
   * client's key was revoked since it was checked.
   */
  | { ok: false; status: 400 | 403; problems: string[] };

/** The same request from the same client within this long is a retry, not a second request. */
export const REPEAT_WINDOW_MS = 10 * 60_000;

/** Why the point cannot be the request's. */
const POINT_PROBLEMS = {
  outside_lebanon: "lat/long: the point is outside Lebanon",
  swapped: "lat/long: the point is outside Lebanon (are lat and long swapped?)",
  payment_report: "lat/long: not a place",
} as const;

/**
 * Files the request in one transaction (see the module comment); a problem with the service, the
 * answers, the place or the phone number files nothing and says what is wrong.
 */
export async function fileOpen311Request(db: Db, input: Open311FilingInput, ctx: FilingContext): Promise<FilingOutcome> {
  try {
    return await fileOnce(db, input, ctx);
  } catch (error) {
    // Two filings picked the same free reference, or created the same new resident, at the same
    // moment: the loser's transaction is rolled back whole; once more finds both taken.
    if (isUniqueViolation(error)) return fileOnce(db, input, ctx);
    throw error;
  }
}

const isUniqueViolation = (error: unknown) => typeof error === "object" && error !== null && "code" in error && error.code === "P2002";

async function fileOnce(db: Db, input: Open311FilingInput, ctx: FilingContext): Promise<FilingOutcome> {
  const fingerprint = fingerprintOf(input);
  return db.$transaction(async (tx) => {
    // First, the client's row, written: a revocation committed since the key was checked files
    // nothing, and one client's filings take turns (PostgreSQL holds the row lock to the commit),
    // so the same request sent twice at once is seen as a repeat rather than filed twice.
    const active = await tx.open311Client.updateMany({ where: { id: ctx.client.id, revokedAt: null }, data: { lastUsedAt: ctx.now } });
    if (active.count === 0) return { ok: false, status: 403, problems: ["api_key: not a valid client key (unknown or revoked)"] };
    const repeat = await tx.open311Submission.findFirst({
      where: { clientId: ctx.client.id, fingerprint, createdAt: { gte: new Date(ctx.now.getTime() - REPEAT_WINDOW_MS) } },
      orderBy: { id: "desc" },
      select: { ticket: { select: { reference: true, residentId: true } } },
    });
    if (repeat) return { ok: true, reference: repeat.ticket.reference, repeated: true, residentLinked: repeat.ticket.residentId !== null };

    const problems: string[] = [];
    const category = await tx.category.findUnique({
      where: { municipalityId_code: { municipalityId: ctx.municipalityId, code: input.serviceCode } },
      select: {
        id: true,
        code: true,
        department: true,
        active: true,
        isPrivate: true,
        childRelated: true,
        attributes: { where: { active: true }, orderBy: [{ sortOrder: "asc" }, { id: "asc" }], select: { code: true, datatype: true, required: true, values: true } },
      },
    });
    // The services list is what may be filed in: an inactive, private or finance category answers like a missing one.
    const service = category && category.active && !category.isPrivate && category.department !== FINANCE_DEPARTMENT ? category : null;
    if (!service) problems.push("service_code: no such service (services.xml lists them)");

    let answers: Array<{ code: string; values: string[] }> = [];
    if (service) {
      const rules: AttributeRule[] = service.attributes.flatMap((a) => {
        const datatype = attributeDatatypeOf(a.datatype);
        return datatype ? [{ code: a.code, datatype, required: a.required, values: attributeValuesOf(a.values) }] : [];
      });
      const read = readAttributeAnswers(rules, input.attributes);
      if (read.ok) answers = read.answers;
      else problems.push(...read.problems);
    }

    if (input.point) {
      const refusal = pointRefusal(input.point);
      if (refusal) problems.push(POINT_PROBLEMS[refusal]);
    }
    let namedPlace: { id: number; latitude: number; longitude: number } | null = null;
    if (input.addressId !== null) {
      namedPlace = await tx.place.findFirst({ where: { id: input.addressId, municipalityId: ctx.municipalityId }, select: { id: true, latitude: true, longitude: true } });
      if (!namedPlace) problems.push("address_id: no such place");
    }

    // Only Lebanese numbers: the town texts this number when staff resolve the request, and has no
    // business texting abroad on a client's word.
    let phone: string | null = null;
    if (input.phone !== null) {
      phone = toE164(input.phone);
      if (!phone?.startsWith("+961")) problems.push("phone: not a Lebanese phone number (03 123 456, +961 3 123 456)");
    }
    if (problems.length > 0 || !service) return { ok: false, status: 400, problems };

    const resident = phone
      ? await tx.resident.upsert({
          where: { municipalityId_phone: { municipalityId: ctx.municipalityId, phone } },
          create: { municipalityId: ctx.municipalityId, phone, createdAt: ctx.now, updatedAt: ctx.now },
          // Not empty: Prisma then upserts in one statement (ON CONFLICT), safe when two filings
          // bring the same new number at once.
          update: { updatedAt: ctx.now },
          select: { id: true, locale: true },
        })
      : null;

    const placement = await placementOf(tx, ctx, input, namedPlace);
    const reference = await pickFreeReference(async (candidate) => (await tx.ticket.count({ where: { municipalityId: ctx.municipalityId, reference: candidate } })) > 0, ctx.randomInt);
    const description = input.description ?? "";
    const newTicket = {
      reference,
      categoryCode: service.code,
      description,
      // The point is the placement's (a pin, or the named place's): the conversation's location is a pin only.
      location: null,
      addressText: input.addressString,
      media: [],
      childRelated: service.childRelated || understand(description, []).aboutChildren,
      needsHuman: false,
      startedAt: ctx.now,
    };
    const filing = {
      municipalityId: ctx.municipalityId,
      residentId: resident?.id ?? null,
      channel: "open311" as const,
      route: "open311" as const,
      // A resident who already chose a language is answered in it; otherwise in the language the client asked in.
      locale: resident?.locale === "en" || resident?.locale === "ar" ? resident.locale : input.locale,
    };
    const ticket = await tx.ticket.create({
      data: {
        ...newTicketColumns(newTicket, filing, { id: service.id, department: service.department }, placement),
        createdAt: ctx.now,
        updatedAt: ctx.now,
        waitingSince: ctx.now,
        lastResidentAt: ctx.now,
      },
      select: { id: true },
    });
    const created = { ...(JSON.parse(createdEventData(newTicket, filing)) as object), open311Client: { id: ctx.client.id, name: ctx.client.name } };
    await tx.ticketEvent.create({ data: { ticketId: ticket.id, actorType: "system", kind: "created", data: JSON.stringify(created), createdAt: ctx.now } });
    await tx.open311Submission.create({
      data: {
        municipalityId: ctx.municipalityId,
        ticketId: ticket.id,
        clientId: ctx.client.id,
        serviceCode: service.code,
        mediaUrls: JSON.stringify(input.mediaUrls),
        email: input.email,
        firstName: input.firstName,
        lastName: input.lastName,
        deviceId: input.deviceId,
        accountId: input.accountId,
        attributes: JSON.stringify(Object.fromEntries(answers.map((a) => [a.code, a.values]))),
        fingerprint,
        createdAt: ctx.now,
      },
    });
    return { ok: true, reference, repeated: false, residentLinked: resident !== null };
  });
}

/**
 * Where the request is, as the inbox would place it: the client's point; else the place `address_id`
 * names (approximate: the problem is near it); else the landmark the address names (approximate).
 * The area and the child zone follow from the point. Odd place data never costs the request: it is
 * filed with its point, if any.
 */
async function placementOf(tx: Tx, ctx: FilingContext, input: Open311FilingInput, namedPlace: { id: number; latitude: number; longitude: number } | null): Promise<TicketPlacement> {
  const pin = input.point ?? (namedPlace ? { latitude: namedPlace.latitude, longitude: namedPlace.longitude } : null);
  const texts = input.addressString ? [input.addressString] : [];
  if (!pin && texts.length === 0) return stored(NOWHERE);
  try {
    const { places, areas } = await placeSetOf(tx, ctx.municipalityId);
    const found = locate(pin, texts, places, areas, ctx.zoneMetres);
    return stored(!input.point && namedPlace ? { ...found, approximate: true, placeId: namedPlace.id } : found);
  } catch {
    return stored(pin ? { ...NOWHERE, latitude: pin.latitude, longitude: pin.longitude } : NOWHERE);
  }
}

const stored = (p: Placement): TicketPlacement => ({
  latitude: p.latitude,
  longitude: p.longitude,
  approximate: p.approximate,
  placeId: p.placeId,
  areaId: p.areaId,
  childZonePlaceId: p.childZonePlaceId,
  childZoneMetres: p.childZoneMetres,
  childRelated: p.childRelated,
});

/** What makes two submissions the same request (the client's retry), as a SHA-256. */
function fingerprintOf(input: Open311FilingInput): string {
  const canonical = JSON.stringify([
    input.serviceCode,
    input.point?.latitude ?? null,
    input.point?.longitude ?? null,
    input.addressString,
    input.addressId,
    input.description,
    input.mediaUrls,
    input.email,
    input.phone,
    input.firstName,
    input.lastName,
    input.deviceId,
    input.accountId,
    [...input.attributes.entries()].map(([code, values]) => [code, [...values]]).sort(([a], [b]) => String(a).localeCompare(String(b))),
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}
