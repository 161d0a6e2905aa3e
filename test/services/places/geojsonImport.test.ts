import { readFileSync } from "node:fs";
import path from "node:path";
import { check } from "@placemarkio/check-geojson";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { importGeoJson, MAX_GEOJSON_FEATURES } from "../../../src/services/places/geojsonImport.js";
import { listAreas, listPlaces, onPlacesChanged } from "../../../src/services/places/places.js";
import { seedDemoData, seedDemoPlaces } from "../../../src/services/seed.js";
import { seedCategories } from "../../../src/services/seed.js";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";

const SAMPLES = path.join(import.meta.dirname, "../../../samples");
const sample = (name: string) => readFileSync(path.join(SAMPLES, name), "utf8");
const M = "qab-elias";
const NOW = new Date("2026-03-01T08:00:00Z");

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await database.drop();
});
beforeEach(async () => {
  await database.db.place.deleteMany();
  await database.db.area.deleteMany();
});

/** An overpass turbo export, as it comes: nodes and a way, `@id`, OSM tags, one unnamed bench. */
const OSM_EXPORT = {
  type: "FeatureCollection",
  generator: "overpass-turbo",
  copyright: "The data included in this document is from www.openstreetmap.org.",
  features: [
    {
      type: "Feature",
      properties: { "@id": "node/1001", amenity: "school", name: "مدرسة قب الياس الرسمية", "name:en": "Qab Elias Public School", alt_name: "المدرسة الرسمية;el madrase el rasmiye; madraset 2ab elias" },
      geometry: { type: "Point", coordinates: [35.8262, 33.7951] },
      id: "node/1001",
    },
    {
      type: "Feature",
      properties: { "@id": "way/2002", leisure: "playground", name: "حديقة البلدية", "name:ar": "حديقة البلدية", "name:en": "Municipal Garden" },
      geometry: {
        type: "Polygon",
        coordinates: [
          [
            [35.824, 33.792],
            [35.826, 33.792],
            [35.826, 33.793],
            [35.824, 33.793],
            [35.824, 33.792],
          ],
        ],
      },
      id: "way/2002",
    },
    {
      type: "Feature",
      properties: { "@id": "node/1003", amenity: "place_of_worship", religion: "muslim", name: "جامع العمري", alt_name: "jeme3 el 3omari;el jemea el omari" },
      geometry: { type: "Point", coordinates: [35.8229, 33.7941] },
    },
    {
      type: "Feature",
      properties: { "@id": "node/1004", amenity: "fuel", name: "محطة الطريق العام" },
      geometry: { type: "Point", coordinates: [35.82, 33.793] },
    },
    { type: "Feature", properties: { "@id": "node/1005", amenity: "bench" }, geometry: { type: "Point", coordinates: [35.821, 33.794] } },
    // osmtogeojson's own shape: the tags nested, the id on the feature
    {
      type: "Feature",
      id: "node/1006",
      properties: { type: "node", id: "node/1006", tags: { amenity: "kindergarten", "name:ar": "روضة الأطفال", "name:en": "Kindergarten" } },
      geometry: { type: "Point", coordinates: [35.8218, 33.7962] },
    },
  ],
};

const collection = (features: unknown[]) => JSON.stringify({ type: "FeatureCollection", features });
const point = (coordinates: unknown, properties: Record<string, unknown> = { name: "ساحة" }) => ({ type: "Feature", properties, geometry: { type: "Point", coordinates } });
const square = (lon: number, lat: number, d = 0.002) => [
  [
    [lon, lat],
    [lon + d, lat],
    [lon + d, lat + d],
    [lon, lat + d],
    [lon, lat],
  ],
];

describe("importing places from GeoJSON", () => {
  it("imports an OpenStreetMap export as it is: kinds, names, aliases, polygon centroids", async () => {
    const changed: string[] = [];
    const stop = onPlacesChanged((m) => changed.push(m));
    const result = await importGeoJson(database.db, M, "places", JSON.stringify(OSM_EXPORT), NOW);
    stop();
    expect(result).toEqual({ ok: true, created: 5, updated: 0, skipped: 1 });
    expect(changed).toEqual([M]);
    const places = await listPlaces(database.db, M);
    const byId = Object.fromEntries(places.map((p) => [p.externalId, p]));
    expect(byId["node/1001"]).toMatchObject({
      kind: "school",
      nameAr: "مدرسة قب الياس الرسمية",
      nameEn: "Qab Elias Public School",
      aliases: ["المدرسة الرسمية", "el madrase el rasmiye", "madraset 2ab elias"],
      childRelated: true,
      latitude: 33.7951,
      longitude: 35.8262,
      source: "import",
    });
    // A way: the centroid of its polygon.
    expect(byId["way/2002"]).toMatchObject({ kind: "playground", nameEn: "Municipal Garden", childRelated: true });
    expect(byId["way/2002"]!.longitude).toBeCloseTo(35.825, 6);
    expect(byId["way/2002"]!.latitude).toBeCloseTo(33.7925, 6);
    // Only `name`: both names; not child-related.
    expect(byId["node/1003"]).toMatchObject({ kind: "place_of_worship", nameAr: "جامع العمري", nameEn: "جامع العمري", aliases: ["jeme3 el 3omari", "el jemea el omari"], childRelated: false });
    // A kind we do not know, with a name: a landmark. The unnamed bench is left out.
    expect(byId["node/1004"]).toMatchObject({ kind: "landmark", childRelated: false });
    expect(byId["node/1006"]).toMatchObject({ kind: "kindergarten", nameAr: "روضة الأطفال", nameEn: "Kindergarten", childRelated: true });
  });

  it("updates on a re-import instead of duplicating", async () => {
    await importGeoJson(database.db, M, "places", JSON.stringify(OSM_EXPORT), NOW);
    const moved = structuredClone(OSM_EXPORT);
    moved.features[0]!.geometry.coordinates = [35.8265, 33.7955];
    moved.features[0]!.properties.name = "المدرسة الرسمية الجديدة";
    const again = await importGeoJson(database.db, M, "places", JSON.stringify(moved), NOW);
    expect(again).toEqual({ ok: true, created: 0, updated: 5, skipped: 1 });
    expect(await database.db.place.count()).toBe(5);
    const school = (await listPlaces(database.db, M)).find((p) => p.externalId === "node/1001")!;
    expect(school).toMatchObject({ nameAr: "المدرسة الرسمية الجديدة", latitude: 33.7955, longitude: 35.8265 });

    // Without ids, the same names are the same place.
    const plain = collection([point([35.8237, 33.7934], { "name:ar": "الساحة", "name:en": "Square" })]);
    expect(await importGeoJson(database.db, M, "places", plain, NOW)).toMatchObject({ created: 1, updated: 0 });
    expect(await importGeoJson(database.db, M, "places", plain, NOW)).toMatchObject({ created: 0, updated: 1 });
  });

  it("imports the shipped samples, which are valid GeoJSON near the town centre", async () => {
    for (const file of ["qab-elias-places.geojson", "qab-elias-areas.geojson"]) {
      expect(() => check(sample(file))).not.toThrow();
      expect(JSON.parse(sample(file)).description).toMatch(/APPROXIMATE SAMPLE DATA/);
    }
    const places = await importGeoJson(database.db, M, "places", sample("qab-elias-places.geojson"), NOW, { source: "sample" });
    expect(places).toMatchObject({ ok: true, created: 12, updated: 0 });
    const areas = await importGeoJson(database.db, M, "areas", sample("qab-elias-areas.geojson"), NOW, { source: "sample" });
    expect(areas).toMatchObject({ ok: true, created: 4, updated: 0 });
    const list = await listPlaces(database.db, M);
    for (const p of list) {
      expect(Math.abs(p.latitude - 33.7934)).toBeLessThan(0.02);
      expect(Math.abs(p.longitude - 35.8237)).toBeLessThan(0.02);
      expect(p.source).toBe("sample");
    }
    expect(list.find((p) => p.nameEn === "Qab Elias Public School")).toMatchObject({ kind: "school", childRelated: true });
    expect(list.find((p) => p.nameAr === "جامع العمري")!.aliases).toEqual(expect.arrayContaining(["jeme3 el 3omari", "el jemea el omari"]));
    expect(list.find((p) => p.nameEn === "Qab Elias - Wadi al-Delm Municipality")).toMatchObject({ kind: "landmark" });
    expect((await listAreas(database.db, M)).map((a) => a.nameEn).sort()).toEqual(["Old Town", "Qab Elias Centre", "Saadnayel Road", "Wadi al-Delm"]);
  });
});

describe("refused files change nothing", () => {
  beforeEach(async () => {
    await importGeoJson(database.db, M, "places", JSON.stringify(OSM_EXPORT), NOW);
  });
  const snapshot = () => database.db.place.findMany({ orderBy: { id: "asc" } });

  it("a file with latitude and longitude swapped", async () => {
    const before = await snapshot();
    const swapped = collection([point([35.8237, 33.7934], { name: "ok", "@id": "node/1" }), point([33.7951, 35.8262], { name: "المدرسة", "@id": "node/2" })]);
    const result = await importGeoJson(database.db, M, "places", swapped, NOW);
    expect(result).toMatchObject({ ok: false, errorCount: 1 });
    if (result.ok) return;
    expect(result.errors[0]).toMatchObject({ feature: 2, key: "swapped" });
    expect(result.errors[0]!.message).toBe("feature 2: latitude and longitude look swapped (GeoJSON is [longitude, latitude])");
    expect(await snapshot()).toEqual(before);
  });

  it("bad geometries: an open ring, a short ring, non-numeric and out-of-range coordinates, no name", async () => {
    const before = await snapshot();
    const open = square(35.82, 33.79);
    open[0]![4] = [35.8201, 33.79];
    const result = await importGeoJson(
      database.db,
      M,
      "places",
      collection([
        point([35.8237, 33.7934], { name: "fine" }),
        { type: "Feature", properties: { name: "open" }, geometry: { type: "Polygon", coordinates: open } },
        { type: "Feature", properties: { name: "short" }, geometry: { type: "Polygon", coordinates: [[[35.82, 33.79], [35.821, 33.79], [35.82, 33.79]]] } },
        point(["35.8", 33.79]),
        point([35.82, 133.79]),
        point([35.82, 33.79], { amenity: "school" }),
        point([2.35, 48.85], { name: "Paris" }),
      ]),
      NOW,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.feature, e.key])).toEqual([
      [2, "ringNotClosed"],
      [3, "ringTooShort"],
      [4, "badPosition"],
      [5, "outOfRange"],
      [6, "noName"],
      [7, "outsideLebanon"],
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it("a geometry of the wrong type for the layer", async () => {
    const areasBefore = await database.db.area.count();
    const result = await importGeoJson(database.db, M, "areas", collection([{ type: "Feature", properties: { name: "حي" }, geometry: { type: "Polygon", coordinates: square(35.82, 33.79) } }, point([35.82, 33.79])]), NOW);
    expect(result).toMatchObject({ ok: false, errors: [{ feature: 2, key: "wrongGeometry", params: { type: "Point", expected: "Polygon, MultiPolygon" } }] });
    expect(await database.db.area.count()).toBe(areasBefore);
    const line = await importGeoJson(database.db, M, "places", collection([{ type: "Feature", properties: { name: "road" }, geometry: { type: "LineString", coordinates: [[35.82, 33.79], [35.83, 33.79]] } }]), NOW);
    expect(line).toMatchObject({ ok: false, errors: [{ feature: 1, key: "wrongGeometry" }] });
  });

  it("files that are not a FeatureCollection, not JSON, too many features, or a duplicated id", async () => {
    const before = await snapshot();
    expect(await importGeoJson(database.db, M, "places", '{"type":"Feature"}', NOW)).toMatchObject({ ok: false, errors: [{ feature: 0, key: "notFeatureCollection" }] });
    expect(await importGeoJson(database.db, M, "places", '{\n"type":\n}', NOW)).toMatchObject({ ok: false, errors: [{ feature: 0, key: "notJson" }] });
    // Where the parser stopped is a line and a column the page translates; its own words are only the detail.
    expect(await importGeoJson(database.db, M, "places", '{"type": "FeatureCollection",\n  features: []}', NOW)).toMatchObject({
      ok: false,
      errors: [{ feature: 0, key: "notJsonAt", params: { line: 2, column: 3 }, detail: expect.stringContaining("property name") }],
    });
    const many = collection(Array.from({ length: MAX_GEOJSON_FEATURES + 1 }, () => point([35.82, 33.79])));
    expect(await importGeoJson(database.db, M, "places", many, NOW)).toMatchObject({ ok: false, errors: [{ key: "tooManyFeatures" }] });
    const twice = collection([point([35.82, 33.79], { name: "a", "@id": "node/9" }), point([35.82, 33.79], { name: "b", "@id": "node/9" })]);
    expect(await importGeoJson(database.db, M, "places", twice, NOW)).toMatchObject({ ok: false, errors: [{ feature: 2, key: "duplicateId", params: { other: 1 } }] });
    expect(await snapshot()).toEqual(before);
  });
});

describe("areas", () => {
  it("imports polygons and multipolygons; a re-import keeps the child population an admin entered", async () => {
    const file = collection([
      { type: "Feature", id: "a1", properties: { "name:ar": "وسط البلد", "name:en": "Centre" }, geometry: { type: "Polygon", coordinates: square(35.82, 33.79) } },
      { type: "Feature", id: "a2", properties: { name: "وادي الدلم" }, geometry: { type: "MultiPolygon", coordinates: [square(35.81, 33.80), square(35.815, 33.80)] } },
    ]);
    expect(await importGeoJson(database.db, M, "areas", file, NOW)).toEqual({ ok: true, created: 2, updated: 0, skipped: 0 });
    await database.db.area.updateMany({ where: { externalId: "a1" }, data: { childPopulation: 850 } });
    expect(await importGeoJson(database.db, M, "areas", file, NOW)).toEqual({ ok: true, created: 0, updated: 2, skipped: 0 });
    const areas = await listAreas(database.db, M);
    expect(areas.find((a) => a.externalId === "a1")).toMatchObject({ nameEn: "Centre", childPopulation: 850, geometry: { type: "Polygon" } });
    expect(areas.find((a) => a.externalId === "a2")).toMatchObject({ nameAr: "وادي الدلم", nameEn: "وادي الدلم", geometry: { type: "MultiPolygon" } });
  });
});

describe("the demo data", () => {
  it("loads the sample places and areas with source sample, once", async () => {
    const other = await createTestDatabase();
    try {
      await seedCategories(other.db, M);
      expect(await seedDemoData(other.db, M)).toBe(3);
      expect(await other.db.place.count({ where: { source: "sample" } })).toBe(12);
      expect(await other.db.area.count({ where: { source: "sample" } })).toBe(4);
      expect(await seedDemoPlaces(other.db, M, NOW)).toEqual({ places: 0, areas: 0 });
      expect(await other.db.place.count()).toBe(12);
    } finally {
      await other.drop();
    }
  }, 60_000);
});
