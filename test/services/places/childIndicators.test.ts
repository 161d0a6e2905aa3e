import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childIndicators, median, type ChildIndicators } from "../../../src/services/places/childIndicators.js";
import { childIndicatorsCsv } from "../../../src/services/places/childIndicatorsCsv.js";
import type { Actor } from "../../../src/services/staff.js";
import { seedCategories } from "../../../src/services/seed.js";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";
import { INDICATORS_NOW, MUNICIPALITY, SECRETS, seedIndicatorsTown, type IndicatorsTown } from "./childIndicatorsData.js";

const actor = (role: "admin" | "agent", departments: string[] = []): Actor => ({
  id: 1,
  municipalityId: MUNICIPALITY,
  username: role,
  displayName: role,
  role,
  departments,
  locale: "en",
  canRunSurveys: false,
});
const admin = actor("admin");
/** Public works: parks and playgrounds, school surroundings, roads. */
const rania = actor("agent", ["public_works"]);

let database: TestDatabase;
let town: IndicatorsTown;
const compute = (who: Actor, zoneMetres = 150, now = INDICATORS_NOW) => database.db.$transaction((tx) => childIndicators(tx, who, { now, zoneMetres }));

beforeAll(async () => {
  database = await createTestDatabase();
  await seedCategories(database.db, MUNICIPALITY);
  town = await seedIndicatorsTown(database.db);
});
afterAll(async () => {
  await database.drop();
});

/** The open-by-area table as [area English name or null, open, [category code or null, open]...]. */
const openTable = (data: ChildIndicators) =>
  data.openChildRelated.areas.map((row) => [row.area?.nameEn ?? null, row.open, row.byCategory.map((c) => [c.category?.code ?? null, c.open])]);
const placeTable = (data: ChildIndicators) => data.places.map((p) => [p.place.nameEn, p.open, p.oldestAgeDays, p.oldestCreatedAt?.toISOString() ?? null]);
const rateTable = (data: ChildIndicators) => data.rates.areas.map((a) => [a.area.nameEn, a.childPopulation, a.requests, a.perThousand]);

describe("the child-safety indicators of the fixed town, for an admin", () => {
  let data: ChildIndicators;
  beforeAll(async () => {
    data = await compute(admin);
  });

  it("count open child-related requests by area and category: every area, most first, the requests with no area last", () => {
    expect(data.openChildRelated.total).toBe(5);
    expect(openTable(data)).toEqual([
      ["Centre", 3, [["parks_playgrounds", 1], ["roads", 1], ["school_safety", 1]]],
      ["Wadi al-Delm", 1, [["waste", 1]]],
      ["Saadnayel Road", 0, []],
      ["Industrial zone", 0, []],
      [null, 1, [[null, 1]]],
    ]);
  });

  it("list every child-related place with the open requests within 150 m and the oldest one's age", () => {
    expect(placeTable(data)).toEqual([
      // 30003 at 145 m (filed 20 Feb: 23 days) and 30005 at the playground itself, child-related or not.
      ["Wadi al-Delm Playground", 2, 23, "2026-02-20T08:00:00.000Z"],
      // 30001 at the gate and 30002 at 111 m (14 days); not 30004 at 167 m although it was filed as in the
      // school's zone, not the payment report at the gate, not another town's request.
      ["Qab Elias Public School", 2, 14, "2026-03-01T08:00:00.000Z"],
      ["Al-Zuhur Kindergarten", 0, null, null],
    ]);
    expect(data.places.map((p) => p.place.kind)).toEqual(["playground", "school", "kindergarten"]);
    expect(data.places.map((p) => p.place.id)).not.toContain(town.places.park);
    expect(data.placesComplete).toBe(true);
    expect(data.zoneMetres).toBe(150);
  });

  it("take the zone's radius as given: at 200 m the school's zone reaches 30004", async () => {
    const wider = await compute(admin, 200);
    expect(placeTable(wider)[0]).toEqual(["Qab Elias Public School", 3, 14, "2026-03-01T08:00:00.000Z"]);
  });

  it("give the median days to resolve per Beirut calendar month: odd and even counts, reopened requests, month edges", () => {
    const { thisMonth, lastMonth } = data.resolution;
    expect(thisMonth.period).toEqual({ year: 2026, month: 3, from: new Date("2026-02-28T22:00:00Z"), to: INDICATORS_NOW });
    expect(lastMonth.period).toEqual({ year: 2026, month: 2, from: new Date("2026-01-31T22:00:00Z"), to: new Date("2026-02-28T22:00:00Z") });
    // March: 1, 2 (resolved at 00:30 on 1 March in Beirut, still 28 February in UTC) and 4 days
    // (resolved, reopened, resolved again on the 9th, closed on the 10th).
    expect(thisMonth.childRelated).toEqual({ n: 3, medianDays: 2 });
    // March, others: 3 and 1.5 days (a finance question closed directly): the mean of the two middle ones.
    expect(thisMonth.others).toEqual({ n: 2, medianDays: 2.25 });
    // February: 1.5 and 7 days (the second resolved at 23:30 on 28 February in Beirut).
    expect(lastMonth.childRelated).toEqual({ n: 2, medianDays: 4.25 });
    // February, others: 7 days; the one resolved at 23:59 on 31 January in Beirut is January's.
    expect(lastMonth.others).toEqual({ n: 1, medianDays: 7 });
  });

  it("count child-related requests of the last 12 months per 1,000 children, where a population was entered", () => {
    expect(data.rates.from).toEqual(new Date("2025-03-14T22:00:00Z"));
    expect(data.rates.to).toEqual(INDICATORS_NOW);
    expect(rateTable(data)).toEqual([
      // 3 / 500 × 1000; 6 / 1200 × 1000 (32002, filed at 00:30 on 15 March 2025 in Beirut, is in; 32001 at 23:00 the day before is not).
      ["Wadi al-Delm", 500, 3, 6],
      ["Centre", 1200, 6, 5],
      ["Saadnayel Road", null, 1, null],
      // Zero children entered divides nothing.
      ["Industrial zone", 0, 0, null],
    ]);
    expect(data.rates.withoutArea).toBe(1);
  });

  it("say that they count the whole town", () => {
    expect(data.scope).toEqual({ kind: "all" });
    expect(data.generatedAt).toEqual(INDICATORS_NOW);
  });

  it("never carry a resident's phone, name or words, not even a finance request's", () => {
    const everything = JSON.stringify(data) + childIndicatorsCsv(data, { locale: "en", noArea: "No area", noCategory: "No category" });
    for (const secret of Object.values(SECRETS)) expect(everything).not.toContain(secret);
    expect(everything).not.toContain("77-4411");
    expect(everything).not.toContain("10-2345");
    expect(everything).not.toContain("OMT");
  });
});

describe("an agent's indicators", () => {
  it("count only their departments' requests; places and areas stay the town's", async () => {
    const data = await compute(rania);
    expect(data.scope).toEqual({ kind: "departments", departments: ["public_works"] });
    expect(data.openChildRelated.total).toBe(3);
    expect(openTable(data)).toEqual([
      ["Centre", 3, [["parks_playgrounds", 1], ["roads", 1], ["school_safety", 1]]],
      ["Wadi al-Delm", 0, []],
      ["Saadnayel Road", 0, []],
      ["Industrial zone", 0, []],
    ]);
    expect(placeTable(data)).toEqual([
      ["Qab Elias Public School", 2, 14, "2026-03-01T08:00:00.000Z"],
      // Sanitation's and water's requests there are not hers.
      ["Wadi al-Delm Playground", 0, null, null],
      ["Al-Zuhur Kindergarten", 0, null, null],
    ]);
    // March: 1 and 2 days (even); others 3. February: 1.5; others 7.
    expect(data.resolution.thisMonth.childRelated).toEqual({ n: 2, medianDays: 1.5 });
    expect(data.resolution.thisMonth.others).toEqual({ n: 1, medianDays: 3 });
    expect(data.resolution.lastMonth.childRelated).toEqual({ n: 1, medianDays: 1.5 });
    expect(data.resolution.lastMonth.others).toEqual({ n: 1, medianDays: 7 });
    expect(rateTable(data)).toEqual([
      ["Centre", 1200, 6, 5],
      ["Wadi al-Delm", 500, 1, 2],
      ["Saadnayel Road", null, 0, null],
      ["Industrial zone", 0, 0, null],
    ]);
    expect(data.rates.withoutArea).toBe(0);
  });

  it("of no department count nothing", async () => {
    const data = await compute(actor("agent", []));
    expect(data.openChildRelated.total).toBe(0);
    expect(data.places.every((p) => p.open === 0)).toBe(true);
    expect(data.resolution.thisMonth.childRelated).toEqual({ n: 0, medianDays: null });
    expect(data.rates.areas.every((a) => a.requests === 0)).toBe(true);
  });
});

describe("months on Beirut's calendar", () => {
  it("at 00:45 on 1 March in Beirut (still February in UTC) this month is March", async () => {
    const now = new Date("2026-02-28T22:45:00Z");
    const data = await compute(admin, 150, now);
    expect(data.resolution.thisMonth.period).toMatchObject({ year: 2026, month: 3, from: new Date("2026-02-28T22:00:00Z"), to: now });
    expect(data.resolution.lastMonth.period).toMatchObject({ year: 2026, month: 2 });
    // Only 31002, resolved at 00:30 on 1 March, is March's so far.
    expect(data.resolution.thisMonth.childRelated).toEqual({ n: 1, medianDays: 2 });
    expect(data.resolution.thisMonth.others).toEqual({ n: 0, medianDays: null });
  });

  it("in January last month is the previous year's December", async () => {
    const data = await compute(admin, 150, new Date("2026-01-10T10:00:00Z"));
    expect(data.resolution.lastMonth.period).toMatchObject({ year: 2025, month: 12, from: new Date("2025-11-30T22:00:00Z"), to: new Date("2025-12-31T22:00:00Z") });
    expect(data.resolution.thisMonth.period).toMatchObject({ year: 2026, month: 1 });
  });

  it("across the switch to summer time, a month starts at Beirut's midnight (UTC+3 from the end of March)", async () => {
    const data = await compute(admin, 150, new Date("2026-05-20T10:00:00Z"));
    expect(data.resolution.thisMonth.period.from).toEqual(new Date("2026-04-30T21:00:00Z"));
    expect(data.resolution.lastMonth.period).toMatchObject({ from: new Date("2026-03-31T21:00:00Z"), to: new Date("2026-04-30T21:00:00Z") });
  });
});

describe("median", () => {
  it.each([
    { values: [], expected: { n: 0, medianDays: null } },
    { values: [5], expected: { n: 1, medianDays: 5 } },
    { values: [4, 1, 2], expected: { n: 3, medianDays: 2 } },
    { values: [7, 1.5], expected: { n: 2, medianDays: 4.25 } },
    { values: [1, 10, 2, 3], expected: { n: 4, medianDays: 2.5 } },
    { values: [1 / 3, 1 / 3, 1 / 3], expected: { n: 3, medianDays: 0.33 } },
  ])("of $values is $expected.medianDays", ({ values, expected }) => {
    expect(median(values)).toEqual(expected);
  });
});

describe("the CSV", () => {
  it("is one tidy table: a header, then one figure per row", async () => {
    const data = await compute(admin);
    const csv = childIndicatorsCsv(data, { locale: "en", noArea: "No area", noCategory: "No category" });
    expect(csv.startsWith("\uFEFFsection,period,area,category,place,metric,value\r\n")).toBe(true);
    expect(csv.endsWith("\r\n")).toBe(true);
    const lines = csv.slice(1).trimEnd().split("\r\n");
    for (const line of lines) expect(line.split(",")).toHaveLength(7);
    expect(lines).toEqual(
      expect.arrayContaining([
        "report,,,,,generated_at,2026-03-15T08:00:00.000Z",
        "report,,,,,scope,all",
        "report,,,,,zone_metres,150",
        "open_child_requests,,Centre,,,open_total,3",
        "open_child_requests,,Centre,Roads and potholes,,open,1",
        "open_child_requests,,No area,No category,,open,1",
        "place_zone,,,,Qab Elias Public School,open,2",
        "place_zone,,,,Qab Elias Public School,oldest_open_days,14",
        "place_zone,,,,Al-Zuhur Kindergarten,oldest_open_days,",
        "resolution,2026-03,,,,median_days_child_related,2",
        "resolution,2026-03,,,,n_others,2",
        "resolution,2026-03,,,,median_days_others,2.25",
        "resolution,2026-02,,,,median_days_child_related,4.25",
        "per_1000_children,2025-03-15/2026-03-15,Wadi al-Delm,,,per_1000_children,6",
        "per_1000_children,2025-03-15/2026-03-15,Saadnayel Road,,,per_1000_children,",
        "per_1000_children,2025-03-15/2026-03-15,No area,,,child_related_requests,1",
      ]),
    );
  });

  it("names areas, categories and places in Arabic for an Arabic reader, and neutralises formula-like names", async () => {
    const data = await compute(admin);
    const hostile = { ...data, openChildRelated: { ...data.openChildRelated, areas: [{ area: { id: 1, nameAr: '=HYPERLINK("http://x","click")', nameEn: "x" }, open: 1, byCategory: [] }] } };
    const csv = childIndicatorsCsv(hostile, { locale: "ar", noArea: "بلا حيّ", noCategory: "بلا فئة" });
    expect(csv).toContain("place_zone,,,,مدرسة قب الياس الرسمية,open,2");
    expect(csv).toContain(`open_child_requests,,"'=HYPERLINK(""http://x"",""click"")",,,open_total,1`);
  });
});

describe("payment reports", () => {
  it("are about an account, not a child or a place: settled or located, they change no figure", async () => {
    const before = await compute(admin);
    const payment = await database.db.ticket.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, reference: 30007 } });
    // A report finance settled within the hour, wrongly flagged child-related and placed in an area.
    const centre = await database.db.area.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY }, orderBy: { id: "asc" } });
    await database.db.ticket.update({ where: { id: payment.id }, data: { status: "resolved", childRelated: true, areaId: centre.id } });
    const settledAt = new Date(payment.createdAt.getTime() + 3600_000);
    await database.db.ticketEvent.create({ data: { ticketId: payment.id, actorType: "staff", kind: "status_changed", data: JSON.stringify({ from: "new", to: "resolved" }), createdAt: settledAt } });
    try {
      const after = await compute(admin);
      expect(after.resolution).toEqual(before.resolution);
      expect(after.openChildRelated).toEqual(before.openChildRelated);
      expect(after.rates).toEqual(before.rates);
      await database.db.ticket.update({ where: { id: payment.id }, data: { status: "new" } });
      expect((await compute(admin)).openChildRelated).toEqual(before.openChildRelated);
    } finally {
      await database.db.ticketEvent.deleteMany({ where: { ticketId: payment.id, kind: "status_changed" } });
      await database.db.ticket.update({ where: { id: payment.id }, data: { status: payment.status, childRelated: payment.childRelated, areaId: payment.areaId } });
    }
  });
});
