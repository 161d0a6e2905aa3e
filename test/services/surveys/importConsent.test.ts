import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { importConsent, parseConsentCsv } from "../../../src/services/surveys/importConsent.js";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";

const TOWN = "qab-elias";
const NOW = new Date("2025-03-10T09:00:00Z");
let world: TestDatabase;

beforeAll(async () => {
  world = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await world.drop();
});
beforeEach(async () => {
  await world.db.resident.deleteMany({});
});

describe("importConsent", () => {
  it("joins new and existing residents, updates those already joined, keeps a known language", async () => {
    await world.db.resident.create({ data: { municipalityId: TOWN, phone: "+96171000002", locale: "en" } });
    await world.db.resident.create({ data: { municipalityId: TOWN, phone: "+96171000003", locale: "ar", surveyJoinedAt: new Date("2025-01-01T00:00:00Z"), surveySource: "keyword" } });
    const csv = "\uFEFFphone,language,area,consent_source\r\n03 000 001,ar,Haouch,drive-2025-02\n71000002,ar,,drive-2025-02\n+961 71 000 003,en,Center,drive-2025-02\n";
    const result = await importConsent(world.db, TOWN, csv, NOW);
    expect(result).toEqual({ ok: true, joined: 2, created: 1, updated: 1, skipped: [] });
    const created = await world.db.resident.findFirstOrThrow({ where: { phone: "+9613000001" } });
    expect(created).toMatchObject({ locale: "ar", area: "Haouch", surveySource: "import:drive-2025-02", surveyJoinedAt: NOW });
    const existing = await world.db.resident.findFirstOrThrow({ where: { phone: "+96171000002" } });
    expect(existing).toMatchObject({ locale: "en", area: null, surveySource: "import:drive-2025-02", surveyJoinedAt: NOW });
    const already = await world.db.resident.findFirstOrThrow({ where: { phone: "+96171000003" } });
    expect(already).toMatchObject({ locale: "ar", area: "Center", surveySource: "keyword", surveyJoinedAt: new Date("2025-01-01T00:00:00Z") });
  });

  it("a stray NUL or direction mark in an area or a source is a line-numbered error, and nothing is written", async () => {
    const csv = "phone,language,area,consent_source\n71000011,ar,Centre,drive\n71000012,ar,Cen\u0000tre,drive\n71000013,ar,\u202eCentre,drive\n";
    const result = await importConsent(world.db, TOWN, csv, NOW);
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ errors: [{ line: 3, key: "control" }, { line: 4, key: "control" }] });
    expect(await world.db.resident.count()).toBe(0);
  });

  it("never re-joins a resident who said STOP or left surveys", async () => {
    await world.db.resident.create({ data: { municipalityId: TOWN, phone: "+96171000004", optedOut: true, optedOutAt: NOW } });
    await world.db.resident.create({ data: { municipalityId: TOWN, phone: "+96171000005", surveyJoinedAt: NOW, surveyLeftAt: NOW } });
    const result = await importConsent(world.db, TOWN, "phone,language,area,consent_source\n71000004,,,drive\n71000005,,,drive\n71000006,en,,drive\n", NOW);
    expect(result).toEqual({
      ok: true,
      joined: 1,
      created: 1,
      updated: 0,
      skipped: [
        { line: 2, phone: "+96171000004", reason: "opted_out" },
        { line: 3, phone: "+96171000005", reason: "left_surveys" },
      ],
    });
    expect((await world.db.resident.findFirstOrThrow({ where: { phone: "+96171000004" } })).surveyJoinedAt).toBeNull();
  });

  it("writes nothing when any row is bad, and lists every bad row with its line", async () => {
    const csv = "phone,language,area,consent_source\n71000007,ar,,drive\n12,ar,,drive\n71000008,fr,,drive\n71000009,en,,\n71000007,ar,,drive\n";
    const result = await importConsent(world.db, TOWN, csv, NOW);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.line, e.key])).toEqual([
      [3, "phone"],
      [4, "language"],
      [5, "consentSource"],
      [6, "duplicate"],
    ]);
    expect(await world.db.resident.count()).toBe(0);
  });

  it("requires the header and at least one row", () => {
    expect(parseConsentCsv("71000007,ar,,drive\n").errors[0]).toMatchObject({ line: 1, key: "header" });
    expect(parseConsentCsv("phone,language,area,consent_source\n").errors[0]).toMatchObject({ key: "empty" });
    expect(parseConsentCsv("phone,consent_source\n71000007,drive\n").errorCount).toBe(0);
    expect(parseConsentCsv("phone,language,area,consent_source\n71000007,ar\n").errors[0]).toMatchObject({ line: 2, key: "columns" });
  });
});
