import { booleanPointInPolygon } from "@turf/boolean-point-in-polygon";
import { distance } from "@turf/distance";
import { matchPlace } from "../../understand/matchPlace.js";
import type { AreaRecord, PlaceRecord } from "./placeTypes.js";

/** A point as the conversation carries it (a WhatsApp pin). */
export interface Point {
  latitude: number;
  longitude: number;
}

/** Where a request is, as stored on its ticket. */
export interface Placement {
  latitude: number | null;
  longitude: number | null;
  /** The point is the named place's, not the resident's pin. */
  approximate: boolean;
  /** The place the resident's landmark was matched to. */
  placeId: number | null;
  /** The text that matched (a name, an alias or a generic word such as "pharmacy"). */
  matchedName: string | null;
  /** The area the point falls in. */
  areaId: number | null;
  /** The nearest child-related place within the zone, and how far it is (metres, rounded). */
  childZonePlaceId: number | null;
  childZoneMetres: number | null;
  /** The point is in a child zone: the request is child-related whatever its category. */
  childRelated: boolean;
}

export const NOWHERE: Placement = Object.freeze({
  latitude: null,
  longitude: null,
  approximate: false,
  placeId: null,
  matchedName: null,
  areaId: null,
  childZonePlaceId: null,
  childZoneMetres: null,
  childRelated: false,
});

/**
 * Where a request is: a pin is used as it is; without one, the first of `texts` (the address the
 * resident typed, then the description) that names a known place gives that place's point, marked
 * approximate. A located request gets the area it falls in (the first by id when areas overlap) and
 * the nearest child-related place within `zoneMetres` (the lowest id when two are as near), which
 * makes it child-related. Nothing to go by: no point, no area, no zone.
 */
export function locate(
  pin: Point | null,
  texts: string | readonly (string | null | undefined)[],
  places: readonly PlaceRecord[],
  areas: readonly AreaRecord[],
  zoneMetres: number,
): Placement {
  let point: Point | null = pin;
  let approximate = false;
  let placeId: number | null = null;
  let matchedName: string | null = null;
  if (!point) {
    for (const text of typeof texts === "string" ? [texts] : texts) {
      if (!text) continue;
      // A landmark is a few words: a long description is not read to its end.
      const match = matchPlace(text.slice(0, MAX_LANDMARK_TEXT), places);
      const place = match && places.find((p) => p.id === match.placeId);
      if (match && place && Number.isFinite(place.latitude) && Number.isFinite(place.longitude)) {
        point = { latitude: place.latitude, longitude: place.longitude };
        approximate = true;
        placeId = place.id;
        matchedName = match.matchedName;
        break;
      }
    }
  }
  if (!point || !Number.isFinite(point.latitude) || !Number.isFinite(point.longitude)) return { ...NOWHERE };
  const at: [number, number] = [point.longitude, point.latitude];
  // An area whose stored outline turf cannot use is skipped, never the resident's message.
  const area = [...areas].sort((a, b) => a.id - b.id).find((a) => {
    try {
      return booleanPointInPolygon(at, a.geometry);
    } catch {
      return false;
    }
  });
  const zone = nearestChildPlace(at, places, zoneMetres);
  return {
    latitude: point.latitude,
    longitude: point.longitude,
    approximate,
    placeId,
    matchedName,
    areaId: area?.id ?? null,
    childZonePlaceId: zone?.placeId ?? null,
    childZoneMetres: zone?.metres ?? null,
    childRelated: zone !== null,
  };
}

/** How much of a text is read for a landmark. */
const MAX_LANDMARK_TEXT = 300;

/** Metres between two [lon, lat] positions, rounded (turf's haversine). */
export function metresBetween(from: readonly [number, number], to: readonly [number, number]): number {
  return Math.round(distance([...from], [...to], { units: "meters" }));
}

function nearestChildPlace(at: [number, number], places: readonly PlaceRecord[], zoneMetres: number): { placeId: number; metres: number } | null {
  let nearest: { placeId: number; metres: number } | null = null;
  for (const place of places) {
    if (!place.childRelated || !Number.isFinite(place.latitude) || !Number.isFinite(place.longitude)) continue;
    const metres = metresBetween(at, [place.longitude, place.latitude]);
    if (!(metres <= zoneMetres)) continue;
    if (!nearest || metres < nearest.metres || (metres === nearest.metres && place.id < nearest.placeId)) nearest = { placeId: place.id, metres };
  }
  return nearest;
}
