import { z } from "zod";
import type { Tx } from "../../db/createDb.js";
import type { TicketPlacement } from "../../db/hot/tickets.js";
import type { ActionError, ActionResult } from "../staffActions.js";
import { ticketForActor } from "../staffActions.js";
import type { Actor } from "../staff.js";
import { insideLebanon } from "./geojsonImport.js";
import { locate, type Placement, type Point } from "./locate.js";
import type { PlaceSet } from "./placeCache.js";
import { areaRecord, placeRecord, type AreaRecord } from "./placeTypes.js";

/** Why a point is not taken; the ticket page explains it (geo.json `setPoint.errors.*`). */
export type LocationRefusal = "outside_lebanon" | "swapped" | "payment_report";

/** Where a ticket is, as its columns store it (the inbox files it so): the event records it before and after. */
export type StoredPlacement = TicketPlacement;

/** A name in both languages, for the page's message. */
export interface Named {
  nameAr: string;
  nameEn: string;
}

export type SetTicketLocationResult =
  | ActionResult<{
      /** False when the ticket was already there: nothing was written. */
      changed: boolean;
      placement: StoredPlacement;
      area: Named | null;
      /** The child-related place whose zone the point is in, and how far (placement.childZoneMetres). */
      zonePlace: Named | null;
      /** The point made a request that was not child-related child-related. */
      becameChildRelated: boolean;
    }>
  | ActionError
  | { ok: false; error: "refused"; reason: LocationRefusal };

/** Decimals kept of a hand-set point (about 11 cm), as the GeoJSON export writes them. */
const DECIMALS = 6;
const rounded = (x: number) => Number(x.toFixed(DECIMALS));

/**
 * Staff put a request on the map by hand (`POST /staff/tickets/:reference/location`): the point is
 * exact, so `locationApproximate` is cleared and so is the landmark (`placeId`): the point no longer
 * comes from the place the resident named (what they typed stays in the address), and the export's
 * `near_place` must not name a place the request may be far from. The area and the child zone are
 * recomputed by `locate`, as for a resident's pin; a point in a child zone makes the request
 * child-related, and a point outside every zone leaves it child-related only for its category or
 * the resident's words (see `childRelatedWithoutZone`). One
 * `location_set` event records the placement before and after. The same point again (to 6
 * decimals, already exact, same area and zone) changes nothing and records nothing. Runs in the
 * caller's transaction; another department's ticket is "not found", as for every staff action.
 */
export async function setTicketLocation(
  tx: Tx,
  actor: Actor,
  reference: number,
  point: Point,
  options: { zoneMetres: number; now: Date },
): Promise<SetTicketLocationResult> {
  const refusal = pointRefusal(point);
  if (refusal) return { ok: false, error: "refused", reason: refusal };
  const ticket = await ticketForActor(tx, actor, reference);
  if (!ticket) return { ok: false, error: "not_found", message: `No ticket #${reference}` };
  // A payment report is about an account, not a place: it is never on the map or in the indicators.
  if ((await tx.paymentReport.count({ where: { ticketId: ticket.id } })) > 0) return { ok: false, error: "refused", reason: "payment_report" };
  const before: StoredPlacement = {
    latitude: ticket.latitude,
    longitude: ticket.longitude,
    approximate: ticket.locationApproximate,
    placeId: ticket.placeId,
    areaId: ticket.areaId,
    childZonePlaceId: ticket.childZonePlaceId,
    childZoneMetres: ticket.childZoneMetres,
    childRelated: ticket.childRelated,
  };
  // The point shown in the form is the stored one to 6 decimals: sent back as it is, it is the same
  // point (a WhatsApp pin keeps its own decimals).
  const samePoint =
    before.latitude !== null && before.longitude !== null && rounded(before.latitude) === rounded(point.latitude) && rounded(before.longitude) === rounded(point.longitude);
  const at: Point = samePoint ? { latitude: before.latitude!, longitude: before.longitude! } : { latitude: rounded(point.latitude), longitude: rounded(point.longitude) };
  const { places, areas } = await placeSetOf(tx, actor.municipalityId);
  const found = locate(at, [], places, areas, options.zoneMetres);
  const after = storedPlacement(found, await childRelatedWithoutZone(tx, ticket.id, before));
  const names = {
    area: named(areas.find((a) => a.id === after.areaId)),
    zonePlace: named(places.find((p) => p.id === after.childZonePlaceId)),
    becameChildRelated: after.childRelated && !before.childRelated,
  };
  if (sameAs(before, after)) return { ok: true, changed: false, placement: before, ...names };
  await tx.ticket.update({ where: { id: ticket.id }, data: placementColumns(after) });
  await tx.ticketEvent.create({
    data: { ticketId: ticket.id, actorType: "staff", actorId: actor.id, kind: "location_set", data: JSON.stringify({ from: before, to: after }), createdAt: options.now },
  });
  return { ok: true, changed: true, placement: after, ...names };
}

const CreatedEvent = z.object({ childRelatedAtFiling: z.boolean() });

/**
 * Whether the request is child-related for a reason other than its point: its category or the
 * resident's words, which the creation event records (`childRelatedAtFiling`). A request that was
 * child-related only because its old point was in a child zone stops being so when staff move it
 * out; otherwise the map and the indicators would give a reason that no longer holds. A request
 * filed before that was recorded keeps its flag, as it cannot tell.
 */
async function childRelatedWithoutZone(tx: Tx, ticketId: number, before: StoredPlacement): Promise<boolean> {
  if (!before.childRelated) return false;
  const created = await tx.ticketEvent.findFirst({ where: { ticketId, kind: "created" }, orderBy: { id: "asc" }, select: { data: true } });
  let parsed: z.infer<typeof CreatedEvent> | undefined;
  try {
    parsed = CreatedEvent.safeParse(JSON.parse(created?.data ?? "null")).data;
  } catch {
    // unreadable data: cannot tell, keep the flag
  }
  return parsed ? parsed.childRelatedAtFiling : true;
}

/** Why a point cannot be a request's, or null: inside Lebanon only (and saying so when swapped). */
export function pointRefusal(point: Point): LocationRefusal | null {
  const { latitude, longitude } = point;
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return "outside_lebanon";
  if (insideLebanon(longitude, latitude)) return null;
  return insideLebanon(latitude, longitude) ? "swapped" : "outside_lebanon";
}

/**
 * A municipality's places and areas as `locate` reads them (by id; areas whose stored outline
 * cannot be read are left out), through Prisma: for the staff pages and the demo seed, which write
 * with Prisma. The inbox reads the same rows through its cache (src/db/hot/places.ts).
 */
export async function placeSetOf(tx: Tx, municipalityId: string): Promise<PlaceSet> {
  // One after the other: a transaction is one connection.
  const places = await tx.place.findMany({ where: { municipalityId }, orderBy: { id: "asc" } });
  const areas = await tx.area.findMany({ where: { municipalityId }, orderBy: { id: "asc" } });
  return { places: places.map(placeRecord), areas: areas.map(areaRecord).filter((a): a is AreaRecord => a !== null) };
}

/**
 * The ticket columns of a placement `locate` found. The category's flag (`childRelated`, the
 * ticket's until now) or the child zone: either makes the request child-related.
 */
export function storedPlacement(placement: Placement, childRelated: boolean): StoredPlacement {
  return {
    latitude: placement.latitude,
    longitude: placement.longitude,
    approximate: placement.approximate,
    placeId: placement.placeId,
    areaId: placement.areaId,
    childZonePlaceId: placement.childZonePlaceId,
    childZoneMetres: placement.childZoneMetres,
    childRelated: childRelated || placement.childRelated,
  };
}

/** A stored placement as the Ticket table names its columns. */
export function placementColumns(p: StoredPlacement) {
  return {
    latitude: p.latitude,
    longitude: p.longitude,
    locationApproximate: p.approximate,
    placeId: p.placeId,
    areaId: p.areaId,
    childZonePlaceId: p.childZonePlaceId,
    childZoneMetres: p.childZoneMetres,
    childRelated: p.childRelated,
  };
}

const KEYS = ["latitude", "longitude", "approximate", "placeId", "areaId", "childZonePlaceId", "childZoneMetres", "childRelated"] as const satisfies readonly (keyof StoredPlacement)[];
const sameAs = (a: StoredPlacement, b: StoredPlacement) => KEYS.every((k) => a[k] === b[k]);

const named = (row: Named | undefined): Named | null => (row ? { nameAr: row.nameAr, nameEn: row.nameEn } : null);
