import { z } from "zod";
import { TICKET_STATUSES, type TicketStatus } from "../../conversation/types.js";
import type { Tx } from "../../db/createDb.js";
import { ticketScope, type Actor } from "../staff.js";
import { beirutInstant } from "../surveys/recurrence.js";
import { areaRecord, placeRecord, type AreaGeometry, type PlaceKind } from "./placeTypes.js";

/**
 * The GeoJSON export (RFC 7946) of requests, places and areas, for QGIS, geojson.io and the
 * town's other GIS tools. Positions are [longitude, latitude] in WGS84, rounded to 6 decimals
 * (about 11 cm). A request carries what it is, where and when — never who: no phone number, no
 * name, no description (a finance request's says an account number and an amount), nothing of an
 * account; a resident's payment report is never exported at all, even with a point.
 */

/** At most this many requests per export, the newest first. */
export const REQUEST_EXPORT_LIMIT = 10_000;

const OPEN = ["new", "waiting_staff", "in_progress"] as const;
const FINISHED: ReadonlySet<string> = new Set(["resolved", "closed"]);
// Ids are 32-bit integers in the database: PostgreSQL refuses a larger one with an error, not a miss.
const MAX_ID = 2_147_483_647;

const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const statuses = z.union([z.enum(TICKET_STATUSES), z.array(z.enum(TICKET_STATUSES))]).transform((v) => (Array.isArray(v) ? v : [v]));
const code = () => z.string().regex(/^[a-z_]+$/, "must be a code of lowercase letters and underscores");

/** A bound of the created-date range: a calendar day in Beirut, or an exact instant. */
export type DateBound = { kind: "day"; year: number; month: number; day: number } | { kind: "instant"; at: Date };

const dateBound = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: "must be a date (2026-03-14) or a date and time with its offset (2026-03-14T08:30:00Z)" }).transform(
  (value): DateBound => {
    if (value.length === 10) {
      const [year, month, day] = value.split("-").map(Number) as [number, number, number];
      return { kind: "day", year, month, day };
    }
    return { kind: "instant", at: new Date(value) };
  },
);

/**
 * The filters of GET /requests.geojson as they arrive in a query string, the map's: status,
 * category, department, child-related, area, created-date range. Unknown keys are ignored; a bad
 * value is a 400. Unlike the queue the default status is `all`: an export is the whole picture.
 */
export const RequestExportFilters = z
  .object({
    status: z.union([z.literal("open"), z.literal("all"), statuses]).default("all"),
    category: code().optional(),
    department: code().optional(),
    childRelated: flag.optional(),
    /** An area id (GET /areas.geojson). */
    area: z.coerce.number().int().positive().max(MAX_ID, "is not an area id").optional(),
    /** Created on or after (a day: from its start in Beirut). */
    from: dateBound.optional(),
    /** Created on or before (a day: until its end in Beirut). */
    to: dateBound.optional(),
    /** The language of place and area names. */
    lang: z.enum(["ar", "en"]).default("en"),
  })
  .refine((f) => !f.from || !f.to || startOf(f.from) <= endOf(f.to), { message: "must not be after `to`", path: ["from"] });
export type RequestExportFilters = z.infer<typeof RequestExportFilters>;

function startOf(bound: DateBound): Date {
  return bound.kind === "instant" ? bound.at : beirutInstant(bound.year, bound.month, bound.day, 0, 0);
}

/** The first instant after the range: the next day's start in Beirut, or just after the instant. */
function endOf(bound: DateBound): Date {
  if (bound.kind === "instant") return new Date(bound.at.getTime() + 1);
  const next = new Date(Date.UTC(bound.year, bound.month - 1, bound.day + 1));
  return beirutInstant(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), 0, 0);
}

type Position = [number, number];
interface Point {
  type: "Point";
  coordinates: Position;
}
interface Feature<G, P> {
  type: "Feature";
  id: number;
  geometry: G;
  properties: P;
}
/** An area's geometry as exported: 2D positions only. */
export type ExportedAreaGeometry = { type: "Polygon"; coordinates: Position[][] } | { type: "MultiPolygon"; coordinates: Position[][][] };

export interface FeatureCollection<G, P> {
  type: "FeatureCollection";
  features: Array<Feature<G, P>>;
}

/** Why a request is child-related; null when it is not. */
export type ChildReason =
  /** Its point is within the child zone of a child-related place (CHILD_ZONE_METRES). */
  | { kind: "zone"; place: string | null; metres: number | null }
  /** Its category is a child-related one. */
  | { kind: "category" }
  /** The resident's words were about children (or staff flagged it). */
  | { kind: "words" };

export interface RequestProperties {
  reference: number;
  category: { code: string; name_ar: string; name_en: string } | null;
  status: TicketStatus;
  child_related: boolean;
  child_reason: ChildReason | null;
  near_place: string | null;
  area: string | null;
  approximate: boolean;
  created_at: string;
  resolved_at: string | null;
}

export interface PlaceProperties {
  id: number;
  kind: PlaceKind;
  name_ar: string;
  name_en: string;
  child_related: boolean;
}

export interface AreaProperties {
  id: number;
  name_ar: string;
  name_en: string;
  child_population: number | null;
}

export interface RequestExport {
  collection: FeatureCollection<Point, RequestProperties>;
  /** Located requests matching the filters; more than the features when the limit cut the list. */
  total: number;
}

/** A coordinate rounded to 6 decimals (JSON then prints at most 6). */
export const round6 = (value: number) => Math.round(value * 1e6) / 1e6 || 0;

function whereFor(actor: Actor, f: RequestExportFilters, located = true) {
  const and: object[] = [
    ticketScope(actor),
    located ? { latitude: { not: null }, longitude: { not: null } } : { OR: [{ latitude: null }, { longitude: null }] },
    // A payment report is about an account, not a place.
    { paymentReport: { is: null } },
  ];
  if (f.status === "open") and.push({ status: { in: [...OPEN] } });
  else if (f.status !== "all") and.push({ status: { in: f.status } });
  if (f.category) and.push({ category: { code: f.category } });
  if (f.department) and.push({ department: f.department });
  if (f.childRelated !== undefined) and.push({ childRelated: f.childRelated });
  if (f.area !== undefined) and.push({ areaId: f.area });
  if (f.from) and.push({ createdAt: { gte: startOf(f.from) } });
  if (f.to) and.push({ createdAt: { lt: endOf(f.to) } });
  return { AND: and };
}

const StatusChange = z.object({ to: z.string() });

/**
 * When a resolved or closed ticket was last finished: the first move to resolved or closed since
 * it was last reopened (resolved, then closed a week later, was resolved at the first). Null for an
 * open ticket, and for a finished one whose history does not say (data loaded by hand).
 */
export function resolvedAt(status: string, events: ReadonlyArray<{ kind: string; data: string; createdAt: Date }>): Date | null {
  if (!FINISHED.has(status)) return null;
  let at: Date | null = null;
  for (const event of events) {
    if (event.kind === "reopened") at = null;
    else if (event.kind === "status_changed") {
      let to: string | undefined;
      try {
        to = StatusChange.safeParse(JSON.parse(event.data)).data?.to;
      } catch {
        // unreadable data: not a change we can place
      }
      if (to === undefined) continue;
      if (!FINISHED.has(to)) at = null;
      else at ??= event.createdAt;
    }
  }
  return at;
}

const nameIn = (lang: "ar" | "en", named: { nameAr: string; nameEn: string } | null): string | null => {
  if (!named) return null;
  const [first, second] = lang === "ar" ? [named.nameAr, named.nameEn] : [named.nameEn, named.nameAr];
  return first.trim() || second.trim() || null;
};

/**
 * How many requests the same filters select that have no point (an SMS naming no known landmark),
 * so the map can say how many it cannot show. An area filter selects located requests only: 0.
 */
export async function countUnlocated(tx: Tx, actor: Actor, filters: RequestExportFilters): Promise<number> {
  if (filters.area !== undefined) return 0;
  return tx.ticket.count({ where: whereFor(actor, filters, false) });
}

/**
 * The requests an actor may see (agents: their departments'; admins: all) that have a point,
 * filtered as on the map, newest first, at most REQUEST_EXPORT_LIMIT.
 */
export async function exportRequests(tx: Tx, actor: Actor, filters: RequestExportFilters, limit = REQUEST_EXPORT_LIMIT): Promise<RequestExport> {
  const where = whereFor(actor, filters);
  const named = { select: { nameAr: true, nameEn: true } } as const;
  // One after the other: a transaction is one connection (PostgreSQL's driver warns on overlapping queries).
  const tickets = await tx.ticket.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: limit,
      // Selected field by field: nothing about the resident or the request's text can slip in.
      select: {
        reference: true,
        status: true,
        childRelated: true,
        latitude: true,
        longitude: true,
        locationApproximate: true,
        childZoneMetres: true,
        createdAt: true,
        category: { select: { code: true, nameAr: true, nameEn: true, childRelated: true } },
        place: named,
        area: named,
        childZonePlace: named,
        events: {
          where: { kind: { in: ["status_changed", "reopened"] } },
          orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          select: { kind: true, data: true, createdAt: true },
        },
      },
  });
  const total = await tx.ticket.count({ where });
  const { lang } = filters;
  const features = tickets.flatMap((t): Array<Feature<Point, RequestProperties>> => {
    if (t.latitude === null || t.longitude === null) return [];
    const childReason: ChildReason | null = !t.childRelated
      ? null
      : t.childZonePlace
        ? { kind: "zone", place: nameIn(lang, t.childZonePlace), metres: t.childZoneMetres }
        : t.category?.childRelated
          ? { kind: "category" }
          : { kind: "words" };
    const resolved = resolvedAt(t.status, t.events);
    return [
      {
        type: "Feature",
        id: t.reference,
        geometry: { type: "Point", coordinates: [round6(t.longitude), round6(t.latitude)] },
        properties: {
          reference: t.reference,
          category: t.category ? { code: t.category.code, name_ar: t.category.nameAr, name_en: t.category.nameEn } : null,
          // Stored statuses are always known ones; an odd one reads as new rather than breaking the export.
          status: TICKET_STATUSES.find((s) => s === t.status) ?? "new",
          child_related: t.childRelated,
          child_reason: childReason,
          near_place: nameIn(lang, t.place),
          area: nameIn(lang, t.area),
          approximate: t.locationApproximate,
          created_at: t.createdAt.toISOString(),
          resolved_at: resolved ? resolved.toISOString() : null,
        },
      },
    ];
  });
  return { collection: { type: "FeatureCollection", features }, total };
}

/** The municipality's places as points. */
export async function exportPlaces(tx: Tx, municipalityId: string): Promise<FeatureCollection<Point, PlaceProperties>> {
  const rows = await tx.place.findMany({ where: { municipalityId }, orderBy: { id: "asc" } });
  return {
    type: "FeatureCollection",
    features: rows.map(placeRecord).map((p) => ({
      type: "Feature",
      id: p.id,
      geometry: { type: "Point", coordinates: [round6(p.longitude), round6(p.latitude)] },
      properties: { id: p.id, kind: p.kind, name_ar: p.nameAr, name_en: p.nameEn, child_related: p.childRelated },
    })),
  };
}

/** The municipality's areas as polygons (an area whose stored geometry cannot be read is left out). */
export async function exportAreas(tx: Tx, municipalityId: string): Promise<FeatureCollection<ExportedAreaGeometry, AreaProperties>> {
  const rows = await tx.area.findMany({ where: { municipalityId }, orderBy: { id: "asc" } });
  return {
    type: "FeatureCollection",
    features: rows.flatMap((row) => {
      const area = areaRecord(row);
      if (!area) return [];
      return [
        {
          type: "Feature" as const,
          id: area.id,
          geometry: rightHanded(area.geometry),
          properties: { id: area.id, name_ar: area.nameAr, name_en: area.nameEn, child_population: area.childPopulation },
        },
      ];
    }),
  };
}

/** Twice the signed area of a ring (shoelace): positive when counterclockwise. */
function signedArea(ring: ReadonlyArray<readonly number[]>): number {
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const [x1 = 0, y1 = 0] = ring[i]!;
    const [x2 = 0, y2 = 0] = ring[i + 1]!;
    sum += x1 * y2 - x2 * y1;
  }
  return sum;
}

/** A polygon's rings rounded to 6 decimals and wound as RFC 7946 asks: exterior counterclockwise, holes clockwise. */
function rewindPolygon(rings: ReadonlyArray<ReadonlyArray<readonly number[]>>): Position[][] {
  return rings.map((ring, index) => {
    const rounded = ring.map(([lon = 0, lat = 0]): Position => [round6(lon), round6(lat)]);
    const counterclockwise = signedArea(rounded) > 0;
    return counterclockwise === (index === 0) ? rounded : rounded.reverse();
  });
}

function rightHanded(geometry: AreaGeometry): ExportedAreaGeometry {
  return geometry.type === "Polygon"
    ? { type: "Polygon", coordinates: rewindPolygon(geometry.coordinates) }
    : { type: "MultiPolygon", coordinates: geometry.coordinates.map(rewindPolygon) };
}
