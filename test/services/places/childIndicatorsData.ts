import type { Db } from "../../../src/db/createDb.js";

/**
 * A fixed town for the child-safety indicators, shared by the service, page and API tests. Every
 * expected figure in those tests is worked out by hand from the tables below.
 *
 * Now is Sunday 15 March 2026, 10:00 in Beirut (08:00 UTC; Beirut is UTC+2 until 29 March).
 * This month: 1 March 00:00 Beirut = 2026-02-28T22:00Z, until now. Last month: February,
 * 2026-01-31T22:00Z to 2026-02-28T22:00Z. Rates: from 15 March 2025 00:00 Beirut = 2025-03-14T22:00Z.
 *
 * Places (child zone 150 m): a school S, a playground P 780 m away, a kindergarten K far from
 * everything; a park that is not child-related and a pharmacy are not listed. 0.001° of latitude
 * is 111 m.
 *
 * Open requests:
 * | ref   | category          | department     | status        | child | area | point            | filed            |
 * | 30001 | parks_playgrounds | public_works   | new           | yes   | A1   | S                | 2026-03-10 08:00Z |
 * | 30002 | roads             | public_works   | in_progress   | yes   | A1   | S + 111 m        | 2026-03-01 08:00Z |
 * | 30003 | waste             | sanitation     | waiting_staff | yes   | A2   | P + 145 m        | 2026-02-20 08:00Z |
 * | 30004 | school_safety     | public_works   | new           | yes   | A1   | S + 167 m (out)  | 2026-03-12 08:00Z |
 * | 30005 | water             | water          | new           | no    | A2   | P                | 2026-03-14 08:00Z |
 * | 30006 | (none)            | administration | new           | yes   | —    | none             | 2026-03-05 08:00Z |
 * | 30007 | payment report    | finance        | new           | no    | —    | S (not a place)  | 2026-03-13 08:00Z |
 * | 30010 | roads             | public_works   | in_progress   | no    | —    | none; resolved 5 March, reopened 6 March |
 * 30004 was filed when the zone was wider: its childZonePlaceId is S, but it is 167 m away.
 * Another town's open child-related request at S must never count.
 *
 * Resolved or closed:
 * | ref   | category          | department   | child | area | filed             | resolved            | days | month |
 * | 31001 | parks_playgrounds | public_works | yes   | A1   | 2026-03-02 08:00Z | 2026-03-03 08:00Z   | 1    | Mar   |
 * | 31002 | school_safety     | public_works | yes   | A2   | 2026-02-26 22:30Z | 2026-02-28 22:30Z   | 2    | Mar (00:30 on 1 March in Beirut) |
 * | 31003 | waste             | sanitation   | yes   | A2   | 2026-03-05 08:00Z | 2026-03-09 08:00Z   | 4    | Mar (resolved 6th, reopened 7th, resolved 9th, closed 10th) |
 * | 31004 | roads             | public_works | no    | A1   | 2026-03-01 08:00Z | 2026-03-04 08:00Z   | 3    | Mar   |
 * | 31005 | (finance)         | finance      | no    | —    | 2026-03-07 08:00Z | 2026-03-08 20:00Z   | 1.5  | Mar   |
 * | 31006 | parks_playgrounds | public_works | yes   | A1   | 2026-02-10 08:00Z | 2026-02-11 20:00Z   | 1.5  | Feb   |
 * | 31007 | water             | water        | yes   | A3   | 2026-02-21 21:30Z | 2026-02-28 21:30Z   | 7    | Feb (23:30 on 28 Feb in Beirut) |
 * | 31008 | roads             | public_works | no    | A1   | 2026-01-25 08:00Z | 2026-02-01 08:00Z   | 7    | Feb   |
 * | 31009 | roads             | public_works | no    | A1   | 2026-01-20 21:59Z | 2026-01-31 21:59Z   | 11   | Jan (23:59 on 31 Jan in Beirut) |
 * | 32001 | parks_playgrounds | public_works | yes   | A1   | 2025-03-14 21:00Z (before the rate window) | 2025-03-20 | | |
 * | 32002 | parks_playgrounds | public_works | yes   | A1   | 2025-03-14 22:30Z (inside it)             | 2025-03-20 | | |
 *
 * Areas: A1 "Centre" 1,200 children, A2 "Wadi al-Delm" 500, A3 "Saadnayel Road" not entered,
 * A4 "Industrial zone" 0 entered (as good as unknown).
 */
export const INDICATORS_NOW = new Date("2026-03-15T08:00:00.000Z");
export const MUNICIPALITY = "qab-elias";

export const SCHOOL = { latitude: 33.794, longitude: 35.8231 };
export const PLAYGROUND = { latitude: 33.801, longitude: 35.829 };

/** What residents wrote and who they are: none of it may come out of the indicators. */
export const SECRETS = {
  financeDescription: "my bill for account 77-4411 is wrong, PIN 9931",
  paymentDescription: "Payment reported: 1,250,000 LBP at OMT, receipt 8841, account 10-2345",
  childDescription: "الأرجوحة مكسورة والولاد عم يوقعوا",
  phone: "+96176123456",
  profileName: "Rima Haddad",
};

export interface IndicatorsTown {
  areas: { a1: number; a2: number; a3: number; a4: number };
  places: { school: number; playground: number; kindergarten: number; park: number; pharmacy: number };
  categories: Record<string, number>;
}

const at = (iso: string) => new Date(iso);

/**
 * Writes the town above into a database that has the seeded categories and departments. `names`
 * overrides the areas' English names (the page test uses a hostile one).
 */
export async function seedIndicatorsTown(db: Db, names: Partial<Record<"a1" | "a2" | "a3" | "a4", string>> = {}): Promise<IndicatorsTown> {
  const categories = Object.fromEntries((await db.category.findMany({ where: { municipalityId: MUNICIPALITY } })).map((c) => [c.code, c.id]));
  const square = JSON.stringify({ type: "Polygon", coordinates: [[[35.81, 33.78], [35.83, 33.78], [35.83, 33.8], [35.81, 33.8], [35.81, 33.78]]] });
  const area = async (nameAr: string, nameEn: string, childPopulation: number | null) =>
    (await db.area.create({ data: { municipalityId: MUNICIPALITY, nameAr, nameEn, childPopulation, geometry: square } })).id;
  const areas = {
    a1: await area("الوسط", names.a1 ?? "Centre", 1200),
    a2: await area("وادي الدلم", names.a2 ?? "Wadi al-Delm", 500),
    a3: await area("طريق سعدنايل", names.a3 ?? "Saadnayel Road", null),
    a4: await area("المنطقة الصناعية", names.a4 ?? "Industrial zone", 0),
  };
  const place = async (kind: string, nameAr: string, nameEn: string, childRelated: boolean, point: { latitude: number; longitude: number }) =>
    (await db.place.create({ data: { municipalityId: MUNICIPALITY, kind, nameAr, nameEn, childRelated, ...point } })).id;
  const places = {
    school: await place("school", "مدرسة قب الياس الرسمية", "Qab Elias Public School", true, SCHOOL),
    playground: await place("playground", "ملعب وادي الدلم", "Wadi al-Delm Playground", true, PLAYGROUND),
    kindergarten: await place("kindergarten", "روضة الزهور", "Al-Zuhur Kindergarten", true, { latitude: 33.78, longitude: 35.8 }),
    park: await place("park", "الحديقة العامة", "Public Garden", false, SCHOOL),
    pharmacy: await place("pharmacy", "صيدلية الشفاء", "Al-Shifaa Pharmacy", false, PLAYGROUND),
  };
  // Another town's school at the same point: its places and requests are not ours.
  await db.place.create({ data: { municipalityId: "zahle", kind: "school", nameAr: "مدرسة زحلة", nameEn: "Zahle School", childRelated: true, ...SCHOOL } });

  const resident = (await db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: SECRETS.phone, profileName: SECRETS.profileName, locale: "ar" } })).id;
  const stranger = (await db.resident.create({ data: { municipalityId: "zahle", phone: "+96176999888", locale: "ar" } })).id;

  type Fields = {
    category?: string;
    department: string;
    status: string;
    child: boolean;
    area?: number;
    point?: { latitude: number; longitude: number };
    created: string;
    description?: string;
    zonePlace?: number;
  };
  const ticket = (reference: number, f: Fields) =>
    db.ticket.create({
      data: {
        municipalityId: MUNICIPALITY,
        reference,
        residentId: resident,
        channel: "sms",
        locale: "ar",
        description: f.description ?? SECRETS.childDescription,
        categoryId: f.category ? categories[f.category]! : null,
        department: f.department,
        status: f.status,
        childRelated: f.child,
        areaId: f.area ?? null,
        latitude: f.point?.latitude ?? null,
        longitude: f.point?.longitude ?? null,
        childZonePlaceId: f.zonePlace ?? null,
        childZoneMetres: f.zonePlace ? 140 : null,
        createdAt: at(f.created),
      },
    });
  const north = (point: { latitude: number; longitude: number }, degrees: number) => ({ latitude: point.latitude + degrees, longitude: point.longitude });
  const event = (ticketId: number, kind: string, data: object, createdAt: string) =>
    db.ticketEvent.create({ data: { ticketId, actorType: kind === "reopened" ? "resident" : "staff", kind, data: JSON.stringify(data), createdAt: at(createdAt) } });
  const resolve = (ticketId: number, when: string, to = "resolved") => event(ticketId, "status_changed", { from: "in_progress", to }, when);

  // Open.
  await ticket(30001, { category: "parks_playgrounds", department: "public_works", status: "new", child: true, area: areas.a1, point: SCHOOL, created: "2026-03-10T08:00:00Z", zonePlace: places.school });
  await ticket(30002, { category: "roads", department: "public_works", status: "in_progress", child: true, area: areas.a1, point: north(SCHOOL, 0.001), created: "2026-03-01T08:00:00Z", zonePlace: places.school });
  await ticket(30003, { category: "waste", department: "sanitation", status: "waiting_staff", child: true, area: areas.a2, point: north(PLAYGROUND, 0.0013), created: "2026-02-20T08:00:00Z", zonePlace: places.playground });
  await ticket(30004, { category: "school_safety", department: "public_works", status: "new", child: true, area: areas.a1, point: north(SCHOOL, 0.0015), created: "2026-03-12T08:00:00Z", zonePlace: places.school });
  await ticket(30005, { category: "water", department: "water", status: "new", child: false, area: areas.a2, point: PLAYGROUND, created: "2026-03-14T08:00:00Z" });
  await ticket(30006, { department: "administration", status: "new", child: true, created: "2026-03-05T08:00:00Z" });
  const payment = await ticket(30007, { department: "finance", status: "new", child: false, point: SCHOOL, created: "2026-03-13T08:00:00Z", description: SECRETS.paymentDescription });
  const account = await db.account.create({ data: { municipalityId: MUNICIPALITY, number: "10-2345", holderName: SECRETS.profileName, accountType: "property", verificationCodeHash: "x" } });
  await db.paymentReport.create({ data: { municipalityId: MUNICIPALITY, ticketId: payment.id, accountId: account.id, amount: 1250000, currency: "LBP", paidAt: "OMT", paymentRef: "8841" } });
  const reopened = await ticket(30010, { category: "roads", department: "public_works", status: "in_progress", child: false, created: "2026-03-04T08:00:00Z" });
  await resolve(reopened.id, "2026-03-05T08:00:00Z");
  await event(reopened.id, "reopened", { from: "resolved" }, "2026-03-06T08:00:00Z");
  await db.ticket.create({
    data: { municipalityId: "zahle", reference: 30099, residentId: stranger, channel: "sms", locale: "ar", description: "elsewhere", department: "public_works", status: "new", childRelated: true, ...SCHOOL },
  });

  // Resolved or closed.
  const finished = async (reference: number, f: Fields, resolved: string, to = "resolved") => {
    const t = await ticket(reference, f);
    await resolve(t.id, resolved, to);
    return t;
  };
  await finished(31001, { category: "parks_playgrounds", department: "public_works", status: "resolved", child: true, area: areas.a1, created: "2026-03-02T08:00:00Z" }, "2026-03-03T08:00:00Z");
  await finished(31002, { category: "school_safety", department: "public_works", status: "resolved", child: true, area: areas.a2, created: "2026-02-26T22:30:00Z" }, "2026-02-28T22:30:00Z");
  const twice = await finished(31003, { category: "waste", department: "sanitation", status: "closed", child: true, area: areas.a2, created: "2026-03-05T08:00:00Z" }, "2026-03-06T08:00:00Z");
  await event(twice.id, "reopened", { from: "resolved" }, "2026-03-07T08:00:00Z");
  await resolve(twice.id, "2026-03-09T08:00:00Z");
  await event(twice.id, "status_changed", { from: "resolved", to: "closed" }, "2026-03-10T08:00:00Z");
  await finished(31004, { category: "roads", department: "public_works", status: "resolved", child: false, area: areas.a1, created: "2026-03-01T08:00:00Z" }, "2026-03-04T08:00:00Z");
  await finished(31005, { department: "finance", status: "closed", child: false, created: "2026-03-07T08:00:00Z", description: SECRETS.financeDescription }, "2026-03-08T20:00:00Z", "closed");
  await finished(31006, { category: "parks_playgrounds", department: "public_works", status: "resolved", child: true, area: areas.a1, created: "2026-02-10T08:00:00Z" }, "2026-02-11T20:00:00Z");
  await finished(31007, { category: "water", department: "water", status: "resolved", child: true, area: areas.a3, created: "2026-02-21T21:30:00Z" }, "2026-02-28T21:30:00Z");
  await finished(31008, { category: "roads", department: "public_works", status: "resolved", child: false, area: areas.a1, created: "2026-01-25T08:00:00Z" }, "2026-02-01T08:00:00Z");
  await finished(31009, { category: "roads", department: "public_works", status: "resolved", child: false, area: areas.a1, created: "2026-01-20T21:59:00Z" }, "2026-01-31T21:59:00Z");
  await finished(32001, { category: "parks_playgrounds", department: "public_works", status: "closed", child: true, area: areas.a1, created: "2025-03-14T21:00:00Z" }, "2025-03-20T08:00:00Z", "closed");
  await finished(32002, { category: "parks_playgrounds", department: "public_works", status: "closed", child: true, area: areas.a1, created: "2025-03-14T22:30:00Z" }, "2025-03-20T08:00:00Z", "closed");

  return { areas, places, categories };
}
