import { check } from "@placemarkio/check-geojson";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AreaFeatureCollection, PlaceFeatureCollection, RequestFeatureCollection, RequestsGeoJsonQuery } from "../../../src/http/api/apiSchemas.js";
import type { OpenApiDocument } from "../../../src/http/api/openApiDocument.js";
import { exportRequests, RequestExportFilters } from "../../../src/services/places/geojsonExport.js";
import { actorById } from "../../../src/services/staff.js";
import { MUNICIPALITY } from "../../support/testApp.js";
import { createApiWorld, freshPhone, type ApiWorld } from "./apiWorld.js";

let world: ApiWorld;

// Who wrote, and what: none of it may appear in an export.
const residents = {
  rima: { phone: freshPhone(), profileName: "Rima Haddad" },
  samir: { phone: freshPhone(), profileName: "Samir Khoury" },
  nour: { phone: freshPhone(), profileName: "Nour Fakhoury" },
};
const DESCRIPTIONS = {
  roads: "جورة كبيرة قدام بيت أبو سمير",
  zone: "rubbish piling at the school gate",
  parks: "الأرجوحة مكسورة بالملعب",
  words: "water leaking where the kids wait for the bus",
  noPoint: "pothole somewhere on the main road",
  payment: "Payment reported: 1,250,000 LBP at OMT, receipt 8841, account 10-2345",
  financeQuestion: "my bill for account 77-4411 is wrong",
  elsewhere: "other town's request",
};
const ACCOUNT_NUMBER = "10-2345";

const refs = { roads: 20001, zone: 20002, parks: 20003, words: 20004, noPoint: 20005, payment: 20006, financeQuestion: 20007, elsewhere: 20008 };
const ids = { areaCentre: 0, areaBroken: 0, school: 0, pharmacy: 0 };
const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  world = await createApiWorld();
  const db = world.db;
  const resident = async (r: { phone: string; profileName: string }, municipalityId = MUNICIPALITY) =>
    (await db.resident.create({ data: { municipalityId, phone: r.phone, profileName: r.profileName, locale: "ar" } })).id;
  const rima = await resident(residents.rima);
  const samir = await resident(residents.samir);
  const nour = await resident(residents.nour);
  const stranger = await resident({ phone: freshPhone(), profileName: "Elsewhere" }, "zahle");
  const category = async (code: string) => (await db.category.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, code } })).id;

  // A square around the town centre, stored clockwise (the export winds it counterclockwise).
  const centre = await db.area.create({
    data: {
      municipalityId: MUNICIPALITY,
      nameAr: "الوسط",
      nameEn: "Centre",
      childPopulation: 1200,
      geometry: JSON.stringify({ type: "Polygon", coordinates: [[[35.81, 33.78], [35.81, 33.8], [35.83, 33.8], [35.83, 33.78], [35.81, 33.78]]] }),
    },
  });
  ids.areaCentre = centre.id;
  ids.areaBroken = (await db.area.create({ data: { municipalityId: MUNICIPALITY, nameAr: "معطوب", nameEn: "Broken", geometry: "{not json" } })).id;
  await db.area.create({ data: { municipalityId: "zahle", nameAr: "زحلة", nameEn: "Zahle", geometry: JSON.stringify({ type: "Polygon", coordinates: [[[35.9, 33.8], [35.91, 33.8], [35.91, 33.81], [35.9, 33.8]]] }) } });

  const school = await db.place.create({
    data: { municipalityId: MUNICIPALITY, kind: "school", nameAr: "مدرسة قب الياس الرسمية", nameEn: "Qab Elias Public School", aliases: JSON.stringify(["المدرسة الرسمية"]), childRelated: true, latitude: 33.7940212345, longitude: 35.8231187654 },
  });
  ids.school = school.id;
  ids.pharmacy = (await db.place.create({ data: { municipalityId: MUNICIPALITY, kind: "pharmacy", nameAr: "صيدلية الشفاء", nameEn: "Al-Shifaa Pharmacy", latitude: 33.7921, longitude: 35.8251 } })).id;
  await db.place.create({ data: { municipalityId: "zahle", kind: "school", nameAr: "مدرسة زحلة", nameEn: "Zahle School", childRelated: true, latitude: 33.85, longitude: 35.9 } });

  const ticket = (reference: number, residentId: number, data: Record<string, unknown>) =>
    db.ticket.create({ data: { municipalityId: MUNICIPALITY, reference, residentId, channel: "whatsapp", locale: "ar", ...data } as never });

  // A pin with more decimals than the export keeps.
  await ticket(refs.roads, rima, {
    description: DESCRIPTIONS.roads, categoryId: await category("roads"), department: "public_works", status: "in_progress",
    latitude: 33.79340123456, longitude: 35.82371298765, areaId: centre.id, createdAt: at("2026-03-10T10:00:00Z"),
  });
  // An SMS landmark matched to the school: approximate, and inside its child zone.
  await ticket(refs.zone, samir, {
    description: DESCRIPTIONS.zone, categoryId: await category("waste"), department: "sanitation", channel: "sms", childRelated: true,
    latitude: school.latitude, longitude: school.longitude, locationApproximate: true, placeId: school.id, childZonePlaceId: school.id, childZoneMetres: 80,
    areaId: centre.id, createdAt: at("2026-03-12T10:00:00Z"),
  });
  const parks = await ticket(refs.parks, nour, {
    description: DESCRIPTIONS.parks, categoryId: await category("parks_playgrounds"), department: "public_works", childRelated: true, status: "resolved",
    latitude: 33.801, longitude: 35.829, createdAt: at("2026-02-20T10:00:00Z"),
  });
  const words = await ticket(refs.words, rima, {
    description: DESCRIPTIONS.words, categoryId: await category("water"), department: "water", childRelated: true, status: "closed",
    latitude: 33.7899, longitude: 35.8177, createdAt: at("2026-03-05T10:00:00Z"),
  });
  await ticket(refs.noPoint, samir, { description: DESCRIPTIONS.noPoint, categoryId: await category("roads"), department: "public_works", createdAt: at("2026-03-11T10:00:00Z") });
  const payment = await ticket(refs.payment, nour, {
    description: DESCRIPTIONS.payment, department: "finance", latitude: 33.795, longitude: 35.82, createdAt: at("2026-03-13T10:00:00Z"),
  });
  await ticket(refs.financeQuestion, nour, {
    description: DESCRIPTIONS.financeQuestion, department: "finance", latitude: 33.796, longitude: 35.821, createdAt: at("2026-03-01T10:00:00Z"),
  });
  await db.ticket.create({
    data: { municipalityId: "zahle", reference: refs.elsewhere, residentId: stranger, channel: "sms", locale: "ar", description: DESCRIPTIONS.elsewhere, latitude: 33.85, longitude: 35.9, department: "public_works" },
  });
  const account = await db.account.create({
    data: { municipalityId: MUNICIPALITY, number: ACCOUNT_NUMBER, holderName: "Nour Fakhoury", accountType: "property", verificationCodeHash: "x" },
  });
  await db.paymentReport.create({ data: { municipalityId: MUNICIPALITY, ticketId: payment.id, accountId: account.id, amount: 1250000, currency: "LBP", paidAt: "OMT", paymentRef: "8841" } });

  const event = (ticketId: number, kind: string, data: object, createdAt: string) =>
    db.ticketEvent.create({ data: { ticketId, actorType: kind === "reopened" ? "resident" : "staff", kind, data: JSON.stringify(data), createdAt: at(createdAt) } });
  await event(parks.id, "status_changed", { from: "new", to: "in_progress" }, "2026-02-21T09:00:00Z");
  await event(parks.id, "status_changed", { from: "in_progress", to: "resolved" }, "2026-02-23T15:30:00Z");
  // Resolved, reopened by the resident, resolved again then closed: resolved at the second time.
  await event(words.id, "status_changed", { from: "new", to: "resolved" }, "2026-03-06T08:00:00Z");
  await event(words.id, "reopened", { from: "resolved" }, "2026-03-07T08:00:00Z");
  await event(words.id, "status_changed", { from: "new", to: "resolved" }, "2026-03-08T08:00:00Z");
  await event(words.id, "status_changed", { from: "resolved", to: "closed" }, "2026-03-09T08:00:00Z");
});
afterAll(async () => {
  await world.drop();
});

/** GETs a GeoJSON export and checks it is valid GeoJSON served as such. */
async function geojson(token: string, path: string) {
  const res = await world.api.get(token, path);
  expect(res.status, res.text).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^application\/geo\+json/);
  expect(() => check(res.text)).not.toThrow();
  return res;
}

async function requests(token: string, query = "") {
  const res = await geojson(token, `/requests.geojson${query}`);
  return { res, body: RequestFeatureCollection.parse(JSON.parse(res.text)) };
}
const referencesIn = (body: { features: Array<{ properties: { reference: number } }> }) => body.features.map((f) => f.properties.reference);

function decimals(n: number): number {
  const [, fraction = ""] = String(n).split(".");
  return fraction.length;
}

describe("GET /api/v1/requests.geojson", () => {
  it("is valid RFC 7946 GeoJSON of the located requests, newest first", async () => {
    const { res, body } = await requests(world.tokens.hala);
    // No point, a payment report, another town: not there.
    expect(referencesIn(body)).toEqual([refs.zone, refs.roads, refs.words, refs.financeQuestion, refs.parks]);
    expect(res.headers["x-total-count"]).toBe("5");
    expect(res.headers["x-result-limit"]).toBe("10000");
    for (const feature of body.features) {
      expect(feature.id).toBe(feature.properties.reference);
      expect(Object.keys(feature.properties).sort()).toEqual(
        ["reference", "category", "status", "child_related", "child_reason", "near_place", "area", "approximate", "created_at", "resolved_at"].sort(),
      );
    }
  });

  it("positions are [longitude, latitude] with at most 6 decimals", async () => {
    const { body } = await requests(world.tokens.hala);
    for (const { geometry } of body.features) {
      const [lon, lat] = geometry.coordinates;
      expect(lon).toBeGreaterThan(35.7);
      expect(lon).toBeLessThan(35.9);
      expect(lat).toBeGreaterThan(33.7);
      expect(lat).toBeLessThan(33.9);
      expect(decimals(lon)).toBeLessThanOrEqual(6);
      expect(decimals(lat)).toBeLessThanOrEqual(6);
    }
    const roads = body.features.find((f) => f.properties.reference === refs.roads);
    expect(roads?.geometry).toEqual({ type: "Point", coordinates: [35.823713, 33.793401] });
  });

  it("says what, where, when and why child-related", async () => {
    const { body } = await requests(world.tokens.hala);
    const byRef = new Map(body.features.map((f) => [f.properties.reference, f.properties]));
    expect(byRef.get(refs.zone)).toEqual({
      reference: refs.zone,
      category: { code: "waste", name_ar: expect.any(String), name_en: expect.any(String) },
      status: "new",
      child_related: true,
      child_reason: { kind: "zone", place: "Qab Elias Public School", metres: 80 },
      near_place: "Qab Elias Public School",
      area: "Centre",
      approximate: true,
      created_at: "2026-03-12T10:00:00.000Z",
      resolved_at: null,
    });
    expect(byRef.get(refs.roads)).toMatchObject({ child_related: false, child_reason: null, near_place: null, area: "Centre", approximate: false, status: "in_progress" });
    expect(byRef.get(refs.parks)).toMatchObject({ child_reason: { kind: "category" }, resolved_at: "2026-02-23T15:30:00.000Z", area: null });
    expect(byRef.get(refs.words)).toMatchObject({ child_reason: { kind: "words" }, status: "closed", resolved_at: "2026-03-08T08:00:00.000Z" });
    expect(byRef.get(refs.financeQuestion)).toMatchObject({ category: null, child_related: false });
  });

  it("names places and areas in Arabic with lang=ar", async () => {
    const { body } = await requests(world.tokens.hala, "?lang=ar");
    const zone = body.features.find((f) => f.properties.reference === refs.zone)?.properties;
    expect(zone).toMatchObject({ near_place: "مدرسة قب الياس الرسمية", area: "الوسط", child_reason: { kind: "zone", place: "مدرسة قب الياس الرسمية", metres: 80 } });
  });

  it("never carries a phone, a name, a description or account data", async () => {
    for (const token of [world.tokens.hala, world.tokens.rania, world.tokens.karim]) {
      const { res } = await requests(token, "?status=all");
      for (const r of Object.values(residents)) {
        expect(res.text).not.toContain(r.phone);
        expect(res.text).not.toContain(r.phone.slice(4));
        expect(res.text).not.toContain(r.profileName);
      }
      for (const description of Object.values(DESCRIPTIONS)) expect(res.text).not.toContain(description);
      expect(res.text).not.toContain(ACCOUNT_NUMBER);
      expect(res.text).not.toContain("77-4411");
      expect(res.text).not.toContain("1,250,000");
    }
  });

  it("an agent gets only their departments' requests", async () => {
    const rania = (await requests(world.tokens.rania)).body;
    expect(referencesIn(rania)).toEqual([refs.roads, refs.parks]);
    const karim = (await requests(world.tokens.karim)).body;
    expect(referencesIn(karim)).toEqual([refs.words]);
    // Asking for another department gives nothing, not an error.
    expect(referencesIn((await requests(world.tokens.rania, "?department=sanitation")).body)).toEqual([]);
  });

  it.each<[string, string, Array<keyof typeof refs>]>([
    ["open ones", "?status=open", ["zone", "roads", "financeQuestion"]],
    ["finished ones", "?status=resolved&status=closed", ["words", "parks"]],
    ["one status", "?status=in_progress", ["roads"]],
    ["a category", "?category=roads", ["roads"]],
    ["a department", "?department=public_works", ["roads", "parks"]],
    ["child-related", "?childRelated=true", ["zone", "words", "parks"]],
    ["not child-related", "?childRelated=0", ["roads", "financeQuestion"]],
    ["an area", "", ["zone", "roads"]],
    ["a date range (Beirut days, both ends included)", "?from=2026-03-05&to=2026-03-10", ["roads", "words"]],
    ["an instant", "?from=2026-03-10T10:00:00Z", ["zone", "roads"]],
    ["several at once", "?childRelated=true&status=open&from=2026-03-01", ["zone"]],
  ])("filters: %s", async (_name, query, expected) => {
    const q = query || `?area=${ids.areaCentre}`;
    expect(referencesIn((await requests(world.tokens.hala, q)).body)).toEqual(expected.map((name) => refs[name]));
  });

  it.each([
    ["?status=bogus", "status"],
    ["?area=abc", "area"],
    ["?from=2026-02-30", "from"],
    ["?from=yesterday", "from"],
    ["?from=2026-03-10&to=2026-03-01", "from"],
    ["?childRelated=maybe", "childRelated"],
    ["?category=Roads", "category"],
    ["?lang=fr", "lang"],
  ])("refuses %s with a 400 naming the parameter", async (query, name) => {
    const res = await world.api.get(world.tokens.hala, `/requests.geojson${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toContain(`${name}:`);
  });

  it("stops at the limit, newest first, and counts the rest", async () => {
    const actor = await actorById(world.db, world.staff.hala.id);
    if (!actor) throw new Error("no actor");
    const result = await world.db.$transaction((tx) => exportRequests(tx, actor, RequestExportFilters.parse({}), 2));
    expect(result.total).toBe(5);
    expect(referencesIn(result.collection)).toEqual([refs.zone, refs.roads]);
  });
});

describe("GET /api/v1/places.geojson and /areas.geojson", () => {
  it("places are points with their kind, names and child flag, this town's only", async () => {
    const res = await geojson(world.tokens.rania, "/places.geojson");
    const body = PlaceFeatureCollection.parse(JSON.parse(res.text));
    expect(body.features).toEqual([
      {
        type: "Feature",
        id: ids.school,
        geometry: { type: "Point", coordinates: [35.823119, 33.794021] },
        properties: { id: ids.school, kind: "school", name_ar: "مدرسة قب الياس الرسمية", name_en: "Qab Elias Public School", child_related: true },
      },
      {
        type: "Feature",
        id: ids.pharmacy,
        geometry: { type: "Point", coordinates: [35.8251, 33.7921] },
        properties: { id: ids.pharmacy, kind: "pharmacy", name_ar: "صيدلية الشفاء", name_en: "Al-Shifaa Pharmacy", child_related: false },
      },
    ]);
  });

  it("areas are polygons wound as RFC 7946 asks; an unreadable one is left out", async () => {
    const res = await geojson(world.tokens.karim, "/areas.geojson");
    const body = AreaFeatureCollection.parse(JSON.parse(res.text));
    expect(body.features.map((f) => f.id)).toEqual([ids.areaCentre]);
    const [centre] = body.features;
    expect(centre?.properties).toEqual({ id: ids.areaCentre, name_ar: "الوسط", name_en: "Centre", child_population: 1200 });
    expect(centre?.geometry).toEqual({
      type: "Polygon",
      coordinates: [[[35.81, 33.78], [35.83, 33.78], [35.83, 33.8], [35.81, 33.8], [35.81, 33.78]]],
    });
  });
});

describe("access", () => {
  it.each(["/requests.geojson", "/places.geojson", "/areas.geojson"])("%s needs a token", async (path) => {
    const none = await request(world.app).get(`/api/v1${path}`);
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
    const bad = await world.api.get("bld_not-a-real-token", path);
    expect(bad.status).toBe(401);
  });
});

describe("the OpenAPI document", () => {
  let doc: OpenApiDocument;
  beforeAll(async () => {
    doc = (await request(world.app).get("/api/v1/openapi.json")).body;
  });

  it.each([
    ["/requests.geojson", "RequestFeatureCollection"],
    ["/places.geojson", "PlaceFeatureCollection"],
    ["/areas.geojson", "AreaFeatureCollection"],
  ])("documents %s as application/geo+json with a valid example", (path, schema) => {
    const content = (doc.paths[path]?.get?.responses as Record<string, { content?: Record<string, { schema: unknown; example: unknown }> }>)["200"]?.content;
    const media = content?.["application/geo+json"];
    expect(media?.schema).toEqual({ $ref: `#/components/schemas/${schema}` });
    expect(doc.components.schemas[schema]).toBeDefined();
    expect(() => check(JSON.stringify(media?.example))).not.toThrow();
    const zod = { RequestFeatureCollection, PlaceFeatureCollection, AreaFeatureCollection }[schema];
    expect(zod?.safeParse(media?.example).error?.issues).toBeUndefined();
  });

  it("documents every filter of requests.geojson as a query parameter", () => {
    const parameters = doc.paths["/requests.geojson"]?.get?.parameters as Array<{ name: string; in: string; description?: string }>;
    for (const p of parameters) {
      expect(p.in).toBe("query");
      expect(p.description, p.name).toEqual(expect.any(String));
    }
    expect(parameters.map((p) => p.name).sort()).toEqual(Object.keys(RequestsGeoJsonQuery.shape).sort());
  });
});
