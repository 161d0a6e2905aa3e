import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/http/createApp.js";
import { open311Defaults } from "../../../src/config.js";
import { createOpen311Client, revokeOpen311Client } from "../../../src/services/open311/clients.js";
import { fileOpen311Request } from "../../../src/services/open311/filing.js";
import { createPlace } from "../../../src/services/places/places.js";
import { assertValid, parseOpen311Xml, sameAsXml, sparkFromXml } from "../../support/open311.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { PUBLIC_BASE_URL } from "../../support/twilio.js";
import { freshPhone, residentSays } from "../staff/staffBrowser.js";

/**
 * POST /open311/v2/requests: another civic tool, holding a client key, files requests that become
 * ordinary tickets — located, routed and child-related like a resident's — and gets their numbers back.
 */

let world: Awaited<ReturnType<typeof createTestWorld>>;
/** The app, with room for this file's many filings (the per-key limit has its own test below). */
let app: ReturnType<typeof createApp>;
let key = "";
let otherKey = "";
let schoolId = 0;
const SCHOOL = { latitude: 33.7912, longitude: 35.8251 };

beforeAll(async () => {
  world = await createTestWorld();
  app = createApp({ ...world.deps, open311: { ...open311Defaults(PUBLIC_BASE_URL), writesPerMinute: 1000 } });
  key = (await createKey("FixMyStreet Bekaa")).key;
  otherKey = (await createKey("Town website")).key;
  const school = await createPlace(world.db, MUNICIPALITY, { kind: "school", nameAr: "المدرسة الرسمية", nameEn: "Public school", aliases: ["المدرسة الرسمية", "public school"], childRelated: true, latitude: SCHOOL.latitude, longitude: SCHOOL.longitude });
  schoolId = school.id;
});
afterAll(async () => {
  await world.drop();
});

async function createKey(name: string) {
  const created = await createOpen311Client(world.db, { municipalityId: MUNICIPALITY, name, createdById: null, now: new Date() });
  if (!created.ok) throw new Error(created.problem);
  return created;
}

type Fields = Record<string, string | string[]>;

/** A url-encoded form, repeated fields as repeated keys (how FixMyStreet sends attribute[x][]). */
function encode(fields: Fields): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) params.append(name, v);
  return params.toString();
}

function file(fields: Fields, format: "json" | "xml" = "json", headers: Record<string, string> = {}) {
  let req = request(app).post(`/open311/v2/requests.${format}`).type("form");
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  return req.send(encode(fields));
}

/** Files and expects success: the answer checked against the schema, the ticket read back. */
async function filed(fields: Fields, format: "json" | "xml" = "json", headers: Record<string, string> = {}) {
  const res = await file({ api_key: key, ...fields }, format, headers);
  expect(res.status, res.text).toBe(200);
  const answer = format === "json" ? (res.body as unknown) : sparkFromXml(res.text).value;
  if (format === "xml") expect(sparkFromXml(res.text).root).toBe("service_requests");
  assertValid("request-created", answer);
  const [created] = answer as Array<{ service_request_id: string; service_notice: string; account_id: string | null }>;
  const ticket = await world.db.ticket.findUniqueOrThrow({
    where: { municipalityId_reference: { municipalityId: MUNICIPALITY, reference: Number(created!.service_request_id) } },
    include: { category: true, resident: true, open311Submission: { include: { client: true } }, events: true, place: true, childZonePlace: true },
  });
  return { created: created!, ticket, res };
}

/** An error answer: its status, valid <errors>, the descriptions. */
async function refused(res: request.Response, status: number) {
  expect(res.status, res.text).toBe(status);
  const body = /json/.test(res.headers["content-type"] ?? "") ? (res.body as unknown) : sparkFromXml(res.text).value;
  assertValid("errors", body);
  return (body as Array<{ description: string }>).map((e) => e.description);
}

describe("filing a pothole, as FixMyStreet does", () => {
  it("files it with coordinates and a photo link; it is an ordinary ticket in the queue, saying which client filed it", async () => {
    const { created, ticket } = await filed({
      service_code: "roads",
      lat: "33.79135",
      long: "35.82600",
      description: "Deep pothole outside the public school, cars swerve",
      media_url: "https://fixmystreet.example.org/photo/123.jpeg",
      email: "reporter@example.org",
      first_name: "Nadia",
      last_name: "Haddad",
      device_id: "fms-abc",
      account_id: "fms-user-77",
    });
    expect(created.service_request_id).toMatch(/^\d{5,}$/);
    expect(created.account_id).toBe("fms-user-77");
    expect(created.service_notice).toContain(`#${created.service_request_id}`);
    expect(ticket).toMatchObject({ channel: "open311", route: "open311", residentId: null, status: "new", department: "public_works", description: "Deep pothole outside the public school, cars swerve", latitude: 33.79135, longitude: 35.826 });
    expect(ticket.category?.code).toBe("roads");
    // Next to the school: child-related by its child zone, like a resident's pin there.
    expect(ticket.childRelated).toBe(true);
    expect(ticket.childZonePlace?.id).toBe(schoolId);
    // The photo is a link staff can open; never one of the ticket's own (Twilio-fetched) media.
    expect(JSON.parse(ticket.media)).toEqual([]);
    expect(ticket.open311Submission).toMatchObject({ email: "reporter@example.org", firstName: "Nadia", lastName: "Haddad", deviceId: "fms-abc", accountId: "fms-user-77" });
    expect(JSON.parse(ticket.open311Submission!.mediaUrls)).toEqual(["https://fixmystreet.example.org/photo/123.jpeg"]);
    expect(ticket.open311Submission!.client.name).toBe("FixMyStreet Bekaa");
    const createdEvent = ticket.events.find((e) => e.kind === "created")!;
    expect(JSON.parse(createdEvent.data)).toMatchObject({ channel: "open311", open311Client: { name: "FixMyStreet Bekaa" } });
    // Readable at once through Open311, without the reporter's name or e-mail.
    const read = await request(app).get(`/open311/v2/requests/${created.service_request_id}.json`);
    expect(read.status).toBe(200);
    expect(read.body[0]).toMatchObject({ service_request_id: created.service_request_id, status: "open", service_code: "roads", lat: 33.7914, long: 35.826 });
    expect(read.text).not.toMatch(/Nadia|Haddad|reporter@|fms-user|fixmystreet\.example/);
  });

  it("answers in XML with the XML declaration, the same document", async () => {
    const { res, created } = await filed({ service_code: "lighting", lat: "33.79", long: "35.82", description: "Lamp post dark" }, "xml");
    expect(res.headers["content-type"]).toBe("text/xml; charset=utf-8");
    expect(res.text.startsWith(`<?xml version="1.0" encoding="utf-8"?><service_requests><request><service_request_id>${created.service_request_id}</service_request_id>`)).toBe(true);
    expect(parseOpen311Xml(res.text).root).toBe("service_requests");
    expect(sameAsXml(created)).toEqual(sparkFromXml(res.text).value && (sparkFromXml(res.text).value as unknown[])[0]);
  });

  it("records when the key was last used", async () => {
    const client = await world.db.open311Client.findFirstOrThrow({ where: { name: "FixMyStreet Bekaa" } });
    expect(client.lastUsedAt).not.toBeNull();
  });
});

describe("where the request is", () => {
  it("finds the landmark an address names, marked approximate, as for an SMS", async () => {
    const { ticket } = await filed({ service_code: "waste", address_string: "قرب المدرسة الرسمية", description: "نفايات متراكمة" });
    expect(ticket).toMatchObject({ addressText: "قرب المدرسة الرسمية", locationApproximate: true, latitude: SCHOOL.latitude, longitude: SCHOOL.longitude, childRelated: true });
    expect(ticket.place?.id).toBe(schoolId);
  });

  it("is child-related for its category or its words, as a resident's request is", async () => {
    const far = { lat: "33.8200", long: "35.8700" };
    expect((await filed({ service_code: "roads", ...far, description: "Broken kerb" })).ticket.childRelated).toBe(false);
    expect((await filed({ service_code: "roads", ...far, description: "الولاد بيلعبوا حد الحفرة" })).ticket.childRelated).toBe(true);
    expect((await filed({ service_code: "school_safety", ...far, description: "No crossing guard" })).ticket.childRelated).toBe(true);
  });

  it("keeps an address nobody knows as text, without a point", async () => {
    const { ticket } = await filed({ service_code: "waste", address_string: "Rue 12, building of the Khoury family" });
    expect(ticket).toMatchObject({ addressText: "Rue 12, building of the Khoury family", latitude: null, longitude: null, childRelated: false });
  });

  it("takes address_id as one of the town's places", async () => {
    const { ticket } = await filed({ service_code: "lighting", address_id: String(schoolId) });
    expect(ticket).toMatchObject({ latitude: SCHOOL.latitude, longitude: SCHOOL.longitude, locationApproximate: true, placeId: schoolId });
  });

  it("refuses a request that says nowhere, a point outside Lebanon, swapped coordinates, half a point, an unknown place", async () => {
    expect(await refused(await file({ api_key: key, service_code: "roads", description: "somewhere" }), 400)).toEqual(["lat and long, address_string or address_id: say where the problem is"]);
    expect(await refused(await file({ api_key: key, service_code: "roads", lat: "48.85", long: "2.35" }), 400)).toEqual(["lat/long: the point is outside Lebanon"]);
    expect(await refused(await file({ api_key: key, service_code: "roads", lat: "35.82", long: "33.79" }), 400)).toEqual(["lat/long: the point is outside Lebanon (are lat and long swapped?)"]);
    expect(await refused(await file({ api_key: key, service_code: "roads", lat: "33.8" }), 400)).toEqual(["lat and long: give both, or neither"]);
    expect(await refused(await file({ api_key: key, service_code: "roads", lat: "north", long: "35.8" }), 400)).toEqual(['lat: "north" is not a latitude in decimal degrees (WGS-84)']);
    expect(await refused(await file({ api_key: key, service_code: "roads", address_id: "999999" }), 400)).toEqual(["address_id: no such place"]);
    expect(await refused(await file({ api_key: key, service_code: "roads", address_id: "main-st" }), 400)).toEqual(['address_id: "main-st" is not a place id']);
  });
});

describe("a phone number links the request to a resident", () => {
  it("normalises it like a resident's; the request is then theirs when they ask about it by SMS", async () => {
    const phone = freshPhone();
    const local = `0${phone.slice(4, 5)} ${phone.slice(5, 8)} ${phone.slice(8)}`;
    const { ticket, created } = await filed({ service_code: "water", lat: "33.80", long: "35.83", description: "Pipe burst", phone: local }, "json", { "Accept-Language": "ar" });
    expect(ticket.resident?.phone).toBe(phone);
    expect(ticket.locale).toBe("ar");
    expect(created.service_notice).toContain("رسالة نصية");
    // The resident asks about it by SMS, by its number: it is theirs.
    const answer = await residentSays(app, phone, created.service_request_id);
    expect(answer).toContain(created.service_request_id);
  });

  it("refuses a phone number that is not a Lebanese one: the town texts it when the request is resolved", async () => {
    for (const phone of ["12", "+33 6 12 34 56 78", "+1 202 555 0143"]) {
      expect(await refused(await file({ api_key: key, service_code: "water", lat: "33.80", long: "35.83", phone }), 400)).toEqual(["phone: not a Lebanese phone number (03 123 456, +961 3 123 456)"]);
    }
  });

  it("two filings bringing the same new number at once make one resident", async () => {
    const phone = freshPhone();
    const answers = await Promise.all([1, 2, 3, 4].map((n) => file({ api_key: key, service_code: "water", lat: "33.80", long: "35.83", phone, description: `leak ${n}` })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(await world.db.resident.count({ where: { phone } })).toBe(1);
    expect(await world.db.ticket.count({ where: { resident: { phone } } })).toBe(4);
  });

  it("without a phone number the request has no resident, and the notice says how to follow it", async () => {
    const { ticket, created } = await filed({ service_code: "water", lat: "33.80", long: "35.83" });
    expect(ticket.residentId).toBeNull();
    expect(created.service_notice).toMatch(/Follow it with its number/);
  });
});

describe("the service's questions (attributes)", () => {
  it("stores the answers to stray animals' questions, both spellings of a list", async () => {
    const { ticket } = await filed({ service_code: "stray_animals", lat: "33.80", long: "35.83", "attribute[how_many]": "two_to_five", "attribute[animal_kind][]": "dogs" });
    expect(JSON.parse(ticket.open311Submission!.attributes)).toEqual({ how_many: ["two_to_five"], animal_kind: ["dogs"] });
    expect(ticket.department).toBe("health");
  });

  it("refuses an answer outside the list, an unknown question, several values for one", async () => {
    const problems = await refused(
      await file({ api_key: key, service_code: "stray_animals", lat: "33.80", long: "35.83", "attribute[how_many]": ["one", "two_to_five"], "attribute[colour]": "brown", "attribute[animal_kind]": "lions" }),
      400,
    );
    expect(problems).toEqual(["unknown attribute colour", "attribute how_many takes one value", "attribute animal_kind must be one of: dogs, cats, other"]);
    expect(await world.db.open311Submission.count({ where: { attributes: { contains: "lions" } } })).toBe(0);
  });
});

describe("what cannot be filed", () => {
  it("needs a key: none or a wrong one is 403; a revoked one stops working", async () => {
    expect(await refused(await file({ service_code: "roads", lat: "33.8", long: "35.8" }), 403)).toEqual(["api_key: filing a request needs a client key from the municipality"]);
    expect(await refused(await file({ api_key: "o311_" + "x".repeat(32), service_code: "roads", lat: "33.8", long: "35.8" }, "xml"), 403)).toEqual(["api_key: not a valid client key (unknown or revoked)"]);
    const doomed = await createKey("Old app");
    expect((await file({ api_key: doomed.key, service_code: "roads", lat: "33.8", long: "35.8" })).status).toBe(200);
    await revokeOpen311Client(world.db, MUNICIPALITY, doomed.record.id, new Date());
    expect(await refused(await file({ api_key: doomed.key, service_code: "roads", lat: "33.8", long: "35.8" }), 403)).toEqual(["api_key: not a valid client key (unknown or revoked)"]);
  });

  it("a key revoked after it was checked (while the request was being read) files nothing", async () => {
    const late = await createKey("Revoked mid-request");
    await revokeOpen311Client(world.db, MUNICIPALITY, late.record.id, new Date());
    const before = await world.db.ticket.count();
    const outcome = await fileOpen311Request(
      world.db,
      { serviceCode: "roads", point: { latitude: 33.8, longitude: 35.8 }, addressString: null, addressId: null, description: null, mediaUrls: [], email: null, phone: null, firstName: null, lastName: null, deviceId: null, accountId: null, attributes: new Map(), locale: "en" },
      { municipalityId: MUNICIPALITY, client: { id: late.record.id, name: late.record.name }, now: new Date(), randomInt: (n) => Math.floor(Math.random() * n), zoneMetres: 150 },
    );
    expect(outcome).toEqual({ ok: false, status: 403, problems: ["api_key: not a valid client key (unknown or revoked)"] });
    expect(await world.db.ticket.count()).toBe(before);
  });

  it("an unknown, private or inactive service is a 400 naming service_code; nothing is filed", async () => {
    const before = await world.db.ticket.count();
    await world.db.category.update({ where: { municipalityId_code: { municipalityId: MUNICIPALITY, code: "sewage" } }, data: { active: false } });
    for (const code of ["potholes", "certificates", "sewage"]) {
      expect(await refused(await file({ api_key: key, service_code: code, lat: "33.8", long: "35.8" }), 400)).toEqual(["service_code: no such service (services.xml lists them)"]);
    }
    await world.db.category.update({ where: { municipalityId_code: { municipalityId: MUNICIPALITY, code: "sewage" } }, data: { active: true } });
    expect(await refused(await file({ api_key: key, lat: "33.8", long: "35.8" }), 400)).toEqual(["service_code: required (services.xml lists the codes)"]);
    expect(await world.db.ticket.count()).toBe(before);
  });

  it("checks every field's shape and says everything wrong at once", async () => {
    const problems = await refused(
      await file({ api_key: key, service_code: "roads", lat: "33.8", long: "35.8", description: "x".repeat(4001), email: "not-an-address", media_url: ["javascript:alert(1)", "https://x.org/\u202egpj.exe"], first_name: "A\nB" }),
      400,
    );
    expect(problems).toEqual([
      "description: at most 4000 characters",
      'media_url: "javascript:alert(1)" is not an http(s) address',
      'media_url: "https://x.org/\\u202egpj.exe" is not an http(s) address',
      'email: "not-an-address" is not an e-mail address',
      "first_name: must be one line of text without control characters",
    ]);
  });

  it("a description of 4,000 Arabic characters is taken whole", async () => {
    const description = "ح".repeat(4000);
    const { ticket } = await filed({ service_code: "roads", lat: "33.8", long: "35.8", description });
    expect(ticket.description).toBe(description);
  });

  it("refuses a JSON body, a file upload and a NUL, in the format asked", async () => {
    const json = await request(app).post("/open311/v2/requests.json").send({ api_key: key, service_code: "roads" });
    expect(await refused(json, 400)).toEqual(["Send the request form-encoded (application/x-www-form-urlencoded), as GeoReport v2 says"]);
    const upload = await request(app).post("/open311/v2/requests.xml").field("api_key", key).field("service_code", "roads").attach("media", Buffer.from("GIF89a"), "photo.gif");
    expect(await refused(upload, 400)).toEqual(["media: files are not taken here; send a link as media_url"]);
    expect(await refused(await file({ api_key: key, service_code: "roads", lat: "33.8", long: "35.8", description: "a\u0000b" }), 400)).toEqual(["Text must not contain NUL characters"]);
  });

  it("takes multipart forms without files, repeats kept", async () => {
    const res = await request(app)
      .post("/open311/v2/requests.json")
      .field("api_key", key)
      .field("service_code", "stray_animals")
      .field("lat", "33.8")
      .field("long", "35.8")
      .field("attribute[animal_kind][]", "cats")
      .field("attribute[how_many]", "one")
      .field("media_url", "https://example.org/a.jpg")
      .field("media_url", "https://example.org/b.jpg")
      .field("locale", "en");
    expect(res.status, res.text).toBe(200);
    const submission = await world.db.open311Submission.findFirstOrThrow({ where: { ticket: { reference: Number(res.body[0].service_request_id) } } });
    expect(JSON.parse(submission.attributes)).toEqual({ how_many: ["one"], animal_kind: ["cats"] });
    expect(JSON.parse(submission.mediaUrls)).toEqual(["https://example.org/a.jpg", "https://example.org/b.jpg"]);
    expect((await world.db.ticket.findUniqueOrThrow({ where: { id: submission.ticketId } })).locale).toBe("en");
  });

  it("another jurisdiction is a 404; the configured one is accepted", async () => {
    expect(await refused(await file({ api_key: key, jurisdiction_id: "beirut.gov.lb", service_code: "roads", lat: "33.8", long: "35.8" }), 404)).toHaveLength(1);
    expect((await file({ api_key: key, jurisdiction_id: open311Defaults(PUBLIC_BASE_URL).jurisdictionId, service_code: "roads", lat: "33.8", long: "35.8" })).status).toBe(200);
  });
});

describe("a client that sends the same request twice", () => {
  it("gets the same number back and one ticket (a retry after a timeout)", async () => {
    const fields = { service_code: "lighting", lat: "33.7990", long: "35.8310", description: "Three lamps out on the main road", device_id: "retry-1" };
    const first = await filed(fields);
    const again = await filed(fields);
    expect(again.created.service_request_id).toBe(first.created.service_request_id);
    expect(await world.db.open311Submission.count({ where: { deviceId: "retry-1" } })).toBe(1);
  });

  it("even when the two arrive at the same moment", async () => {
    const fields = { api_key: key, service_code: "lighting", lat: "33.7991", long: "35.8311", description: "Sent twice at once", device_id: "retry-2" };
    const answers = await Promise.all([file(fields), file(fields), file(fields)]);
    expect(new Set(answers.map((a) => a.body[0].service_request_id)).size).toBe(1);
    expect(await world.db.open311Submission.count({ where: { deviceId: "retry-2" } })).toBe(1);
  });

  it("but another client sending the same words files its own", async () => {
    const fields = { service_code: "lighting", lat: "33.7990", long: "35.8310", description: "Three lamps out on the main road", device_id: "retry-1" };
    const res = await file({ api_key: otherKey, ...fields });
    expect(res.status).toBe(200);
    expect(await world.db.open311Submission.count({ where: { deviceId: "retry-1" } })).toBe(2);
  });
});

describe("limits", () => {
  it("a key may file OPEN311_WRITES_PER_MINUTE requests a minute; then 429 in the format asked", async () => {
    const limited = createApp({ ...world.deps, open311: { ...open311Defaults(PUBLIC_BASE_URL), writesPerMinute: 2 } });
    const { key: limitedKey } = await createKey("Busy client");
    const post = (format: "json" | "xml", k = limitedKey) =>
      request(limited)
        .post(`/open311/v2/requests.${format}`)
        .type("form")
        .send(encode({ api_key: k, service_code: "roads", lat: "33.8", long: "35.8", description: `busy ${Math.random()}` }));
    expect((await post("json")).status).toBe(200);
    expect((await post("json")).status).toBe(200);
    const third = await post("xml");
    expect(await refused(third, 429)).toEqual(["Too many requests filed: at most 2 a minute with one key; try again in a minute"]);
    // Another key has its own budget.
    expect((await post("json", otherKey)).status).toBe(200);
  });

  it("an unknown format is a 404, a POST to the updates is a 400", async () => {
    expect((await request(app).post("/open311/v2/requests.html").type("form").send("api_key=x")).status).toBe(404);
    expect(await refused(await request(app).post("/open311/v2/servicerequestupdates.json").type("form").send(encode({ api_key: key })), 400)).toHaveLength(1);
  });
});
