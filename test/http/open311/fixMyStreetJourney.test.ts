import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { beirutW3c } from "../../../src/lib/beirutTime.js";
import { assertValid, expectNoMilliseconds, getBoth, parseOpen311Xml, sparkFromXml } from "../../support/open311.js";
import { createTestWorld } from "../../support/testApp.js";
import { appWithClock, freshPhone, hire, signedIn, textOf, type World } from "../staff/staffBrowser.js";

/**
 * The "done means", as a FixMyStreet-style client lives it: the town's admin gives it a key;
 * it lists the services, files a pothole with coordinates and a photo link (in XML, as FixMyStreet
 * does); the request is in the public-works queue; a day later staff close it with a public note;
 * the client reads it closed with that note, and finds the note among the updates — every answer
 * valid against the published schemas, in XML and JSON, and nothing personal in any of them.
 */

let world: World;
let clock: ReturnType<typeof appWithClock>;
let key = "";
let reference = "";
const REPORTER = { email: "nadia.haddad@example.org", first_name: "Nadia", last_name: "Haddad", phone: "" };
const NOTE = "تم ردم الحفرة وتزفيتها — the pothole was filled and resurfaced";

beforeAll(async () => {
  world = await createTestWorld();
  clock = appWithClock(world, new Date("2026-11-29T07:15:00Z"));
  await hire(world, "hala", "rania", "karim");
  REPORTER.phone = freshPhone();
}, 120_000);
afterAll(async () => {
  await world.drop();
});

/** Everything a client reads, checked for anything that could identify the reporter. */
function expectNothingPersonal(text: string) {
  const national = REPORTER.phone.replace("+961", "");
  for (const secret of [REPORTER.email, REPORTER.first_name, REPORTER.last_name, REPORTER.phone, national, "fms-device-9", "fms-account-42"]) expect(text).not.toContain(secret);
}

describe("a FixMyStreet-style client and the town hall", () => {
  it("the admin creates a key for the client on the staff pages; it is shown once", async () => {
    const hala = await signedIn(clock.app, "hala");
    const page = await hala.get("/staff/admin/open311-clients");
    expect(page.status).toBe(200);
    const created = await hala.post("/staff/admin/open311-clients", { name: "FixMyStreet Bekaa" });
    expect(created.status).toBe(201);
    key = /o311_[A-Za-z0-9_-]{32}/.exec(created.text)?.[0] ?? "";
    expect(key).not.toBe("");
    const again = await hala.get("/staff/admin/open311-clients");
    expect(again.text).toContain("FixMyStreet Bekaa");
    expect(again.text).not.toContain(key);
  });

  it("the client reads discovery and the services, and the pothole service's (empty) definition", async () => {
    const discovery = await getBoth(clock.app, "/open311/v2/discovery", "discovery");
    assertValid("discovery", discovery.json);
    expect((discovery.json as { key_service: string }).key_service).toMatch(/client key \(api_key\)/);
    const services = await getBoth(clock.app, "/open311/v2/services", "services");
    assertValid("services", services.json);
    expect((services.json as Array<{ service_code: string }>).map((s) => s.service_code)).toContain("roads");
    const definition = await getBoth(clock.app, "/open311/v2/services/roads", "service_definition");
    assertValid("service-definition", definition.json);
  });

  it("files a pothole in XML with coordinates, a photo link and the reporter's details", async () => {
    const form = new URLSearchParams({
      api_key: key,
      service_code: "roads",
      lat: "33.791580",
      long: "35.826110",
      address_string: "Main road, opposite the bakery",
      description: "Deep pothole, two cars damaged their tyres this week",
      media_url: "https://fixmystreet.example.org/photo/9001.full.jpeg",
      device_id: "fms-device-9",
      account_id: "fms-account-42",
      ...REPORTER,
    });
    const res = await request(clock.app).post("/open311/v2/requests.xml").type("form").send(form.toString());
    expect(res.status, res.text).toBe(200);
    expect(res.text.startsWith('<?xml version="1.0" encoding="utf-8"?><service_requests><request>')).toBe(true);
    const { root, value } = sparkFromXml(res.text);
    expect(root).toBe("service_requests");
    assertValid("request-created", value);
    const [created] = value as Array<{ service_request_id: string; service_notice: string; account_id: string }>;
    reference = created!.service_request_id;
    expect(created).toMatchObject({ account_id: "fms-account-42" });
    expect(created!.service_notice).toContain(`#${reference}`);
  });

  it("it appears in the public-works queue, saying who filed it; other departments do not see it", async () => {
    const rania = await signedIn(clock.app, "rania");
    const queue = await rania.get("/staff");
    expect(queue.status).toBe(200);
    expect(queue.text).toContain(reference);
    expect(textOf(queue.text)).toContain("FixMyStreet Bekaa");
    const ticket = await rania.get(`/staff/tickets/${reference}`);
    expect(ticket.status).toBe(200);
    const text = textOf(ticket.text);
    expect(text).toContain("Deep pothole, two cars damaged their tyres this week");
    expect(text).toContain("https://fixmystreet.example.org/photo/9001.full.jpeg");
    const karim = await signedIn(clock.app, "karim");
    expect((await karim.get(`/staff/tickets/${reference}`)).status).toBe(404);
  });

  it("a day later staff close it with a public note; the reporter's phone gets the SMS notice", async () => {
    clock.advance(24 * 3600_000);
    const rania = await signedIn(clock.app, "rania");
    await rania.get(`/staff/tickets/${reference}`);
    // Closing tells the reporter by SMS: the page asks first, showing the notice.
    const asked = await rania.post(`/staff/tickets/${reference}/status`, { status: "closed", publicNote: NOTE });
    expect(asked.status).toBe(200);
    expect(await world.db.message.count({ where: { ticket: { reference: Number(reference) }, kind: "notification" } })).toBe(0);
    const res = await rania.post(`/staff/tickets/${reference}/status`, { status: "closed", publicNote: NOTE, confirm: "yes" });
    expect([302, 303]).toContain(res.status);
    const notices = await world.db.message.findMany({ where: { ticket: { reference: Number(reference) }, kind: "notification" } });
    expect(notices).toHaveLength(1);
    expect(notices[0]!.channel).toBe("sms");
    expect(notices[0]!.body).not.toContain(NOTE);
  });

  it("the client reads it closed with the public note, in XML and JSON, valid and without anything personal", async () => {
    for (const path of [`/open311/v2/requests/${reference}`, `/open311/v2/requests?service_request_id=${reference}`]) {
      const { json, xml } = await getBoth(clock.app, path, "service_requests");
      assertValid("requests", json);
      expectNoMilliseconds(json);
      const [read] = json as Array<Record<string, unknown>>;
      expect(read).toMatchObject({ service_request_id: reference, status: "closed", status_notes: NOTE, service_code: "roads", lat: 33.7916, long: 35.8261, media_url: null });
      expect(read!.requested_datetime).toBe("2026-11-29T09:15:00+02:00");
      expect(read!.updated_datetime).toBe("2026-11-30T09:15:00+02:00");
      expect(xml).toContain(`<status_notes>${NOTE}</status_notes>`);
      expectNothingPersonal(xml + JSON.stringify(json));
    }
  });

  it("and finds the closing among the updates FixMyStreet polls for", async () => {
    const window = `?start_date=${encodeURIComponent(beirutW3c(new Date("2026-11-30T00:00:00Z")))}&end_date=${encodeURIComponent(beirutW3c(new Date("2026-11-30T12:00:00Z")))}&api_key=${key}`;
    const { json, xml } = await getBoth(clock.app, `/open311/v2/servicerequestupdates${window}`, "service_request_updates");
    assertValid("updates", json);
    expect(json).toEqual([expect.objectContaining({ service_request_id: reference, status: "closed", description: NOTE, updated_datetime: "2026-11-30T09:15:00+02:00" })]);
    expect(parseOpen311Xml(xml).root).toBe("service_request_updates");
    expectNothingPersonal(xml);
  });
});
