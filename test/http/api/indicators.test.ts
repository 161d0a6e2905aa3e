import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ChildIndicatorsResponse } from "../../../src/http/api/apiSchemas.js";
import type { OpenApiDocument } from "../../../src/http/api/openApiDocument.js";
import { createApp } from "../../../src/http/createApp.js";
import { INDICATORS_NOW, SECRETS, seedIndicatorsTown, type IndicatorsTown } from "../../services/places/childIndicatorsData.js";
import { apiClient, createApiWorld, type ApiWorld } from "./apiWorld.js";

let world: ApiWorld;
let town: IndicatorsTown;
let api: ReturnType<typeof apiClient>;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  world = await createApiWorld();
  town = await seedIndicatorsTown(world.db);
  // The fixed town's "now": Sunday 15 March 2026, 10:00 in Beirut.
  app = createApp({ ...world.deps, clock: () => INDICATORS_NOW });
  api = apiClient(app);
});
afterAll(async () => {
  await world.drop();
});

async function indicators(token: string) {
  const res = await api.get(token, "/indicators/children");
  expect(res.status, res.text).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  const parsed = ChildIndicatorsResponse.safeParse(res.body);
  expect(parsed.error?.issues).toBeUndefined();
  return { res, body: ChildIndicatorsResponse.parse(res.body) };
}

describe("GET /api/v1/indicators/children", () => {
  it("gives an admin's token the whole town's indicators, with ISO dates and null for no data", async () => {
    const { body } = await indicators(world.tokens.hala);
    expect(body.generatedAt).toBe("2026-03-15T08:00:00.000Z");
    expect(body.scope).toEqual({ allDepartments: true, departments: [] });
    expect(body.zoneMetres).toBe(150);
    expect(body.openChildRelated.total).toBe(5);
    expect(body.openChildRelated.areas[0]).toEqual({
      area: { id: town.areas.a1, nameAr: "الوسط", nameEn: "Centre" },
      open: 3,
      categories: [
        { category: { code: "parks_playgrounds", nameAr: expect.any(String), nameEn: "Parks and playgrounds" }, open: 1 },
        { category: { code: "roads", nameAr: expect.any(String), nameEn: "Roads and potholes" }, open: 1 },
        { category: { code: "school_safety", nameAr: expect.any(String), nameEn: "School surroundings" }, open: 1 },
      ],
    });
    expect(body.openChildRelated.areas.at(-1)).toEqual({ area: null, open: 1, categories: [{ category: null, open: 1 }] });
    expect(body.places).toEqual([
      {
        place: { id: town.places.playground, kind: "playground", nameAr: "ملعب وادي الدلم", nameEn: "Wadi al-Delm Playground" },
        open: 2,
        oldestOpenCreatedAt: "2026-02-20T08:00:00.000Z",
        oldestOpenAgeDays: 23,
      },
      {
        place: { id: town.places.school, kind: "school", nameAr: "مدرسة قب الياس الرسمية", nameEn: "Qab Elias Public School" },
        open: 2,
        oldestOpenCreatedAt: "2026-03-01T08:00:00.000Z",
        oldestOpenAgeDays: 14,
      },
      { place: { id: town.places.kindergarten, kind: "kindergarten", nameAr: "روضة الزهور", nameEn: "Al-Zuhur Kindergarten" }, open: 0, oldestOpenCreatedAt: null, oldestOpenAgeDays: null },
    ]);
    expect(body.placesComplete).toBe(true);
    expect(body.resolution).toEqual({
      thisMonth: { month: "2026-03", from: "2026-02-28T22:00:00.000Z", to: "2026-03-15T08:00:00.000Z", childRelated: { n: 3, medianDays: 2 }, others: { n: 2, medianDays: 2.25 } },
      lastMonth: { month: "2026-02", from: "2026-01-31T22:00:00.000Z", to: "2026-02-28T22:00:00.000Z", childRelated: { n: 2, medianDays: 4.25 }, others: { n: 1, medianDays: 7 } },
    });
    expect(body.perThousandChildren).toEqual({
      from: "2025-03-14T22:00:00.000Z",
      to: "2026-03-15T08:00:00.000Z",
      areas: [
        { area: { id: town.areas.a2, nameAr: "وادي الدلم", nameEn: "Wadi al-Delm" }, childPopulation: 500, childRelatedRequests: 3, perThousand: 6 },
        { area: { id: town.areas.a1, nameAr: "الوسط", nameEn: "Centre" }, childPopulation: 1200, childRelatedRequests: 6, perThousand: 5 },
        { area: { id: town.areas.a3, nameAr: "طريق سعدنايل", nameEn: "Saadnayel Road" }, childPopulation: null, childRelatedRequests: 1, perThousand: null },
        { area: { id: town.areas.a4, nameAr: "المنطقة الصناعية", nameEn: "Industrial zone" }, childPopulation: 0, childRelatedRequests: 0, perThousand: null },
      ],
      withoutArea: 1,
    });
  });

  it("counts only an agent's departments' requests", async () => {
    const rania = (await indicators(world.tokens.rania)).body;
    expect(rania.scope).toEqual({ allDepartments: false, departments: ["public_works"] });
    expect(rania.openChildRelated.total).toBe(3);
    expect(rania.places.map((p) => [p.place.nameEn, p.open])).toEqual([
      ["Qab Elias Public School", 2],
      ["Wadi al-Delm Playground", 0],
      ["Al-Zuhur Kindergarten", 0],
    ]);

    // Water and electricity: the water leak at the playground, and February's child-related water request.
    const karim = (await indicators(world.tokens.karim)).body;
    expect(karim.scope).toEqual({ allDepartments: false, departments: ["electricity", "water"] });
    expect(karim.openChildRelated.total).toBe(0);
    expect(karim.places.map((p) => [p.place.nameEn, p.open, p.oldestOpenAgeDays])).toEqual([
      ["Wadi al-Delm Playground", 1, 1],
      ["Qab Elias Public School", 0, null],
      ["Al-Zuhur Kindergarten", 0, null],
    ]);
    expect(karim.resolution.lastMonth.childRelated).toEqual({ n: 1, medianDays: 7 });
    expect(karim.resolution.thisMonth).toMatchObject({ childRelated: { n: 0, medianDays: null }, others: { n: 0, medianDays: null } });
    expect(karim.perThousandChildren.areas.find((a) => a.area.id === town.areas.a3)).toMatchObject({ childRelatedRequests: 1, perThousand: null });
  });

  it("never carries a resident's phone, name or words, not even a finance request's", async () => {
    const { res } = await indicators(world.tokens.hala);
    for (const secret of Object.values(SECRETS)) expect(res.text).not.toContain(secret);
    expect(res.text).not.toContain("description");
    expect(res.text).not.toContain("phone");
  });

  it("wants a token", async () => {
    const res = await request(app).get("/api/v1/indicators/children");
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
  });

  it("is documented in the OpenAPI document, with a true example", async () => {
    const doc: OpenApiDocument = (await request(app).get("/api/v1/openapi.json")).body;
    const operation = doc.paths["/indicators/children"]?.get;
    expect(operation).toMatchObject({ operationId: "getChildIndicators", tags: ["indicators"] });
    const Documented = z.object({ responses: z.object({ "200": z.object({ content: z.object({ "application/json": z.object({ schema: z.unknown(), example: z.unknown() }) }) }) }) });
    const example = Documented.parse(operation).responses["200"].content["application/json"];
    expect(example.schema).toEqual({ $ref: "#/components/schemas/ChildIndicatorsResponse" });
    expect(ChildIndicatorsResponse.safeParse(example.example).error?.issues).toBeUndefined();
    expect(doc.components.schemas.ChildIndicatorsResponse).toMatchObject({ type: "object" });
  });
});
