import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../../src/db/createDb.js";
import type { Prisma } from "../../../src/generated/sqlite/client.js";
import { beirutW3c } from "../../../src/lib/beirutTime.js";
import { REDACTED } from "../../../src/services/open311/privacy.js";
import { listPublicRequests, MAX_DESCRIPTION, publicRequest } from "../../../src/services/open311/requests.js";
import type { O311Request, PublicRequestsQuery } from "../../../src/services/open311/types.js";
import type { Actor } from "../../../src/services/staff.js";
import { addNote, changeStatus, replyToTicket, setOpen311Hidden } from "../../../src/services/staffActions.js";
import { foldDigits } from "../../../src/understand/foldDigits.js";
import { inbound } from "../../support/builders.js";
import { residentFiles, staffMember, type World } from "../../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";

/** W3C datetime with an offset and no milliseconds, as Open311 clients expect. */
const NO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;
const FIELDS: Array<keyof O311Request> = [
  "service_request_id",
  "status",
  "status_notes",
  "service_name",
  "service_code",
  "description",
  "agency_responsible",
  "service_notice",
  "requested_datetime",
  "updated_datetime",
  "expected_datetime",
  "address",
  "address_id",
  "zipcode",
  "lat",
  "long",
  "media_url",
];

let world: World;
let hala: Actor; // admin
let residentId: number;
const categoryIds = new Map<string, number>();
beforeAll(async () => {
  world = await createTestWorld();
  hala = await staffMember(world, { username: "hala", role: "admin" });
  residentId = (await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: "+96170111222", profileName: "Nour Khoury" } })).id;
  for (const c of await world.db.category.findMany({ where: { municipalityId: MUNICIPALITY } })) categoryIds.set(c.code, c.id);
  // Whatever the seed says today, the test decides which category is private.
  await world.db.category.update({ where: { municipalityId_code: { municipalityId: MUNICIPALITY, code: "certificates" } }, data: { isPrivate: true } });
});
afterAll(async () => {
  await world.drop();
});

let nextReference = 50_000;
/** A ticket written straight to the database: roads (public works) by default. */
async function ticket(fields: Partial<Prisma.TicketUncheckedCreateInput> & { category?: string | null } = {}) {
  const { category = "roads", ...rest } = fields;
  const categoryId = category === null ? null : categoryIds.get(category)!;
  return world.db.ticket.create({
    data: {
      municipalityId: MUNICIPALITY,
      reference: ++nextReference,
      residentId,
      description: "حفرة كبيرة بالطريق",
      channel: "sms",
      locale: "ar",
      categoryId,
      department: "public_works",
      ...rest,
    },
  });
}

const ids = (references: number[]): PublicRequestsQuery => ({ kind: "ids", references });
const one = async (reference: number, locale: "ar" | "en" = "en") => publicRequest(world.db, MUNICIPALITY, reference, locale);
const outbox = (now: Date) => ({ ...world.deps.outbox, now });
const status = (reference: number, to: string, now: Date, publicNote?: string) =>
  world.db.$transaction(async (tx) => {
    const result = await changeStatus(tx, outbox(now), hala, reference, to, publicNote);
    if (!result.ok) throw new Error(result.message);
    return result;
  });

describe("the fields of a request", () => {
  it("maps a ticket field by field: strings for ids, Beirut time without milliseconds, rounded numbers for the point", async () => {
    const t = await ticket({
      createdAt: new Date("2026-11-29T07:15:00.456Z"),
      description: "  Huge pothole in front of the bakery, call me on 03 123 456  ",
      addressText: "Main road, by the mosque (ask for 71-222-333)",
      latitude: 33.79341234567,
      longitude: 35.82371987654,
    });
    const request = await one(t.reference);
    expect(request).toEqual({
      service_request_id: String(t.reference),
      status: "open",
      status_notes: null,
      service_name: "Roads and potholes",
      service_code: "roads",
      description: `Huge pothole in front of the bakery, call me on ${REDACTED}`,
      agency_responsible: "Public works",
      service_notice: null,
      requested_datetime: "2026-11-29T09:15:00+02:00",
      updated_datetime: "2026-11-29T09:15:00+02:00",
      expected_datetime: null,
      address: `Main road, by the mosque (ask for ${REDACTED})`,
      address_id: null,
      zipcode: null,
      lat: 33.7934, // to 4 decimals (about 11 m): not a resident's door
      long: 35.8237,
      media_url: null,
    } satisfies O311Request);
    expect(Object.keys(request!).sort()).toEqual([...FIELDS].sort());
  });

  it("names the service and the department in the language asked", async () => {
    const t = await ticket();
    expect(await one(t.reference, "ar")).toMatchObject({ service_name: "طرقات وحفر", agency_responsible: "الأشغال العامة", service_code: "roads" });
    expect(await one(t.reference, "en")).toMatchObject({ service_name: "Roads and potholes", agency_responsible: "Public works" });
  });

  it("summer time is +03:00; without an address the matched place's name; without a point no coordinates", async () => {
    const place = await world.db.place.create({ data: { municipalityId: MUNICIPALITY, kind: "landmark", nameAr: "ساحة البلدية", nameEn: "Town hall square", latitude: 33.79, longitude: 35.82 } });
    const t = await ticket({ createdAt: new Date("2026-07-01T06:00:00.999Z"), placeId: place.id, addressText: "  ", latitude: 33.8, longitude: null });
    expect(await one(t.reference, "en")).toMatchObject({ requested_datetime: "2026-07-01T09:00:00+03:00", address: "Town hall square", lat: null, long: null });
    expect((await one(t.reference, "ar"))?.address).toBe("ساحة البلدية");
    const nowhere = await ticket({ addressText: null });
    expect((await one(nowhere.reference))?.address).toBeNull();
  });

  it("a department without a row is named by its code; none is null", async () => {
    expect((await one((await ticket({ department: "roads_unit" })).reference))?.agency_responsible).toBe("roads_unit");
    expect((await one((await ticket({ department: null })).reference))?.agency_responsible).toBeNull();
  });

  it("a description is cut at 4,000 code points, after masking; an empty one is null", async () => {
    const long = await ticket({ description: `71 123 456 ${"😀".repeat(MAX_DESCRIPTION)}` });
    const description = (await one(long.reference))!.description!;
    expect([...description]).toHaveLength(MAX_DESCRIPTION);
    expect(description.startsWith(`${REDACTED} 😀`)).toBe(true);
    expect((await one((await ticket({ description: "" })).reference))?.description).toBeNull();
  });

  it.each([
    ["new", "open"],
    ["waiting_staff", "open"],
    ["in_progress", "open"],
    ["resolved", "closed"],
    ["closed", "closed"],
  ])("status %s is %s", async (baladiya, open311) => {
    expect((await one((await ticket({ status: baladiya })).reference))?.status).toBe(open311);
  });
});

describe("status_notes and updated_datetime", () => {
  it("follow the public notes staff write, not replies, internal notes or moves that stay open; a reopening clears the note", async () => {
    const filed = await residentFiles(world);
    const { reference } = filed;
    const day = 86_400_000;
    const start = Date.now() - 10 * day;
    const at = (days: number) => new Date(start + days * day);
    await world.db.ticket.update({ where: { municipalityId_reference: { municipalityId: MUNICIPALITY, reference } }, data: { createdAt: at(0) } });
    const read = async () => (await one(reference))!;

    expect(await read()).toMatchObject({ status: "open", status_notes: null, updated_datetime: beirutW3c(at(0)) });

    await status(reference, "in_progress", at(1), "  Crew booked for Tuesday  ");
    expect(await read()).toMatchObject({ status: "open", status_notes: "Crew booked for Tuesday", updated_datetime: beirutW3c(at(1)) });

    // An internal move that stays open: nothing public happened.
    await status(reference, "waiting_staff", at(2));
    expect(await read()).toMatchObject({ status_notes: "Crew booked for Tuesday", updated_datetime: beirutW3c(at(1)) });

    // The same status with a note: only the note.
    await status(reference, "waiting_staff", at(3), "Waiting for asphalt");
    expect(await read()).toMatchObject({ status: "open", status_notes: "Waiting for asphalt", updated_datetime: beirutW3c(at(3)) });

    // A reply to the resident (which moves the ticket to in progress) and an internal note are never public.
    await world.db.$transaction((tx) => replyToTicket(tx, outbox(at(4)), hala, reference, "Private reply: call the foreman on 03 777 888"));
    await world.db.$transaction((tx) => addNote(tx, hala, reference, "Internal: the contractor is the mayor's cousin", at(4)));
    const afterReply = await read();
    expect(afterReply).toMatchObject({ status_notes: "Waiting for asphalt", updated_datetime: beirutW3c(at(3)) });
    expect(JSON.stringify(afterReply)).not.toMatch(/Private reply|foreman|contractor|cousin/);

    await status(reference, "resolved", at(5), "Filled. Questions: 05 123 456");
    expect(await read()).toMatchObject({ status: "closed", status_notes: `Filled. Questions: ${REDACTED}`, updated_datetime: beirutW3c(at(5)) });

    // The resident answers the resolution notice with "1": the request is open again, without the old note.
    await world.inbox(inbound({ from: filed.from, text: "1" }));
    const reopened = await world.db.ticketEvent.findFirstOrThrow({ where: { kind: "reopened", ticket: { reference } } });
    expect(await read()).toMatchObject({ status: "open", status_notes: null, updated_datetime: beirutW3c(reopened.createdAt) });
    expect((await read()).updated_datetime).toMatch(NO_MS);
  });

  it("a move between open and closed without a note clears the previous note", async () => {
    const t = await ticket({ createdAt: new Date("2026-01-10T08:00:00Z") });
    await status(t.reference, "in_progress", new Date("2026-01-11T08:00:00Z"), "Crew on the way");
    await status(t.reference, "closed", new Date("2026-01-12T08:00:00Z"));
    expect(await one(t.reference)).toMatchObject({ status: "closed", status_notes: null, updated_datetime: "2026-01-12T10:00:00+02:00" });
  });
});

describe("what is never served", () => {
  it("private, hidden, payment, finance, uncategorised and other towns' requests: absent from lists, null by id", async () => {
    const window = { start: new Date("2025-05-01T00:00:00Z"), end: new Date("2025-05-02T00:00:00Z") };
    const when = (minutes: number) => new Date(window.start.getTime() + minutes * 60_000);
    const a = await ticket({ createdAt: when(1) });
    const b = await ticket({ createdAt: when(2), category: "water", department: "water" });
    const c = await ticket({ createdAt: when(3), department: null });
    const hidden = await ticket({ createdAt: when(4) });
    await world.db.$transaction((tx) => setOpen311Hidden(tx, hala, hidden.reference, true, when(5)));
    const privateOne = await ticket({ createdAt: when(6), category: "certificates", department: "administration" });
    const finance = await ticket({ createdAt: when(7), department: "finance" });
    const uncategorised = await ticket({ createdAt: when(8), category: null });
    const payment = await ticket({ createdAt: when(9), category: null, department: "finance" });
    const account = await world.db.account.create({ data: { municipalityId: MUNICIPALITY, number: "QE-77", holderName: "Holder", accountType: "property", verificationCodeHash: "x" } });
    await world.db.paymentReport.create({ data: { municipalityId: MUNICIPALITY, ticketId: payment.id, accountId: account.id, amount: "100", currency: "USD", paidAt: "OMT" } });
    const paymentInRoads = await ticket({ createdAt: when(10) });
    await world.db.paymentReport.create({ data: { municipalityId: MUNICIPALITY, ticketId: paymentInRoads.id, accountId: account.id, amount: "5", currency: "USD", paidAt: "bank" } });
    const otherResident = await world.db.resident.create({ data: { municipalityId: "zahle", phone: "+96170111222" } });
    const otherTown = await world.db.ticket.create({
      data: { municipalityId: "zahle", reference: a.reference + 900_000, residentId: otherResident.id, description: "x", channel: "sms", locale: "ar", categoryId: categoryIds.get("roads")!, createdAt: when(11) },
    });
    const hiddenAway = [hidden, privateOne, finance, uncategorised, payment, paymentInRoads, otherTown].map((t) => t.reference);

    const listed = await listPublicRequests(world.db, MUNICIPALITY, { kind: "search", serviceCodes: [], statuses: [], ...window, limit: 1000 }, "en");
    expect(listed.map((r) => r.service_request_id)).toEqual([c, b, a].map((t) => String(t.reference)));
    for (const reference of hiddenAway) expect(await one(reference), `#${reference}`).toBeNull();
    expect(await one(otherTown.reference)).toBeNull();
    expect(await publicRequest(world.db, "zahle", a.reference, "en")).toBeNull();

    // Asked by id: only the public ones, in the order asked, each once.
    const asked = [c.reference, hidden.reference, a.reference, 99_999_999, a.reference, payment.reference, b.reference, finance.reference, privateOne.reference, uncategorised.reference];
    const byId = await listPublicRequests(world.db, MUNICIPALITY, ids(asked), "en");
    expect(byId.map((r) => r.service_request_id)).toEqual([c, a, b].map((t) => String(t.reference)));
    expect(await listPublicRequests(world.db, MUNICIPALITY, ids([0, -1, 3_000_000_000, 1.5]), "en")).toEqual([]);

    // Shown again, it is back.
    await world.db.$transaction((tx) => setOpen311Hidden(tx, hala, hidden.reference, false, when(12)));
    expect((await one(hidden.reference))?.service_request_id).toBe(String(hidden.reference));
  });

  it("nothing of the resident: not their phone number or name, not a number they typed, not replies or internal notes", async () => {
    const filed = await residentFiles(world, { lines: ["في جورة كبيرة بالطريق العام، اتصلوا على ٠٣ ١٢٣ ٤٥٦", "1", "قدام الجامع، البناية رقم 12، تلفون 76/555444", "1"] });
    await world.db.resident.updateMany({ where: { phone: filed.from }, data: { profileName: "Samira Haddad" } });
    await world.db.$transaction((tx) => replyToTicket(tx, outbox(new Date()), hala, filed.reference, "Reply only for Samira"));
    await world.db.$transaction((tx) => addNote(tx, hala, filed.reference, "Internal note about Samira", new Date()));
    await status(filed.reference, "resolved", new Date(), "Fixed");

    const day = 86_400_000;
    const range = { start: new Date(Date.now() - day), end: new Date(Date.now() + day) };
    const served = [
      await listPublicRequests(world.db, MUNICIPALITY, ids([filed.reference]), "ar"),
      await listPublicRequests(world.db, MUNICIPALITY, ids([filed.reference]), "en"),
      await listPublicRequests(world.db, MUNICIPALITY, { kind: "search", serviceCodes: [], statuses: [], ...range, limit: 1000 }, "en"),
    ].flat();
    expect(served.some((r) => r.service_request_id === String(filed.reference))).toBe(true);
    const text = JSON.stringify(served);
    // Digits folded and separators dropped, so "٠٣ ١٢٣ ٤٥٦" counts as 03123456.
    const bare = foldDigits(text).replace(/[\s/\-+.()]/g, "");
    for (const secret of [filed.from.replace("+961", ""), "3123456", "76555444"]) expect(bare).not.toContain(secret);
    expect(text).not.toMatch(/Samira|Haddad|Nour|Khoury|Reply only|Internal note/);
    const mine = served.find((r) => r.service_request_id === String(filed.reference))!;
    expect(mine.description).toBe(`في جورة كبيرة بالطريق العام، اتصلوا على ${REDACTED}`);
    expect(mine.address).toBe(`قدام الجامع، البناية رقم 12، تلفون ${REDACTED}`);
    for (const r of served) {
      expect(Object.keys(r).sort()).toEqual([...FIELDS].sort());
      expect(r.requested_datetime).toMatch(NO_MS);
      expect(r.updated_datetime).toMatch(NO_MS);
    }
  });
});

describe("searching", () => {
  const window = { start: new Date("2025-03-01T00:00:00Z"), end: new Date("2025-03-08T00:00:00Z") };
  const day = (n: number, hour = 10) => new Date(Date.UTC(2025, 2, n, hour));
  const refs = { before: 0, atStart: 0, water: 0, lighting: 0, roadsClosed: 0, tieFirst: 0, tieSecond: 0, atEnd: 0 };
  beforeAll(async () => {
    refs.before = (await ticket({ createdAt: new Date(window.start.getTime() - 1) })).reference;
    refs.atStart = (await ticket({ createdAt: window.start, status: "new" })).reference;
    refs.water = (await ticket({ createdAt: day(2), category: "water", department: "water", status: "resolved" })).reference;
    refs.lighting = (await ticket({ createdAt: day(3), category: "lighting", department: "electricity", status: "in_progress" })).reference;
    refs.roadsClosed = (await ticket({ createdAt: day(4), status: "closed" })).reference;
    refs.tieFirst = (await ticket({ createdAt: day(5), status: "waiting_staff" })).reference;
    refs.tieSecond = (await ticket({ createdAt: day(5), category: "water", department: "water" })).reference;
    refs.atEnd = (await ticket({ createdAt: window.end })).reference;
  });

  const search = async (filters: Partial<Extract<PublicRequestsQuery, { kind: "search" }>> = {}) =>
    (await listPublicRequests(world.db, MUNICIPALITY, { kind: "search", serviceCodes: [], statuses: [], ...window, limit: 1000, ...filters }, "en")).map((r) => Number(r.service_request_id));

  it("selects start ≤ requested < end, newest first (the later id first on a tie)", async () => {
    expect(await search()).toEqual([refs.tieSecond, refs.tieFirst, refs.roadsClosed, refs.lighting, refs.water, refs.atStart]);
  });

  it("filters by service codes; an unknown code matches nothing", async () => {
    expect(await search({ serviceCodes: ["water"] })).toEqual([refs.tieSecond, refs.water]);
    expect(await search({ serviceCodes: ["water", "lighting"] })).toEqual([refs.tieSecond, refs.lighting, refs.water]);
    expect(await search({ serviceCodes: ["no_such_service"] })).toEqual([]);
    expect(await search({ serviceCodes: ["no_such_service", "lighting"] })).toEqual([refs.lighting]);
    expect(await search({ serviceCodes: ["certificates"] })).toEqual([]);
  });

  it("filters by Open311 status", async () => {
    expect(await search({ statuses: ["open"] })).toEqual([refs.tieSecond, refs.tieFirst, refs.lighting, refs.atStart]);
    expect(await search({ statuses: ["closed"] })).toEqual([refs.roadsClosed, refs.water]);
    expect(await search({ statuses: ["open", "closed"] })).toEqual(await search());
    expect(await search({ statuses: ["closed"], serviceCodes: ["roads"] })).toEqual([refs.roadsClosed]);
  });

  it("stops at the limit", async () => {
    expect(await search({ limit: 2 })).toEqual([refs.tieSecond, refs.tieFirst]);
    expect(await search({ limit: 0 })).toEqual([]);
  });

  it("asks the database the same number of times for one request as for many", async () => {
    const counted = countingDb(world.db);
    await listPublicRequests(counted.db, MUNICIPALITY, ids([refs.water]), "en");
    const forOne = counted.calls();
    await listPublicRequests(counted.db, MUNICIPALITY, { kind: "search", serviceCodes: [], statuses: [], ...window, limit: 1000 }, "en");
    const forSix = counted.calls() - forOne;
    expect(forOne).toBe(2); // the tickets (their category, place and events come with them) and the departments
    expect(forSix).toBe(forOne);
  });
});

/** The client, counting the model calls made through it (a relation read with its rows is part of that call). */
function countingDb(db: Db) {
  let calls = 0;
  const delegates = new Map<PropertyKey, unknown>();
  const proxy = new Proxy(db, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "object" || value === null || !("findMany" in value)) return value;
      if (!delegates.has(property)) {
        delegates.set(
          property,
          new Proxy(value, {
            get(delegate, method) {
              const fn: unknown = Reflect.get(delegate, method, delegate);
              return typeof fn === "function" ? (...args: unknown[]) => (calls++, Reflect.apply(fn, delegate, args)) : fn;
            },
          }),
        );
      }
      return delegates.get(property);
    },
  });
  return { db: proxy, calls: () => calls };
}
