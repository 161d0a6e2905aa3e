import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { O311Service, O311ServiceDefinition } from "../../../src/services/open311/types.js";
import { assertValid, getBoth } from "../../support/open311.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";

let world: Awaited<ReturnType<typeof createTestWorld>>;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world.drop();
});

async function services(query = "", headers: Record<string, string> = {}) {
  const { status, json, jsonResponse } = await getBoth(world.app, `/open311/v2/services${query}`, "services", headers);
  expect(status).toBe(200);
  assertValid("services", json);
  for (const service of json as unknown[]) assertValid("service", service);
  return { list: json as O311Service[], res: jsonResponse };
}

describe("GET /open311/v2/services", () => {
  it("lists the town's public categories, valid against services.json in XML and JSON", async () => {
    const { list } = await services();
    const codes = list.map((s) => s.service_code);
    expect(codes).toContain("roads");
    expect(codes).toContain("stray_animals");
    // Certificates are private by default: never served.
    expect(codes).not.toContain("certificates");
    expect(list.every((s) => typeof s.service_code === "string" && s.type === "realtime")).toBe(true);
    expect(list.find((s) => s.service_code === "stray_animals")?.metadata).toBe(true);
  });

  it("names services in English by default, in Arabic when asked by locale or by the browser", async () => {
    const english = await services();
    expect(english.res.headers["content-language"]).toBe("en");
    const roads = (list: O311Service[]) => list.find((s) => s.service_code === "roads")!;
    expect(roads(english.list).service_name).toMatch(/^[\x20-\x7e]+$/);

    const arabic = await services("?locale=ar");
    expect(arabic.res.headers["content-language"]).toBe("ar");
    expect(roads(arabic.list).service_name).toMatch(/[\u0600-\u06ff]/);
    expect((await services("", { "Accept-Language": "ar-LB,ar;q=0.9,en;q=0.5" })).list).toEqual(arabic.list);
    expect((await services("?locale=en", { "Accept-Language": "ar" })).list).toEqual(english.list);
    expect((await services("?locale=fr", { "Accept-Language": "fr" })).list).toEqual(english.list);
    expect(english.res.headers.vary).toMatch(/Accept-Language/);
  });

  it("keeps the list stable: a deactivated category disappears and nothing else moves", async () => {
    const before = (await services()).list;
    await world.db.category.updateMany({ where: { municipalityId: MUNICIPALITY, code: "lighting" }, data: { active: false } });
    const after = (await services()).list;
    expect(after).toEqual(before.filter((s) => s.service_code !== "lighting"));
    await world.db.category.updateMany({ where: { municipalityId: MUNICIPALITY, code: "lighting" }, data: { active: true } });
  });
});

describe("GET /open311/v2/services/{code}", () => {
  it("defines stray_animals' questions, valid against service-definition.json in XML and JSON", async () => {
    const { status, json, xml } = await getBoth(world.app, "/open311/v2/services/stray_animals", "service_definition");
    expect(status).toBe(200);
    assertValid("service-definition", json);
    const definition = json as O311ServiceDefinition;
    expect(definition.service_code).toBe("stray_animals");
    const howMany = definition.attributes.find((a) => a.code === "how_many")!;
    expect(howMany).toMatchObject({ variable: true, datatype: "singlevaluelist", required: true, order: 1, description: "How many animals?" });
    expect(howMany.values.map((v) => v.key)).toEqual(["one", "two_to_five", "more_than_five"]);
    expect(xml).toContain("<attributes><attribute><variable>true</variable><code>how_many</code>");
    expect(xml).toContain("<values><value><key>one</key><name>One</name></value>");
  });

  it("asks in Arabic when asked", async () => {
    const { json } = await getBoth(world.app, "/open311/v2/services/stray_animals?locale=ar", "service_definition");
    expect((json as O311ServiceDefinition).attributes[0]).toMatchObject({ description: "كم عدد الحيوانات؟" });
  });

  it("defines a service without questions with an empty list", async () => {
    const { json, xml } = await getBoth(world.app, "/open311/v2/services/roads", "service_definition");
    assertValid("service-definition", json);
    expect(json).toEqual({ service_code: "roads", attributes: [] });
    expect(xml).toContain("<attributes/>");
  });

  it.each(["certificates", "nothing_here"])("answers %s (private or unknown) 404", async (code) => {
    const res = await request(world.app).get(`/open311/v2/services/${code}.json`);
    expect(res.status).toBe(404);
    assertValid("errors", res.body);
  });
});
