import { centroid } from "@turf/centroid";
import type { Db } from "../../db/createDb.js";
import { notifyPlacesChanged } from "./places.js";
import { CHILD_KINDS, PLACE_KINDS, type AreaGeometry, type PlaceKind, type PlaceRecord } from "./placeTypes.js";

/**
 * GeoJSON imports of places (points; polygons reduced to their centroid) and areas (polygons), all
 * or nothing. Files are checked against RFC 7946 (a FeatureCollection, WGS84 `[lon, lat]`) and
 * against a box around Lebanon, so a file with latitude and longitude swapped is refused with its
 * feature number instead of putting the town in the sea. An OpenStreetMap export (overpass turbo or
 * osmtogeojson: `amenity`, `leisure`, `name`, `name:ar`, `name:en`, `alt_name`, `@id`) imports as it is.
 */

export type ImportLayer = "places" | "areas";

/** The largest file accepted, in bytes (the admin upload refuses bigger ones before reading them). */
export const MAX_GEOJSON_BYTES = 5 * 1024 * 1024;
export const MAX_GEOJSON_FEATURES = 5_000;
/** At most this many errors are listed (errorCount says how many there were). */
export const MAX_LISTED_ERRORS = 200;
const MAX_NAME = 200;
const MAX_ALIASES = 50;

/** Every imported point must fall inside this box around Lebanon (WGS84). */
export const LEBANON_BBOX = { minLon: 35.0, maxLon: 36.7, minLat: 33.0, maxLat: 34.8 } as const;

export const insideLebanon = (lon: number, lat: number) =>
  lon >= LEBANON_BBOX.minLon && lon <= LEBANON_BBOX.maxLon && lat >= LEBANON_BBOX.minLat && lat <= LEBANON_BBOX.maxLat;

export type GeoJsonErrorKey =
  | "tooLarge"
  | "notJson"
  | "notJsonAt"
  | "notFeatureCollection"
  | "crs"
  | "noFeatures"
  | "tooManyFeatures"
  | "notFeature"
  | "noGeometry"
  | "wrongGeometry"
  | "badPosition"
  | "outOfRange"
  | "ringTooShort"
  | "ringNotClosed"
  | "swapped"
  | "outsideLebanon"
  | "noName"
  | "badName"
  | "duplicateId"
  | "badChildPopulation";

/** One problem: `feature` is the feature's number in the file (1-based), 0 for the whole file. */
export interface GeoJsonError {
  feature: number;
  key: GeoJsonErrorKey;
  params: Record<string, string | number>;
  /** The same in English (logs, the CLI, tests); the staff pages translate `key`. */
  message: string;
  /** Technical text behind the problem, as written (the JSON parser's message), for a "Details" toggle. */
  detail?: string;
}

export type GeoJsonImportResult =
  | { ok: true; created: number; updated: number; skipped: number }
  | { ok: false; errors: GeoJsonError[]; errorCount: number };

const ENGLISH: Record<GeoJsonErrorKey, string> = {
  tooLarge: "the file is larger than {{mb}} MB",
  notJson: "the file is not JSON",
  notJsonAt: "the file is not JSON (line {{line}}, column {{column}})",
  notFeatureCollection: "the file is not a GeoJSON FeatureCollection",
  crs: "the file declares a coordinate system other than WGS84 (RFC 7946 GeoJSON is always longitude, latitude in WGS84)",
  noFeatures: "the file has no features",
  tooManyFeatures: "the file has {{count}} features; at most {{max}} are imported at once",
  notFeature: "is not a GeoJSON Feature",
  noGeometry: "has no geometry",
  wrongGeometry: "is a {{type}}; this layer takes {{expected}}",
  badPosition: "has a position that is not [longitude, latitude] numbers",
  outOfRange: "has a position out of range ({{lon}}, {{lat}}): longitude must be -180 to 180 and latitude -90 to 90",
  ringTooShort: "polygon ring {{ring}} has fewer than 4 positions",
  ringNotClosed: "polygon ring {{ring}} is not closed (its last position must repeat its first)",
  swapped: "latitude and longitude look swapped (GeoJSON is [longitude, latitude])",
  outsideLebanon: "is outside Lebanon ({{lon}}, {{lat}})",
  noName: "has no name (name, name:ar or name:en)",
  badName: "has a name that is too long or holds control characters",
  duplicateId: "has the id {{id}}, already used by feature {{other}}",
  badChildPopulation: "child_population must be a whole number of 0 or more",
};

function englishOf(feature: number, key: GeoJsonErrorKey, params: Record<string, string | number>): string {
  const text = ENGLISH[key].replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(params[name] ?? ""));
  return feature > 0 ? `feature ${feature}: ${text}` : text;
}

function error(feature: number, key: GeoJsonErrorKey, params: Record<string, string | number> = {}, detail?: string): GeoJsonError {
  return { feature, key, params, message: englishOf(feature, key, params), ...(detail ? { detail } : {}) };
}

/** A place as a file describes it (the import adds the municipality and the source). */
type PlaceData = Omit<PlaceRecord, "id" | "municipalityId" | "source">;
interface AreaData {
  nameAr: string;
  nameEn: string;
  geometry: AreaGeometry;
  childPopulation: number | null | undefined;
  externalId: string | null;
}

const OSM_AMENITY: Record<string, PlaceKind> = {
  school: "school",
  kindergarten: "kindergarten",
  childcare: "childcare",
  clinic: "clinic",
  place_of_worship: "place_of_worship",
  pharmacy: "pharmacy",
};
const OSM_LEISURE: Record<string, PlaceKind> = { playground: "playground", park: "park", schoolyard: "schoolyard" };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Imports a GeoJSON file into one layer of a municipality, in one transaction: every feature is
 * written, or (with the numbered errors) none. A feature with an id (`@id`, `id`: OpenStreetMap's
 * "node/123") updates the place or area imported with that id before; one without an id updates
 * the one with the same names that has no id. Places changed listeners are told afterwards.
 */
export async function importGeoJson(
  db: Db,
  municipalityId: string,
  kind: ImportLayer,
  text: string,
  now: Date,
  options: { source?: string } = {},
): Promise<GeoJsonImportResult> {
  const checked = checkGeoJson(kind, text);
  if (!checked.ok) return checked;
  const source = options.source ?? "import";
  const counts = await db.$transaction(
    async (tx) => {
      let created = 0;
      let updated = 0;
      if (kind === "places") {
        const existing = await tx.place.findMany({ where: { municipalityId }, select: { id: true, externalId: true, nameAr: true, nameEn: true } });
        const byId = new Map(existing.filter((p) => p.externalId !== null).map((p) => [p.externalId, p.id]));
        const byName = new Map(existing.filter((p) => p.externalId === null).map((p) => [`${p.nameAr}\n${p.nameEn}`, p.id]));
        for (const place of checked.places) {
          const data = { ...place, aliases: JSON.stringify(place.aliases), source, updatedAt: now };
          const id = place.externalId !== null ? byId.get(place.externalId) : byName.get(`${place.nameAr}\n${place.nameEn}`);
          if (id !== undefined) {
            await tx.place.update({ where: { id }, data });
            updated++;
          } else {
            const row = await tx.place.create({ data: { ...data, municipalityId, createdAt: now } });
            if (place.externalId === null) byName.set(`${place.nameAr}\n${place.nameEn}`, row.id);
            created++;
          }
        }
      } else {
        const existing = await tx.area.findMany({ where: { municipalityId }, select: { id: true, externalId: true, nameAr: true, nameEn: true } });
        const byId = new Map(existing.filter((a) => a.externalId !== null).map((a) => [a.externalId, a.id]));
        const byName = new Map(existing.filter((a) => a.externalId === null).map((a) => [`${a.nameAr}\n${a.nameEn}`, a.id]));
        for (const area of checked.areas) {
          const { childPopulation, ...rest } = area;
          // The child population is the admin's: a file only changes it when it carries one.
          const data = { ...rest, geometry: JSON.stringify(area.geometry), source, updatedAt: now, ...(childPopulation !== undefined ? { childPopulation } : {}) };
          const id = area.externalId !== null ? byId.get(area.externalId) : byName.get(`${area.nameAr}\n${area.nameEn}`);
          if (id !== undefined) {
            await tx.area.update({ where: { id }, data });
            updated++;
          } else {
            const row = await tx.area.create({ data: { ...data, municipalityId, createdAt: now } });
            if (area.externalId === null) byName.set(`${area.nameAr}\n${area.nameEn}`, row.id);
            created++;
          }
        }
      }
      return { created, updated };
    },
    { maxWait: 30_000, timeout: 5 * 60_000 },
  );
  notifyPlacesChanged(municipalityId);
  return { ok: true, ...counts, skipped: checked.skipped };
}

type Checked = { ok: true; places: PlaceData[]; areas: AreaData[]; skipped: number } | { ok: false; errors: GeoJsonError[]; errorCount: number };

/** Checks a file for one layer without writing anything: the records to write, or every problem. */
export function checkGeoJson(kind: ImportLayer, text: string): Checked {
  const fail = (errors: GeoJsonError[]): Checked => ({ ok: false, errors: errors.slice(0, MAX_LISTED_ERRORS), errorCount: errors.length });
  if (Buffer.byteLength(text, "utf8") > MAX_GEOJSON_BYTES) return fail([error(0, "tooLarge", { mb: MAX_GEOJSON_BYTES / 2 ** 20 })]);
  let root: unknown;
  try {
    root = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    const detail = (e instanceof Error ? e.message : String(e)).slice(0, 300);
    const at = jsonErrorAt(text, detail);
    return fail([at ? error(0, "notJsonAt", at, detail) : error(0, "notJson", {}, detail)]);
  }
  if (!isObject(root) || root.type !== "FeatureCollection" || !Array.isArray(root.features)) return fail([error(0, "notFeatureCollection")]);
  if (root.crs !== undefined && root.crs !== null && !/CRS84|EPSG:+4326/i.test(JSON.stringify(root.crs))) return fail([error(0, "crs")]);
  const features: unknown[] = root.features;
  if (features.length === 0) return fail([error(0, "noFeatures")]);
  if (features.length > MAX_GEOJSON_FEATURES) return fail([error(0, "tooManyFeatures", { count: features.length, max: MAX_GEOJSON_FEATURES })]);

  const errors: GeoJsonError[] = [];
  const places: PlaceData[] = [];
  const areas: AreaData[] = [];
  const seenIds = new Map<string, number>();
  let skipped = 0;
  features.forEach((feature, index) => {
    const n = index + 1;
    const problems: GeoJsonError[] = [];
    if (!isObject(feature) || feature.type !== "Feature") {
      errors.push(error(n, "notFeature"));
      return;
    }
    const props = propertiesOf(feature);
    const geometry = feature.geometry;
    if (!isObject(geometry) || typeof geometry.type !== "string") {
      errors.push(error(n, "noGeometry"));
      return;
    }
    const allowed = kind === "places" ? ["Point", "Polygon", "MultiPolygon"] : ["Polygon", "MultiPolygon"];
    if (!allowed.includes(geometry.type)) {
      errors.push(error(n, "wrongGeometry", { type: geometry.type, expected: allowed.join(", ") }));
      return;
    }
    const positions = checkGeometry(n, geometry.type, geometry.coordinates, problems);
    if (problems.length === 0 && positions.length > 0) {
      const outside = positions.find(([lon, lat]) => !insideLebanon(lon, lat));
      if (outside) {
        const swapped = positions.every(([lon, lat]) => insideLebanon(lat, lon));
        problems.push(swapped ? error(n, "swapped") : error(n, "outsideLebanon", { lon: outside[0], lat: outside[1] }));
      }
    }
    const placeKind = kind === "places" ? kindOf(props) : null;
    // An OpenStreetMap feature of a kind the town does not track (the town itself as `place=town`, an
    // administrative boundary, a road) is left out: imported as a landmark, "قب الياس" would become a
    // place every message names.
    if (kind === "places" && placeKind === null && isOtherOsmFeature(feature, props) && problems.length === 0) {
      skipped++;
      return;
    }
    const names = namesOf(props);
    if (names === "bad") problems.push(error(n, "badName"));
    else if (names === null) {
      // An unnamed feature of no kind we know (a bench in an OpenStreetMap export) is left out.
      if (placeKind === null && kind === "places" && problems.length === 0) {
        skipped++;
        return;
      }
      problems.push(error(n, "noName"));
    }
    const externalId = externalIdOf(feature, props);
    if (externalId !== null) {
      const other = seenIds.get(externalId);
      if (other !== undefined) problems.push(error(n, "duplicateId", { id: externalId, other }));
      else seenIds.set(externalId, n);
    }
    let childPopulation: number | null | undefined;
    if (kind === "areas") {
      const raw = props.child_population ?? props.childPopulation;
      if (raw !== undefined && raw !== null && raw !== "") {
        const value = typeof raw === "string" ? Number(raw.trim()) : raw;
        if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 10_000_000) problems.push(error(n, "badChildPopulation"));
        else childPopulation = value;
      }
    }
    if (problems.length > 0 || names === null || names === "bad") {
      errors.push(...problems);
      return;
    }
    if (kind === "places") {
      const place = placeKind ?? "landmark";
      const [longitude, latitude] =
        geometry.type === "Point" ? (geometry.coordinates as number[]) : centroid(geometry as unknown as Parameters<typeof centroid>[0]).geometry.coordinates;
      const explicitChild = typeof props.child_related === "boolean" ? props.child_related : typeof props.childRelated === "boolean" ? props.childRelated : null;
      places.push({
        kind: place,
        ...names,
        aliases: aliasesOf(props, names),
        childRelated: explicitChild ?? CHILD_KINDS.has(place),
        latitude: round7(latitude!),
        longitude: round7(longitude!),
        externalId,
      });
    } else {
      areas.push({ ...names, geometry: geometry as unknown as AreaGeometry, childPopulation, externalId });
    }
  });
  if (errors.length > 0) return fail(errors);
  return { ok: true, places, areas, skipped };
}

const round7 = (x: number) => Math.round(x * 1e7) / 1e7;

/** Where the JSON parser stopped, from its message ("… at position 42", or "line 3 column 5"); null when it does not say. */
function jsonErrorAt(text: string, message: string): { line: number; column: number } | null {
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const position = /position (\d+)/.exec(message);
  if (!position) return null;
  // The position counts from the start of the text as parsed, after the byte-order mark.
  const before = text.replace(/^\uFEFF/, "").slice(0, Number(position[1]));
  const lines = before.split("\n");
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

/** A feature's properties, with osmtogeojson's `tags` folded in. */
function propertiesOf(feature: Json): Json {
  const props = isObject(feature.properties) ? feature.properties : {};
  return isObject(props.tags) ? { ...props.tags, ...props } : props;
}

/** Checks the coordinates of a geometry; returns its positions as [lon, lat] (empty when broken). */
function checkGeometry(n: number, type: string, coordinates: unknown, problems: GeoJsonError[]): [number, number][] {
  const positions: [number, number][] = [];
  const position = (p: unknown): boolean => {
    if (!Array.isArray(p) || p.length < 2 || p.length > 3 || !p.every((x) => typeof x === "number" && Number.isFinite(x))) {
      problems.push(error(n, "badPosition"));
      return false;
    }
    const [lon, lat] = p as number[];
    if (lon! < -180 || lon! > 180 || lat! < -90 || lat! > 90) {
      problems.push(error(n, "outOfRange", { lon: lon!, lat: lat! }));
      return false;
    }
    positions.push([lon!, lat!]);
    return true;
  };
  let ringNumber = 0;
  const polygon = (rings: unknown): boolean => {
    if (!Array.isArray(rings) || rings.length === 0) {
      problems.push(error(n, "badPosition"));
      return false;
    }
    for (const ring of rings) {
      ringNumber++;
      if (!Array.isArray(ring)) {
        problems.push(error(n, "badPosition"));
        return false;
      }
      for (const p of ring) if (!position(p)) return false;
      if (ring.length < 4) {
        problems.push(error(n, "ringTooShort", { ring: ringNumber }));
        return false;
      }
      const first = ring[0] as number[];
      const last = ring[ring.length - 1] as number[];
      if (first[0] !== last[0] || first[1] !== last[1]) {
        problems.push(error(n, "ringNotClosed", { ring: ringNumber }));
        return false;
      }
    }
    return true;
  };
  let ok: boolean;
  if (type === "Point") ok = position(coordinates);
  else if (type === "Polygon") ok = polygon(coordinates);
  else if (!Array.isArray(coordinates) || coordinates.length === 0) {
    problems.push(error(n, "badPosition"));
    ok = false;
  } else ok = coordinates.every((p) => polygon(p));
  return ok ? positions : [];
}

function kindOf(props: Json): PlaceKind | null {
  const own = props.kind;
  if (typeof own === "string" && (PLACE_KINDS as readonly string[]).includes(own)) return own as PlaceKind;
  const amenity = typeof props.amenity === "string" ? OSM_AMENITY[props.amenity] : undefined;
  if (amenity) return amenity;
  const leisure = typeof props.leisure === "string" ? OSM_LEISURE[props.leisure] : undefined;
  return leisure ?? null;
}

const CONTROL = /[\p{Cc}\u200B-\u200F\u202A-\u202E\u2066-\u2069]/u;

/** A property as a clean name: trimmed, whitespace collapsed; undefined when absent or blank; "bad" when unusable. */
function nameValue(value: unknown): string | undefined | "bad" {
  if (typeof value !== "string") return undefined;
  const clean = value.replace(/[\t\r\n]+/g, " ").trim().replace(/\s+/g, " ");
  if (clean === "") return undefined;
  if (clean.length > MAX_NAME || CONTROL.test(clean)) return "bad";
  return clean;
}

function namesOf(props: Json): { nameAr: string; nameEn: string } | null | "bad" {
  const pick = (...keys: string[]) => {
    for (const key of keys) {
      const v = nameValue(props[key]);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const ar = pick("name:ar", "name_ar", "nameAr");
  const en = pick("name:en", "name_en", "nameEn");
  const plain = pick("name");
  if (ar === "bad" || en === "bad" || plain === "bad") return "bad";
  const nameAr = ar ?? plain ?? en;
  const nameEn = en ?? plain ?? ar;
  if (nameAr === undefined || nameEn === undefined) return null;
  return { nameAr, nameEn };
}

function aliasesOf(props: Json, names: { nameAr: string; nameEn: string }): string[] {
  const found: string[] = [];
  for (const key of ["name", "alt_name", "alt_name:ar", "alt_name:en", "loc_name", "short_name", "official_name", "old_name"]) {
    const value = props[key];
    if (typeof value === "string") found.push(...value.split(";"));
  }
  if (Array.isArray(props.aliases)) found.push(...props.aliases.filter((a): a is string => typeof a === "string"));
  const seen = new Set([names.nameAr, names.nameEn]);
  const aliases: string[] = [];
  for (const raw of found) {
    const alias = nameValue(raw);
    if (alias === undefined || alias === "bad" || seen.has(alias)) continue;
    seen.add(alias);
    aliases.push(alias);
  }
  return aliases.slice(0, MAX_ALIASES);
}

function externalIdOf(feature: Json, props: Json): string | null {
  for (const value of [props["@id"], props.id, feature.id]) {
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    if (typeof value === "string" && value.trim() !== "" && value.length <= 200 && !CONTROL.test(value)) return value.trim();
  }
  return null;
}

/**
 * OpenStreetMap features that are not places residents give directions by: settlements and
 * districts (`place=town`… but not `place=square`), boundaries, roads, rivers, land use. Named, they
 * would make the town's own name a landmark every message matches.
 */
const SETTLEMENTS = new Set(["country", "state", "region", "province", "district", "county", "municipality", "city", "town", "village", "hamlet", "suburb", "quarter", "neighbourhood", "locality", "isolated_dwelling", "farm", "borough"]);
const OTHER_OSM_TAGS = ["boundary", "admin_level", "highway", "railway", "waterway", "landuse", "natural", "route"];

function isOtherOsmFeature(_feature: unknown, props: Record<string, unknown>): boolean {
  const tags = typeof props.tags === "object" && props.tags !== null ? (props.tags as Record<string, unknown>) : props;
  if (typeof tags.place === "string" && SETTLEMENTS.has(tags.place)) return true;
  return OTHER_OSM_TAGS.some((tag) => tags[tag] !== undefined);
}
