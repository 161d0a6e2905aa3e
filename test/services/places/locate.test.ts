import { distance } from "@turf/distance";
import { describe, expect, it } from "vitest";
import { locate, metresBetween, NOWHERE } from "../../../src/services/places/locate.js";
import { PlaceCache, type PlaceSet, type PlaceSource } from "../../../src/services/places/placeCache.js";
import type { AreaRecord, PlaceRecord } from "../../../src/services/places/placeTypes.js";

/** Degrees of latitude in `metres` on turf's sphere (radius 6371008.8 m): north of a point by exactly that much. */
const northBy = (metres: number) => (metres / 6371008.8) * (180 / Math.PI);

const place = (p: Partial<PlaceRecord> & Pick<PlaceRecord, "id" | "kind" | "nameAr" | "nameEn" | "latitude" | "longitude">): PlaceRecord => ({
  municipalityId: "qab-elias",
  aliases: [],
  childRelated: false,
  source: "manual",
  externalId: null,
  ...p,
});

const SCHOOL = place({ id: 1, kind: "school", nameAr: "مدرسة قب الياس الرسمية", nameEn: "Qab Elias Public School", aliases: ["المدرسة الرسمية"], childRelated: true, latitude: 33.7951, longitude: 35.8262 });
const PLAYGROUND = place({ id: 2, kind: "playground", nameAr: "ملعب وادي الدلم", nameEn: "Wadi al-Delm Playground", childRelated: true, latitude: 33.8, longitude: 35.84 });
const CHURCH = place({ id: 3, kind: "place_of_worship", nameAr: "كنيسة قب الياس", nameEn: "Qab Elias Church", latitude: 33.791, longitude: 35.83 });
const PHARMACY = place({ id: 4, kind: "pharmacy", nameAr: "صيدلية الطريق العام", nameEn: "Main Road Pharmacy", aliases: ["الصيدلية"], latitude: 33.7953, longitude: 35.8262 });
const PLACES = [SCHOOL, PLAYGROUND, CHURCH, PHARMACY];

const square = (west: number, south: number, east: number, north: number) => [
  [west, south],
  [east, south],
  [east, north],
  [west, north],
  [west, south],
] as [number, number][];
const area = (id: number, nameEn: string, geometry: AreaRecord["geometry"]): AreaRecord => ({ id, municipalityId: "qab-elias", nameAr: nameEn, nameEn, geometry, childPopulation: null, source: "manual", externalId: null });
// The town centre (around the school) and Wadi al-Delm (two parts, the second with a hole).
const CENTRE = area(10, "Centre", { type: "Polygon", coordinates: [square(35.82, 33.79, 35.835, 33.799)] });
const WADI = area(11, "Wadi al-Delm", {
  type: "MultiPolygon",
  coordinates: [[square(35.835, 33.795, 35.85, 33.81)], [square(35.86, 33.79, 35.88, 33.8), square(35.865, 33.792, 35.87, 33.796)]],
});
const AREAS = [WADI, CENTRE];

describe("locate", () => {
  it("uses a pin as it is, and finds its area and the child place within the zone", () => {
    const pin = { latitude: PLAYGROUND.latitude + northBy(80), longitude: PLAYGROUND.longitude };
    expect(distance([pin.longitude, pin.latitude], [PLAYGROUND.longitude, PLAYGROUND.latitude], { units: "meters" })).toBeCloseTo(80, 6);
    expect(locate(pin, "", PLACES, AREAS, 150)).toEqual({
      latitude: pin.latitude,
      longitude: pin.longitude,
      approximate: false,
      placeId: null,
      matchedName: null,
      areaId: WADI.id,
      childZonePlaceId: PLAYGROUND.id,
      childZoneMetres: 80,
      childRelated: true,
    });
  });

  it("a pin wins over a landmark in the text", () => {
    const pin = { latitude: 33.805, longitude: 35.845 };
    const located = locate(pin, ["قدام المدرسة الرسمية"], PLACES, AREAS, 150);
    expect(located).toMatchObject({ latitude: 33.805, longitude: 35.845, approximate: false, placeId: null, areaId: WADI.id });
  });

  it("without a pin, the place the text names gives an approximate point, its area and its own zone (0 m)", () => {
    expect(locate(null, ["قدام المدرسة الرسمية"], PLACES, AREAS, 150)).toEqual({
      latitude: SCHOOL.latitude,
      longitude: SCHOOL.longitude,
      approximate: true,
      placeId: SCHOOL.id,
      matchedName: "المدرسة الرسمية",
      areaId: CENTRE.id,
      childZonePlaceId: SCHOOL.id,
      childZoneMetres: 0,
      childRelated: true,
    });
  });

  it("a landmark that is not child-related near one that is: in its zone, at the distance between them", () => {
    const expected = Math.round(distance([PHARMACY.longitude, PHARMACY.latitude], [SCHOOL.longitude, SCHOOL.latitude], { units: "meters" }));
    expect(expected).toBe(22);
    expect(locate(null, "بجانب الصيدلية", PLACES, AREAS, 150)).toMatchObject({ placeId: PHARMACY.id, approximate: true, childZonePlaceId: SCHOOL.id, childZoneMetres: expected, childRelated: true });
  });

  it("tries the address first, then the description", () => {
    expect(locate(null, ["بجانب الصيدلية", "قدام المدرسة الرسمية"], PLACES, AREAS, 150).placeId).toBe(PHARMACY.id);
    expect(locate(null, [null, "قدام المدرسة الرسمية"], PLACES, AREAS, 150).placeId).toBe(SCHOOL.id);
    expect(locate(null, ["عند بيت ابو علي", "الزبالة قدام المدرسة الرسمية"], PLACES, AREAS, 150).placeId).toBe(SCHOOL.id);
  });

  it("no pin and no known landmark: nowhere", () => {
    expect(locate(null, ["عند بيت ابو علي", "7ad el forn"], PLACES, AREAS, 150)).toEqual(NOWHERE);
    expect(locate(null, [], PLACES, AREAS, 150)).toEqual(NOWHERE);
  });

  it("the zone is a radius: a child place just outside it does not count", () => {
    const pin = { latitude: PLAYGROUND.latitude + northBy(200), longitude: PLAYGROUND.longitude };
    expect(locate(pin, "", PLACES, AREAS, 150)).toMatchObject({ childZonePlaceId: null, childZoneMetres: null, childRelated: false });
    expect(locate(pin, "", PLACES, AREAS, 250)).toMatchObject({ childZonePlaceId: PLAYGROUND.id, childZoneMetres: 200, childRelated: true });
    // Exactly at the radius counts.
    expect(locate(pin, "", PLACES, AREAS, 200).childZoneMetres).toBe(200);
  });

  it("the nearest child place wins; places that are not child-related are no zone", () => {
    const other = place({ id: 5, kind: "kindergarten", nameAr: "روضة", nameEn: "Kindergarten", childRelated: true, latitude: PLAYGROUND.latitude + northBy(100), longitude: PLAYGROUND.longitude });
    const pin = { latitude: PLAYGROUND.latitude + northBy(70), longitude: PLAYGROUND.longitude };
    expect(locate(pin, "", [...PLACES, other], AREAS, 150)).toMatchObject({ childZonePlaceId: other.id, childZoneMetres: 30 });
    // By the church only: no zone.
    expect(locate({ latitude: CHURCH.latitude, longitude: CHURCH.longitude }, "", PLACES, AREAS, 150)).toMatchObject({ childZonePlaceId: null, childRelated: false, areaId: CENTRE.id });
  });

  it("areas by point-in-polygon: multipolygons, holes, and outside every area", () => {
    const at = (longitude: number, latitude: number) => locate({ latitude, longitude }, "", [], AREAS, 150).areaId;
    expect(at(35.825, 33.795)).toBe(CENTRE.id);
    expect(at(35.84, 33.8)).toBe(WADI.id);
    expect(at(35.862, 33.798)).toBe(WADI.id); // its second part
    expect(at(35.867, 33.794)).toBeNull(); // in the hole
    expect(at(35.9, 33.9)).toBeNull();
    // On the shared edge (35.835): the first area by id.
    expect(at(35.835, 33.797)).toBe(CENTRE.id);
  });

  it("measures metres with turf, rounded", () => {
    // The public school → a point some 2.8 km north-east.
    expect(metresBetween([35.8262, 33.7951], [35.8444, 33.8153])).toBe(Math.round(distance([35.8262, 33.7951], [35.8444, 33.8153], { units: "kilometers" }) * 1000));
  });
});

describe("PlaceCache", () => {
  const source = (versions: string[], sets: PlaceSet[]) => {
    let loads = 0;
    const src: PlaceSource = {
      version: async () => versions[Math.min(loads, versions.length - 1)]!,
      load: async () => sets[Math.min(loads++, sets.length - 1)]!,
    };
    return { src, loads: () => loads };
  };

  it("loads once per version, reloads when the version changes or after invalidate", async () => {
    const cache = new PlaceCache();
    let version = "a";
    let loads = 0;
    const src: PlaceSource = { version: async () => version, load: async () => ({ places: [{ ...SCHOOL, id: ++loads }], areas: [] }) };
    const first = await cache.get("qab-elias", src);
    expect(await cache.get("qab-elias", src)).toBe(first);
    expect(loads).toBe(1);
    version = "b";
    const second = await cache.get("qab-elias", src);
    expect(second).not.toBe(first);
    expect(second.places[0]!.id).toBe(2);
    cache.invalidate("qab-elias");
    expect((await cache.get("qab-elias", src)).places[0]!.id).toBe(3);
    // Frozen: shared between messages.
    expect(Object.isFrozen(second.places[0])).toBe(true);
  });

  it("keeps municipalities apart and shares one load between concurrent gets", async () => {
    const cache = new PlaceCache();
    const { src, loads } = source(["v"], [{ places: [SCHOOL], areas: [] }]);
    const [a, b] = await Promise.all([cache.get("qab-elias", src), cache.get("qab-elias", src)]);
    expect(a).toBe(b);
    expect(loads()).toBe(1);
    await cache.get("other-town", src);
    expect(loads()).toBe(2);
  });

  it("a failed load is not kept", async () => {
    const cache = new PlaceCache();
    let fail = true;
    const src: PlaceSource = {
      version: async () => "v",
      load: async () => {
        if (fail) throw new Error("rolled back");
        return { places: [SCHOOL], areas: [] };
      },
    };
    await expect(cache.get("qab-elias", src)).rejects.toThrow("rolled back");
    fail = false;
    expect((await cache.get("qab-elias", src)).places).toHaveLength(1);
  });
});

describe("odd place data never costs the resident their request (found in review)", () => {
  it("an area whose outline is not closed is skipped, and a place with no real coordinates is never the nearest", () => {
    const open = area(12, "Open", { type: "Polygon", coordinates: [square(35.82, 33.79, 35.835, 33.799).slice(0, -1)] });
    const broken = place({ id: 9, kind: "playground", nameAr: "ملعب", nameEn: "Nowhere playground", childRelated: true, latitude: Number.NaN, longitude: Number.NaN });
    const pin = { latitude: 33.795, longitude: 35.8263 };
    const located = locate(pin, "", [broken, ...PLACES], [open, CENTRE], 150);
    expect(located.areaId).toBe(CENTRE.id);
    expect(located.childZonePlaceId).toBe(SCHOOL.id);
    expect(Number.isFinite(located.childZoneMetres)).toBe(true);
  });
});
