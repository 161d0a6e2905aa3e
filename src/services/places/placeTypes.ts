import { z } from "zod";

/**
 * Places and areas: the town's named points (schools, playgrounds, landmarks residents give
 * directions by) and its neighbourhoods. Shared by the import, the admin pages, the geocoding of
 * requests and the GeoJSON export.
 */

export const PLACE_KINDS = ["school", "kindergarten", "childcare", "playground", "park", "schoolyard", "clinic", "place_of_worship", "pharmacy", "landmark"] as const;
export type PlaceKind = (typeof PLACE_KINDS)[number];

/** Kinds that are child-related unless an admin says otherwise. */
export const CHILD_KINDS: ReadonlySet<PlaceKind> = new Set(["school", "kindergarten", "childcare", "playground", "park", "schoolyard"]);

/** The default radius of a child zone around a child-related place (CHILD_ZONE_METRES). */
export const DEFAULT_CHILD_ZONE_METRES = 150;

export interface PlaceRecord {
  id: number;
  municipalityId: string;
  kind: PlaceKind;
  nameAr: string;
  nameEn: string;
  /** Other names residents use (spellings, Arabizi, "المدرسة الرسمية"). */
  aliases: string[];
  childRelated: boolean;
  latitude: number;
  longitude: number;
  source: string;
  externalId: string | null;
}

const Position = z.tuple([z.number(), z.number()]).rest(z.number());
const Ring = z
  .array(Position)
  .min(4)
  // Closed, as RFC 7946 wants (turf refuses an open ring): a stored area that is not is ignored.
  .refine((ring) => ring[0]![0] === ring.at(-1)![0] && ring[0]![1] === ring.at(-1)![1], "ring_not_closed")
  .refine((ring) => ring.every((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])), "not_finite");
/** GeoJSON Polygon or MultiPolygon, [lon, lat] (RFC 7946). */
export const AreaGeometrySchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("Polygon"), coordinates: z.array(Ring).min(1) }),
  z.object({ type: z.literal("MultiPolygon"), coordinates: z.array(z.array(Ring).min(1)).min(1) }),
]);
export type AreaGeometry = z.infer<typeof AreaGeometrySchema>;

export interface AreaRecord {
  id: number;
  municipalityId: string;
  nameAr: string;
  nameEn: string;
  geometry: AreaGeometry;
  childPopulation: number | null;
  source: string;
  externalId: string | null;
}

const isKind = (kind: string): kind is PlaceKind => (PLACE_KINDS as readonly string[]).includes(kind);

/** A stored Place row, parsed (an unknown kind reads as a landmark; unreadable aliases as none). */
export function placeRecord(row: {
  id: number;
  municipalityId: string;
  kind: string;
  nameAr: string;
  nameEn: string;
  aliases: string;
  childRelated: boolean;
  latitude: number;
  longitude: number;
  source: string;
  externalId: string | null;
}): PlaceRecord {
  let aliases: string[] = [];
  try {
    const parsed = z.array(z.string()).safeParse(JSON.parse(row.aliases));
    if (parsed.success) aliases = parsed.data;
  } catch {
    // stored by hand: no aliases
  }
  return { ...row, kind: isKind(row.kind) ? row.kind : "landmark", aliases };
}

/** A stored Area row, parsed; null when its geometry cannot be read (it is then ignored, not fatal). */
export function areaRecord(row: {
  id: number;
  municipalityId: string;
  nameAr: string;
  nameEn: string;
  geometry: string;
  childPopulation: number | null;
  source: string;
  externalId: string | null;
}): AreaRecord | null {
  try {
    const geometry = AreaGeometrySchema.safeParse(JSON.parse(row.geometry));
    return geometry.success ? { ...row, geometry: geometry.data } : null;
  } catch {
    return null;
  }
}
