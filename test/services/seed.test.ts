import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { locateDemoTickets, seedCategories, seedDemoData } from "../../src/services/seed.js";
import { createTestDatabase, type TestDatabase } from "../support/testDb.js";

const M = "qab-elias";
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedCategories(database.db, M);
  expect(await seedDemoData(database.db, M)).toBe(3);
}, 120_000);
afterAll(async () => {
  await database.drop();
});

const demoTicket = (reference: number) => database.db.ticket.findFirstOrThrow({ where: { municipalityId: M, reference }, include: { place: true, area: true, childZonePlace: true } });
const placeId = async (externalId: string) => (await database.db.place.findFirstOrThrow({ where: { municipalityId: M, externalId } })).id;

describe("the demo requests on a fresh clone's map", () => {
  it("every demo request has a point, next to the landmark its address names, and an area", async () => {
    for (const reference of [10001, 10002, 10003]) {
      const ticket = await demoTicket(reference);
      expect(ticket.latitude, `#${reference}`).not.toBeNull();
      expect(ticket).toMatchObject({ locationApproximate: true, latitude: ticket.place?.latitude, longitude: ticket.place?.longitude });
      expect(ticket.area, `#${reference}`).not.toBeNull();
    }
  });

  it("the SMS resident who wrote 'قدام المدرسة الرسمية' is at the public school, child-related by its zone", async () => {
    const school = await placeId("sample/public-school");
    const ticket = await demoTicket(10001);
    expect(ticket).toMatchObject({
      channel: "sms",
      addressText: "قدام المدرسة الرسمية",
      placeId: school,
      childZonePlaceId: school,
      childZoneMetres: 0,
      childRelated: true,
      area: { nameEn: "Qab Elias Centre" },
    });
    // A pothole: not a child-related category. The school's zone makes it one.
    const roads = await database.db.category.findFirstOrThrow({ where: { municipalityId: M, code: "roads" } });
    expect(roads.childRelated).toBe(false);
  });

  it("the street light at the Omari mosque is not in a child zone; the playground in the municipal garden is", async () => {
    expect(await demoTicket(10002)).toMatchObject({ placeId: await placeId("sample/omari-mosque"), childZonePlaceId: null, childRelated: false });
    const garden = await placeId("sample/municipal-garden");
    expect(await demoTicket(10003)).toMatchObject({ placeId: garden, childZonePlaceId: garden, childRelated: true });
  });

  it("seeding again changes nothing; a clone seeded before the demo requests were located gets them located", async () => {
    const before = await database.db.ticket.findMany({ orderBy: { id: "asc" } });
    expect(await seedDemoData(database.db, M)).toBe(0);
    expect(await database.db.ticket.findMany({ orderBy: { id: "asc" } })).toEqual(before);

    const unplaced = { latitude: null, longitude: null, locationApproximate: false, placeId: null, areaId: null, childZonePlaceId: null, childZoneMetres: null, childRelated: false };
    await database.db.ticket.updateMany({ where: { reference: { in: [10001, 10003] } }, data: unplaced });
    // A point staff set by hand is kept.
    await database.db.ticket.update({ where: { municipalityId_reference: { municipalityId: M, reference: 10002 } }, data: { latitude: 33.7934, longitude: 35.8237, locationApproximate: false, placeId: null } });
    expect(await seedDemoData(database.db, M)).toBe(0);
    expect(await demoTicket(10001)).toMatchObject({ placeId: await placeId("sample/public-school"), childRelated: true, locationApproximate: true });
    expect(await demoTicket(10003)).toMatchObject({ placeId: await placeId("sample/municipal-garden"), childRelated: true });
    expect(await demoTicket(10002)).toMatchObject({ latitude: 33.7934, longitude: 35.8237, placeId: null });
    expect(await locateDemoTickets(database.db, M)).toBe(0);
  });

  it("only the demo residents' demo requests are touched", async () => {
    const resident = await database.db.resident.create({ data: { municipalityId: M, phone: "+96171999001", locale: "ar" } });
    const other = await database.db.ticket.create({
      data: { municipalityId: M, reference: 10004, residentId: resident.id, description: "x", addressText: "قدام المدرسة الرسمية", channel: "sms", locale: "ar" },
    });
    expect(await locateDemoTickets(database.db, M)).toBe(0);
    expect((await database.db.ticket.findUniqueOrThrow({ where: { id: other.id } })).latitude).toBeNull();
  });
});
