import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { open311Defaults } from "../../../src/config.js";
import { createApp } from "../../../src/http/createApp.js";
import { beirutW3c } from "../../../src/lib/beirutTime.js";
import { createOpen311Client } from "../../../src/services/open311/clients.js";
import type { O311Update } from "../../../src/services/open311/types.js";
import { assertValid, expectNoMilliseconds, getBoth } from "../../support/open311.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { PUBLIC_BASE_URL } from "../../support/twilio.js";

/**
 * servicerequestupdates (mySociety's extension): FixMyStreet asks "what changed between these two
 * times?" and gets the town's public answers, oldest first — never replies, internal notes or
 * internal moves, never a private request.
 */

let world: Awaited<ReturnType<typeof createTestWorld>>;
const HOUR = 3600_000;
const T0 = new Date("2026-11-20T08:00:00Z");
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);
const refs = { pothole: 31001, lamp: 31002, certificate: 31003, hidden: 31004 };
const ids: Record<string, number> = {};

beforeAll(async () => {
  world = await createTestWorld();
  const resident = await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: "+96171999001" } });
  const ticket = async (reference: number, code: string, extra: { open311Hidden?: boolean } = {}) => {
    const category = await world.db.category.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, code } });
    return world.db.ticket.create({
      data: { municipalityId: MUNICIPALITY, reference, residentId: resident.id, categoryId: category.id, department: category.department, description: `request ${reference}`, channel: "sms", locale: "en", createdAt: at(0), ...extra },
    });
  };
  const event = async (ticketId: number, hours: number, kind: string, data: object) =>
    (await world.db.ticketEvent.create({ data: { ticketId, actorType: "staff", kind, data: JSON.stringify(data), createdAt: at(hours) } })).id;
  const pothole = await ticket(refs.pothole, "roads");
  const lamp = await ticket(refs.lamp, "lighting");
  const certificate = await ticket(refs.certificate, "certificates");
  const hidden = await ticket(refs.hidden, "roads", { open311Hidden: true });
  // The pothole: staff start work (internal), write a reply and a note (never public), then a public note, then close it.
  await event(pothole.id, 1, "status_changed", { from: "new", to: "in_progress" });
  await event(pothole.id, 2, "reply", { text: "We are on our way, call 03 123 456" });
  await event(pothole.id, 2.5, "note", { text: "internal: contractor Abou Ali" });
  ids.potholeNote = await event(pothole.id, 3, "public_note", { text: "Crew booked for Tuesday; questions to 08 540 123" });
  ids.potholeClosed = await event(pothole.id, 5, "status_changed", { from: "in_progress", to: "closed", publicNote: "Filled with asphalt <b>today</b> & swept" });
  // The lamp: resolved without a note, then reopened by the resident.
  ids.lampResolved = await event(lamp.id, 4, "status_changed", { from: "new", to: "resolved" });
  ids.lampReopened = await event(lamp.id, 6, "reopened", {});
  // Never public: a private category's, a hidden request's.
  await event(certificate.id, 4, "status_changed", { from: "new", to: "closed", publicNote: "Certificate ready for Mr Khoury" });
  await event(hidden.id, 4, "status_changed", { from: "new", to: "closed", publicNote: "hidden request closed" });
});
afterAll(async () => {
  await world.drop();
});

async function updates(query: string, app = world.app) {
  const both = await getBoth(app, `/open311/v2/servicerequestupdates${query}`, "service_request_updates");
  expect(both.status, JSON.stringify(both.json)).toBe(200);
  assertValid("updates", both.json);
  expectNoMilliseconds(both.json);
  return { list: both.json as O311Update[], xml: both.xml };
}
const window = (from: number, to: number) => `?start_date=${encodeURIComponent(beirutW3c(at(from)))}&end_date=${encodeURIComponent(beirutW3c(at(to)))}`;

describe("GET /open311/v2/servicerequestupdates", () => {
  it("lists the public updates in the window, oldest first, with the status after each", async () => {
    const { list } = await updates(window(0, 10));
    expect(list.map((u) => [u.update_id, u.service_request_id, u.status])).toEqual([
      [String(ids.potholeNote), String(refs.pothole), "open"],
      [String(ids.lampResolved), String(refs.lamp), "closed"],
      [String(ids.potholeClosed), String(refs.pothole), "closed"],
      [String(ids.lampReopened), String(refs.lamp), "open"],
    ]);
    expect(list[2]).toMatchObject({ updated_datetime: beirutW3c(at(5)), description: "Filled with asphalt <b>today</b> & swept", media_url: "" });
    expect(list[1]!.description).toBe("");
  });

  it("never carries a reply, an internal note, or a phone number in a public note", async () => {
    const { list, xml } = await updates(window(0, 10));
    const text = JSON.stringify(list) + xml;
    expect(text).not.toMatch(/on our way|Abou Ali|Khoury|hidden request|123 456|540 123/);
    expect(list[0]!.description).toBe("Crew booked for Tuesday; questions to •••");
    expect(xml).toContain("<description>Filled with asphalt &lt;b&gt;today&lt;/b&gt; &amp; swept</description>");
  });

  it("takes only the window asked: a status at the window's start comes from the history before it", async () => {
    const { list } = await updates(window(4.5, 10));
    expect(list.map((u) => [u.update_id, u.status])).toEqual([
      [String(ids.potholeClosed), "closed"],
      [String(ids.lampReopened), "open"],
    ]);
    expect((await updates(window(7, 9))).list).toEqual([]);
  });

  it("refuses a window wider than 90 days or backwards, in the format asked", async () => {
    const wide = await request(world.app).get(`/open311/v2/servicerequestupdates.json?start_date=2026-01-01&end_date=2026-06-01`);
    expect(wide.status).toBe(400);
    assertValid("errors", wide.body);
    const backwards = await request(world.app).get(`/open311/v2/servicerequestupdates.xml${window(5, 1)}`);
    expect(backwards.status).toBe(400);
    expect(backwards.text).toContain("<description>start_date: must not be after end_date</description>");
  });

  it("when reading needs a key (OPEN311_PUBLIC_READ=false), asks FixMyStreet for its api_key", async () => {
    const closed = createApp({ ...world.deps, open311: { ...open311Defaults(PUBLIC_BASE_URL), publicRead: false } });
    const refused = await request(closed).get(`/open311/v2/servicerequestupdates.json${window(0, 10)}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual([{ code: 403, description: "api_key: reading through Open311 needs a client key from the municipality" }]);
    const wrong = await request(closed).get(`/open311/v2/requests.json?api_key=o311_${"A".repeat(32)}`);
    expect(wrong.status).toBe(403);
    const created = await createOpen311Client(world.db, { municipalityId: MUNICIPALITY, name: "FixMyStreet", createdById: null, now: new Date() });
    if (!created.ok) throw new Error(created.problem);
    const { list } = await updates(`${window(0, 10)}&api_key=${created.key}`, closed);
    expect(list).toHaveLength(4);
  });
});
