import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { beirutW3c } from "../../../src/lib/beirutTime.js";
import type { O311Request } from "../../../src/services/open311/types.js";
import { assertValid, expectNoMilliseconds, getBoth, NO_MS } from "../../support/open311.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { freshPhone, residentFiles } from "../staff/staffBrowser.js";

let world: Awaited<ReturnType<typeof createTestWorld>>;
const DAY = 24 * 3600_000;
const phones = { pothole: freshPhone(), leak: freshPhone() };
const refs = { pothole: 0, leak: 0, old: 20001, certificate: 20002 };
// The public note staff wrote when closing the leak: Arabic, with characters XML must escape.
const NOTE = "تم إصلاح الأنبوب <الرئيسي> & تنظيف الطريق — fixed";

beforeAll(async () => {
  world = await createTestWorld();
  // Two residents file over SMS as people do; staff then close the leak.
  refs.pothole = await residentFiles(world.app, phones.pothole, "في جورة كبيرة بالطريق العام", "قدام الجامع");
  refs.leak = await residentFiles(world.app, phones.leak, "water leaking from the pipe", "Main street");
  const leak = await world.db.ticket.update({ where: { municipalityId_reference: { municipalityId: MUNICIPALITY, reference: refs.leak } }, data: { status: "closed" } });
  await world.db.ticketEvent.create({
    data: { ticketId: leak.id, actorType: "staff", kind: "status_changed", data: JSON.stringify({ from: "new", to: "closed", publicNote: NOTE }), createdAt: new Date(Date.now() + 60_000) },
  });
  // Older than the default 90 days, and a request in a private category.
  const resident = await world.db.resident.findFirstOrThrow({ where: { phone: phones.pothole } });
  const ticket = async (reference: number, code: string, createdAt: Date) => {
    const categoryId = (await world.db.category.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, code } })).id;
    await world.db.ticket.create({
      data: { municipalityId: MUNICIPALITY, reference, residentId: resident.id, categoryId, department: "public_works", description: `request ${reference}`, channel: "sms", locale: "en", createdAt },
    });
  };
  await ticket(refs.old, "roads", new Date(Date.now() - 120 * DAY));
  await ticket(refs.certificate, "certificates", new Date(Date.now() - DAY));
});
afterAll(async () => {
  await world.drop();
});

/** GET requests in both formats: 200, valid against requests.json, XML saying what JSON says. */
async function requests(query = "", headers: Record<string, string> = {}) {
  const { status, json, xml } = await getBoth(world.app, `/open311/v2/requests${query}`, "service_requests", headers);
  expect(status, JSON.stringify(json)).toBe(200);
  assertValid("requests", json);
  for (const item of json as unknown[]) assertValid("request", item);
  expectNoMilliseconds(json);
  return { list: json as O311Request[], xml, json };
}
const idsOf = (list: O311Request[]) => list.map((r) => Number(r.service_request_id));

describe("GET /open311/v2/requests", () => {
  it("lists the last 90 days' public requests, newest first, valid against requests.json in XML and JSON", async () => {
    const { list, xml } = await requests();
    expect(idsOf(list)).toEqual([refs.leak, refs.pothole]);
    const pothole = list.find((r) => Number(r.service_request_id) === refs.pothole)!;
    expect(pothole).toMatchObject({ service_request_id: String(refs.pothole), status: "open", service_code: "roads" });
    expect(pothole.requested_datetime).toMatch(NO_MS);
    expect(list.find((r) => Number(r.service_request_id) === refs.leak)!.status).toBe("closed");
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?><service_requests><request><service_request_id>/);
  });

  it("carries the public note staff wrote when closing, and when, intact in both formats", async () => {
    const { list, xml } = await requests("?status=closed");
    const [leak] = list;
    expect(leak).toMatchObject({ service_request_id: String(refs.leak), status: "closed", status_notes: NOTE });
    expect(leak!.updated_datetime).not.toBe(leak!.requested_datetime);
    expect(xml).toContain("<status_notes>تم إصلاح الأنبوب &lt;الرئيسي&gt; &amp; تنظيف الطريق — fixed</status_notes>");
  });

  it("never shows who asked", async () => {
    const { xml, json } = await requests("?locale=ar");
    for (const phone of Object.values(phones)) {
      const national = phone.replace("+961", "");
      for (const text of [xml, JSON.stringify(json)]) {
        expect(text).not.toContain(phone);
        expect(text).not.toContain(national);
      }
    }
  });

  it("gives names in the language asked", async () => {
    const english = (await requests()).list.find((r) => Number(r.service_request_id) === refs.pothole)!;
    const arabic = (await requests("", { "Accept-Language": "ar" })).list.find((r) => Number(r.service_request_id) === refs.pothole)!;
    expect(english.service_name).toMatch(/^[\x20-\x7e]+$/);
    expect(arabic.service_name).toMatch(/[\u0600-\u06ff]/);
    expect(arabic.description).toBe(english.description);
  });

  it("takes a list of ids over every other filter, in the order asked, public ones only", async () => {
    const { list } = await requests(`?service_request_id=${refs.old},${refs.certificate}, ${refs.leak},99999&status=open&service_code=water`);
    expect(idsOf(list)).toEqual([refs.old, refs.leak]);
    expect(idsOf((await requests(`?service_request_id=${refs.pothole}&service_request_id=${refs.leak}`)).list)).toEqual([refs.pothole, refs.leak]);
  });

  it.each([
    ["status=open", () => [refs.pothole]],
    ["status=closed", () => [refs.leak]],
    ["status=open,closed", () => [refs.leak, refs.pothole]],
    ["status=closed&status=open", () => [refs.leak, refs.pothole]],
    ["status=", () => [refs.leak, refs.pothole]],
    ["service_code=roads", () => [refs.pothole]],
    ["service_code=water&service_code=roads", () => [refs.leak, refs.pothole]],
    ["service_code=roads,unknown", () => [refs.pothole]],
    ["service_code=certificates", () => []],
    ["service_code=roads&status=closed", () => []],
  ])("filters by %s", async (query, expected) => {
    expect(idsOf((await requests(`?${query}`)).list)).toEqual(expected());
  });

  it("filters on when the request was made, in days (Beirut) or instants, at most 90 days apart", async () => {
    const old = await world.db.ticket.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, reference: refs.old } });
    const day = (at: Date) => beirutW3c(at).slice(0, 10);
    const around = (from: number, to: number) => `?start_date=${day(new Date(old.createdAt.getTime() + from * DAY))}&end_date=${day(new Date(old.createdAt.getTime() + to * DAY))}`;
    expect(idsOf((await requests(around(-1, 1))).list)).toEqual([refs.old]);
    expect(idsOf((await requests(around(0, 0))).list)).toEqual([refs.old]);
    expect(idsOf((await requests(around(1, 80))).list)).toEqual([]);
    // An instant, with its offset: "+" sent unencoded arrives as a space, and still counts.
    const at = encodeURIComponent(beirutW3c(old.createdAt));
    expect(idsOf((await requests(`?start_date=${at}&end_date=${at}`)).list)).toEqual([refs.old]);
    expect(idsOf((await requests(`?start_date=${beirutW3c(old.createdAt)}&end_date=${beirutW3c(old.createdAt)}`)).list)).toEqual([refs.old]);
    const after = encodeURIComponent(beirutW3c(new Date(old.createdAt.getTime() + 1000)));
    expect(idsOf((await requests(`?start_date=${after}`)).list)).toEqual([]);
    // Only a start: the 90 days after it. Only an end: the 90 days before it.
    expect(idsOf((await requests(`?start_date=${day(new Date(old.createdAt.getTime() - DAY))}`)).list)).toEqual([refs.old]);
    expect(idsOf((await requests(`?end_date=${encodeURIComponent(new Date().toISOString())}`)).list)).toEqual([refs.leak, refs.pothole]);
    expect(idsOf((await requests(`?end_date=${day(new Date(old.createdAt.getTime() + DAY))}`)).list)).toEqual([refs.old]);
  });
});

describe("GET /open311/v2/requests/{id}", () => {
  it("answers one request as a one-item list, in XML and JSON", async () => {
    const { status, json, xml } = await getBoth(world.app, `/open311/v2/requests/${refs.pothole}`, "service_requests");
    expect(status).toBe(200);
    assertValid("requests", json);
    expect(idsOf(json as O311Request[])).toEqual([refs.pothole]);
    expect(xml).toContain(`<service_requests><request><service_request_id>${refs.pothole}</service_request_id>`);
  });

  it("answers an old request too (no date window for one id)", async () => {
    const { status } = await getBoth(world.app, `/open311/v2/requests/${refs.old}`, "service_requests");
    expect(status).toBe(200);
  });

  it("answers a private request 404, as if it did not exist", async () => {
    for (const format of ["json", "xml"]) {
      const res = await request(world.app).get(`/open311/v2/requests/${refs.certificate}.${format}`);
      expect(res.status).toBe(404);
    }
  });
});
