import type { Tx } from "../../db/createDb.js";
import { ticketScope, type Actor } from "../staff.js";
import { beirutInstant, beirutTime } from "../surveys/recurrence.js";
import { resolvedAt } from "./geojsonExport.js";
import { metresBetween } from "./locate.js";
import { PLACE_KINDS, type PlaceKind } from "./placeTypes.js";

/**
 * The child-safety indicators of the town (issue 11), for the staff page, its CSV and
 * GET /api/v1/indicators/children:
 * - open child-related requests by area and by category;
 * - for every child-related place (school, kindergarten, childcare, playground, schoolyard, a park
 *   marked child-related), the open requests within its zone and how old the oldest one is;
 * - the median days to resolve child-related requests and all others, this month and last;
 * - child-related requests per 1,000 children in each area that has a child population.
 *
 * Every ticket count is scoped like the queue (`ticketScope`: agents see their departments'
 * requests, admins all); places and areas are the town's. Only counts, dates and the names of
 * places, areas and categories come out: never a phone number, a name or a request's words.
 */

const OPEN = ["new", "waiting_staff", "in_progress"] as const;
const FINISHED = ["resolved", "closed"] as const;
const DAY = 86_400_000;

/** Child-related requests per 1,000 children count the requests created in this many months up to now. */
export const RATE_WINDOW_MONTHS = 12;

/**
 * At most this many open located requests are read for the zones (the oldest first): far more than
 * a town's open queue, so the work stays bounded whatever the data. Beyond it `placesComplete` is
 * false and the counts are lower bounds (the oldest ages stay right).
 */
export const ZONE_TICKET_LIMIT = 20_000;

export interface NamedRef {
  id: number;
  nameAr: string;
  nameEn: string;
}

export interface CategoryRef extends NamedRef {
  code: string;
}

export interface PlaceRef extends NamedRef {
  kind: PlaceKind;
}

/** One area's open child-related requests; `area` null: requests with no area (no point, or outside every area). */
export interface AreaOpenChild {
  area: NamedRef | null;
  open: number;
  /** Most first; `category` null: requests without a category (a resident who asked for a person). */
  byCategory: Array<{ category: CategoryRef | null; open: number }>;
}

/** A child-related place and the open requests whose point is within its zone. */
export interface PlaceZone {
  place: PlaceRef;
  open: number;
  /** When the oldest of them was filed; null when there is none. */
  oldestCreatedAt: Date | null;
  /** Its age in whole days; null when there is none. */
  oldestAgeDays: number | null;
}

/** The median time from filing to resolution, in days (2 decimals), of `n` requests; null when n is 0. */
export interface Median {
  n: number;
  medianDays: number | null;
}

/** A Beirut calendar month: requests resolved from `from` (its first midnight) until `to` (exclusive). */
export interface MonthPeriod {
  year: number;
  /** 1-12. */
  month: number;
  from: Date;
  /** The next month's first midnight; for the current month, now. */
  to: Date;
}

export interface MonthResolution {
  period: MonthPeriod;
  childRelated: Median;
  others: Median;
}

/** One area's child-related requests per 1,000 children; `perThousand` null without a child population. */
export interface AreaRate {
  area: NamedRef;
  childPopulation: number | null;
  requests: number;
  /** requests / childPopulation × 1000, 2 decimals. */
  perThousand: number | null;
}

export interface ChildIndicators {
  generatedAt: Date;
  /** Whose requests are counted: all the town's (admins) or those of the actor's departments. */
  scope: { kind: "all" } | { kind: "departments"; departments: string[] };
  /** The zone radius around each child-related place (CHILD_ZONE_METRES). */
  zoneMetres: number;
  openChildRelated: { total: number; areas: AreaOpenChild[] };
  places: PlaceZone[];
  /** False when more than ZONE_TICKET_LIMIT open located requests exist (the counts are then lower bounds). */
  placesComplete: boolean;
  resolution: { thisMonth: MonthResolution; lastMonth: MonthResolution };
  rates: {
    /** Requests created from `from` (the same Beirut date 12 months ago, midnight) until `to` (now). */
    from: Date;
    to: Date;
    areas: AreaRate[];
    /** Child-related requests of the window with no area: in no area's rate. */
    withoutArea: number;
  };
}

export interface ChildIndicatorOptions {
  now: Date;
  /** CHILD_ZONE_METRES. */
  zoneMetres: number;
}

/**
 * The indicators as the actor may see them, computed at `now` (months are Beirut calendar months).
 * A fixed number of queries whatever the number of places, areas and requests (counts are grouped
 * by the database), run one after the other (one transaction is one connection); the zone
 * distances are computed in memory over the open located requests near the places.
 *
 * "Within its zone" is geometric: an open request whose point is at most `zoneMetres` from the
 * place (rounded metres, as when a request is filed), whatever place the request was attributed to
 * when it was filed. So a request counts for every place whose zone it is in, one filed before the
 * place was added or the radius changed is counted too, and a request without a point is in no zone.
 * A resident's payment report is never in a zone (it is about an account, not a place).
 */
export async function childIndicators(tx: Tx, actor: Actor, options: ChildIndicatorOptions): Promise<ChildIndicators> {
  const { now, zoneMetres } = options;
  const municipalityId = actor.municipalityId;
  const scope = ticketScope(actor);
  const local = beirutTime(now);
  const thisMonth = monthPeriod(local.year, local.month, now);
  const last = shiftMonth(local.year, local.month, -1);
  const lastMonth = monthPeriod(last.year, last.month, now);
  const ratesFrom = sameDayMonthsBefore(local, RATE_WINDOW_MONTHS);

  const areas = await tx.area.findMany({ where: { municipalityId }, orderBy: { id: "asc" }, select: { id: true, nameAr: true, nameEn: true, childPopulation: true } });
  const categories = await tx.category.findMany({ where: { municipalityId }, select: { id: true, code: true, nameAr: true, nameEn: true } });
  const placeRows = await tx.place.findMany({
    where: { municipalityId, childRelated: true },
    orderBy: { id: "asc" },
    select: { id: true, kind: true, nameAr: true, nameEn: true, latitude: true, longitude: true },
  });

  const openGroups = await tx.ticket.groupBy({
    by: ["areaId", "categoryId"],
    // A payment report is about an account, not a place or a child: never counted here.
    where: { AND: [scope, { status: { in: [...OPEN] } }, { childRelated: true }, { paymentReport: { is: null } }] },
    _count: { _all: true },
  });

  const places = placeRows.filter((p) => Number.isFinite(p.latitude) && Number.isFinite(p.longitude));
  const box = boundingBox(places, zoneMetres);
  const located = box
    ? await tx.ticket.findMany({
        where: {
          AND: [
            scope,
            { status: { in: [...OPEN] } },
            { latitude: { gte: box.south, lte: box.north } },
            { longitude: { gte: box.west, lte: box.east } },
            { paymentReport: { is: null } },
          ],
        },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        take: ZONE_TICKET_LIMIT + 1,
        // Where and when only: nothing about the resident or the request's words.
        select: { latitude: true, longitude: true, createdAt: true },
      })
    : [];

  const resolved = await tx.ticket.findMany({
    where: {
      AND: [
        scope,
        { status: { in: [...FINISHED] } },
        // Settled payment reports close within hours: they would swamp "all other requests".
        { paymentReport: { is: null } },
        // A superset: the resolution instant is one of these status changes (see resolvedAt).
        { events: { some: { kind: "status_changed", createdAt: { gte: lastMonth.from, lt: thisMonth.to } } } },
      ],
    },
    select: {
      status: true,
      childRelated: true,
      createdAt: true,
      events: { where: { kind: { in: ["status_changed", "reopened"] } }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: { kind: true, data: true, createdAt: true } },
    },
  });

  const rateGroups = await tx.ticket.groupBy({
    by: ["areaId"],
    where: { AND: [scope, { childRelated: true }, { createdAt: { gte: ratesFrom, lte: now } }, { paymentReport: { is: null } }] },
    _count: { _all: true },
  });

  return {
    generatedAt: now,
    scope: actor.role === "admin" ? { kind: "all" } : { kind: "departments", departments: [...actor.departments].sort() },
    zoneMetres,
    openChildRelated: openByArea(openGroups, areas, categories),
    ...zones(places, located, zoneMetres, now),
    resolution: {
      thisMonth: resolution(thisMonth, resolved),
      lastMonth: resolution(lastMonth, resolved),
    },
    rates: rates(rateGroups, areas, ratesFrom, now),
  };
}

// ─── Periods ────────────────────────────────────────────────────────────────────────────────

function shiftMonth(year: number, month: number, by: number): { year: number; month: number } {
  const index = year * 12 + (month - 1) + by;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

/** A Beirut calendar month, ending at now when it is the current one. */
function monthPeriod(year: number, month: number, now: Date): MonthPeriod {
  const next = shiftMonth(year, month, 1);
  const end = beirutInstant(next.year, next.month, 1, 0, 0);
  return { year, month, from: beirutInstant(year, month, 1, 0, 0), to: end.getTime() > now.getTime() ? now : end };
}

/** Midnight in Beirut of the same calendar date `months` earlier (29 February → 1 March). */
function sameDayMonthsBefore(local: { year: number; month: number; day: number }, months: number): Date {
  const start = shiftMonth(local.year, local.month, -months);
  const day = new Date(Date.UTC(start.year, start.month - 1, local.day));
  return beirutInstant(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), 0, 0);
}

// ─── Open child-related requests by area and category ──────────────────────────────────────

type Grouped<K extends string> = { [key in K]: number | null } & { _count: { _all: number } };

function openByArea(
  groups: ReadonlyArray<Grouped<"areaId" | "categoryId">>,
  areas: ReadonlyArray<NamedRef>,
  categories: ReadonlyArray<CategoryRef>,
): ChildIndicators["openChildRelated"] {
  const categoryById = new Map(categories.map((c) => [c.id, { id: c.id, code: c.code, nameAr: c.nameAr, nameEn: c.nameEn }]));
  const known = new Set(areas.map((a) => a.id));
  const byArea = new Map<number | null, Map<number | null, number>>();
  for (const group of groups) {
    // An area removed since (the ticket's areaId is then null anyway) counts as none.
    const areaId = group.areaId !== null && known.has(group.areaId) ? group.areaId : null;
    const categoryId = group.categoryId !== null && categoryById.has(group.categoryId) ? group.categoryId : null;
    const counts = byArea.get(areaId) ?? new Map<number | null, number>();
    counts.set(categoryId, (counts.get(categoryId) ?? 0) + group._count._all);
    byArea.set(areaId, counts);
  }
  const row = (area: NamedRef | null, counts: Map<number | null, number> | undefined): AreaOpenChild => {
    const byCategory = [...(counts ?? new Map<number | null, number>())]
      .map(([id, open]) => ({ category: id === null ? null : (categoryById.get(id) ?? null), open }))
      .sort((a, b) => b.open - a.open || (a.category === null ? 1 : b.category === null ? -1 : a.category.code.localeCompare(b.category.code)));
    return { area, open: byCategory.reduce((sum, c) => sum + c.open, 0), byCategory };
  };
  // Every area, even with none open (a zero is news too), the most first; requests with no area last.
  const rows = [...areas]
    .map((a) => row({ id: a.id, nameAr: a.nameAr, nameEn: a.nameEn }, byArea.get(a.id)))
    .sort((a, b) => b.open - a.open || (a.area?.id ?? 0) - (b.area?.id ?? 0));
  const unplaced = row(null, byArea.get(null));
  if (unplaced.open > 0) rows.push(unplaced);
  return { total: rows.reduce((sum, r) => sum + r.open, 0), areas: rows };
}

// ─── Child zones ────────────────────────────────────────────────────────────────────────────

interface Box {
  south: number;
  north: number;
  west: number;
  east: number;
}

const METRES_PER_DEGREE = 111_320;

/** A box around one point that holds every point within `metres` of it (with a margin). */
function boxAround(latitude: number, longitude: number, metres: number): Box {
  const margin = (metres + 10) * 1.01;
  const dLat = margin / METRES_PER_DEGREE;
  const dLon = margin / (METRES_PER_DEGREE * Math.max(Math.cos((latitude * Math.PI) / 180), 0.01));
  return { south: latitude - dLat, north: latitude + dLat, west: longitude - dLon, east: longitude + dLon };
}

/** The box holding every place's zone: only requests inside it are read. Null without places. */
function boundingBox(places: ReadonlyArray<{ latitude: number; longitude: number }>, metres: number): Box | null {
  if (places.length === 0) return null;
  const boxes = places.map((p) => boxAround(p.latitude, p.longitude, metres));
  return {
    south: Math.min(...boxes.map((b) => b.south)),
    north: Math.max(...boxes.map((b) => b.north)),
    west: Math.min(...boxes.map((b) => b.west)),
    east: Math.max(...boxes.map((b) => b.east)),
  };
}

const inBox = (box: Box, latitude: number, longitude: number) => latitude >= box.south && latitude <= box.north && longitude >= box.west && longitude <= box.east;

function zones(
  places: ReadonlyArray<NamedRef & { kind: string; latitude: number; longitude: number }>,
  located: ReadonlyArray<{ latitude: number | null; longitude: number | null; createdAt: Date }>,
  zoneMetres: number,
  now: Date,
): { places: PlaceZone[]; placesComplete: boolean } {
  const tickets = located.slice(0, ZONE_TICKET_LIMIT);
  const rows = places.map((place): PlaceZone => {
    const box = boxAround(place.latitude, place.longitude, zoneMetres);
    let open = 0;
    let oldest: Date | null = null;
    for (const t of tickets) {
      if (t.latitude === null || t.longitude === null || !inBox(box, t.latitude, t.longitude)) continue;
      if (metresBetween([t.longitude, t.latitude], [place.longitude, place.latitude]) > zoneMetres) continue;
      open++;
      if (!oldest || t.createdAt < oldest) oldest = t.createdAt;
    }
    return {
      place: { id: place.id, kind: PLACE_KINDS.find((k) => k === place.kind) ?? "landmark", nameAr: place.nameAr, nameEn: place.nameEn },
      open,
      oldestCreatedAt: oldest,
      oldestAgeDays: oldest ? Math.max(0, Math.floor((now.getTime() - oldest.getTime()) / DAY)) : null,
    };
  });
  // The places needing attention first: most open requests, then the one waiting longest.
  const waitingSince = (zone: PlaceZone) => zone.oldestCreatedAt?.getTime() ?? Number.MAX_SAFE_INTEGER;
  rows.sort((a, b) => b.open - a.open || waitingSince(a) - waitingSince(b) || a.place.id - b.place.id);
  return { places: rows, placesComplete: located.length <= ZONE_TICKET_LIMIT };
}

// ─── Days to resolve ────────────────────────────────────────────────────────────────────────

type Finished = { status: string; childRelated: boolean; createdAt: Date; events: ReadonlyArray<{ kind: string; data: string; createdAt: Date }> };

function resolution(period: MonthPeriod, tickets: ReadonlyArray<Finished>): MonthResolution {
  const child: number[] = [];
  const others: number[] = [];
  for (const t of tickets) {
    const at = resolvedAt(t.status, t.events);
    if (!at || at < period.from || at >= period.to) continue;
    (t.childRelated ? child : others).push(Math.max(0, at.getTime() - t.createdAt.getTime()) / DAY);
  }
  return { period, childRelated: median(child), others: median(others) };
}

/** The middle value (the mean of the two middle ones for an even count), 2 decimals. */
export function median(values: readonly number[]): Median {
  if (values.length === 0) return { n: 0, medianDays: null };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { n: sorted.length, medianDays: round2(value) };
}

const round2 = (value: number) => Math.round(value * 100) / 100;

// ─── Per 1,000 children ─────────────────────────────────────────────────────────────────────

function rates(
  groups: ReadonlyArray<Grouped<"areaId">>,
  areas: ReadonlyArray<NamedRef & { childPopulation: number | null }>,
  from: Date,
  to: Date,
): ChildIndicators["rates"] {
  const counts = new Map<number | null, number>(groups.map((g) => [g.areaId, g._count._all]));
  const rows = areas.map((a): AreaRate => {
    const requests = counts.get(a.id) ?? 0;
    // Zero children entered is "not known" too: no rate can be divided by it.
    const population = a.childPopulation !== null && a.childPopulation > 0 ? a.childPopulation : null;
    return {
      area: { id: a.id, nameAr: a.nameAr, nameEn: a.nameEn },
      childPopulation: a.childPopulation,
      requests,
      perThousand: population === null ? null : round2((requests / population) * 1000),
    };
  });
  // The highest rate first; areas without a population after them, in their own order.
  rows.sort((a, b) => (b.perThousand ?? -1) - (a.perThousand ?? -1) || a.area.id - b.area.id);
  const known = new Set(areas.map((a) => a.id));
  const withoutArea = groups.filter((g) => g.areaId === null || !known.has(g.areaId)).reduce((sum, g) => sum + g._count._all, 0);
  return { from, to, areas: rows, withoutArea };
}
