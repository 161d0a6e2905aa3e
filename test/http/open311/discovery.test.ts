import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/http/createApp.js";
import { open311Defaults } from "../../../src/config.js";
import { assertValid, expectNoMilliseconds, getBoth } from "../../support/open311.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { PUBLIC_BASE_URL } from "../../support/twilio.js";

let world: Awaited<ReturnType<typeof createTestWorld>>;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world.drop();
});

describe("GET /open311/v2/discovery", () => {
  it("describes the endpoint as Service Discovery asks, in XML and JSON alike", async () => {
    const { status, json, xml } = await getBoth(world.app, "/open311/v2/discovery", "discovery");
    expect(status).toBe(200);
    assertValid("discovery", json);
    expectNoMilliseconds(json);
    expect(json).toMatchObject({
      contact: `The municipality's service requests (Baladiya): ${PUBLIC_BASE_URL}`,
      key_service: expect.stringMatching(/key/),
      endpoints: [{ specification: "http://wiki.open311.org/GeoReport_v2", url: `${PUBLIC_BASE_URL}/open311/v2`, type: "production", formats: ["text/xml", "application/json"] }],
    });
    const body = json as { changeset: string; endpoints: Array<{ changeset: string }> };
    expect(body.endpoints[0]!.changeset).toBe(body.changeset);
    expect(xml).toContain("<formats><format>text/xml</format><format>application/json</format></formats>");
  });

  it("moves its changeset when a service changes", async () => {
    const before = ((await getBoth(world.app, "/open311/v2/discovery", "discovery")).json as { changeset: string }).changeset;
    const later = new Date(Date.parse(before) + 3600_000);
    await world.db.category.updateMany({ where: { municipalityId: MUNICIPALITY, code: "roads" }, data: { updatedAt: later } });
    const after = ((await getBoth(world.app, "/open311/v2/discovery", "discovery")).json as { changeset: string }).changeset;
    expect(Date.parse(after)).toBe(Math.floor(later.getTime() / 1000) * 1000);
  });

  it.each(["", "jurisdiction_id=", "jurisdiction_id=baladiya.example.org", "jurisdiction_id=Baladiya.Example.org"])("accepts our jurisdiction, or none (%j)", async (query) => {
    const { status } = await getBoth(world.app, `/open311/v2/discovery?${query}`, "discovery");
    expect(status).toBe(200);
  });

  it("says what the configuration says, and stays readable when reading needs a key", async () => {
    const app = createApp({
      ...world.deps,
      open311: { ...open311Defaults(PUBLIC_BASE_URL), publicRead: false, contact: "open311@qabelias.gov.lb", jurisdictionId: "qabelias.gov.lb" },
    });
    const { status, json } = await getBoth(app, "/open311/v2/discovery?jurisdiction_id=qabelias.gov.lb", "discovery");
    expect(status).toBe(200);
    expect(json).toMatchObject({ contact: "open311@qabelias.gov.lb", key_service: expect.stringMatching(/^Reading and filing need a client key/) });
    expect((await getBoth(app, "/open311/v2/discovery?jurisdiction_id=baladiya.example.org", "errors")).status).toBe(404);
  });
});
