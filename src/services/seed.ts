import { surveyColumns, type SurveyInput } from "./surveys/definition.js";
import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { Db } from "../db/createDb.js";
import { isUniqueViolation } from "../db/errors.js";
import { REPO_ROOT } from "../lib/paths.js";
import { importAccounts } from "./accountImport/importAccounts.js";
import { importGeoJson } from "./places/geojsonImport.js";
import { AttributeDefinition, MAX_ATTRIBUTES_PER_CATEGORY } from "./open311/attributes.js";
import { locate } from "./places/locate.js";
import { DEFAULT_CHILD_ZONE_METRES } from "./places/placeTypes.js";
import { placementColumns, placeSetOf, storedPlacement } from "./places/setTicketLocation.js";
import { hashPassword } from "./passwords.js";
import { createStaff } from "./staff.js";
import { MAX_TARGET_HOURS } from "./targets.js";
import { fileTicket } from "./tickets.js";

const SEED_DIR = path.join(REPO_ROOT, "seed");

const SeedCategory = z.object({
  code: z.string().regex(/^[a-z_]+$/),
  nameAr: z.string().min(1),
  nameEn: z.string().min(1),
  /** What the service is, for Open311 clients. */
  // Optional, so a town's own seed/categories.json from before Open311 still starts.
  descriptionAr: z.string().trim().max(500).default(""),
  descriptionEn: z.string().trim().max(500).default(""),
  department: z.string().min(1),
  childRelated: z.boolean(),
  needsLocation: z.boolean(),
  /** Never shown through Open311 (certificates carry residents' civil-status requests). */
  isPrivate: z.boolean().default(false),
  keywords: z.array(z.string()),
  /** The questions Open311 clients answer, in order. */
  attributes: z.array(AttributeDefinition).max(MAX_ATTRIBUTES_PER_CATEGORY).default([]),
  /** Staff targets in hours (services/targets.ts); absent: the defaults. Only a new town gets them: staff edit them afterwards. */
  firstResponseHours: z.number().int().min(1).max(MAX_TARGET_HOURS).nullable().default(null),
  resolutionHours: z.number().int().min(1).max(MAX_TARGET_HOURS).nullable().default(null),
});
type SeedCategory = z.infer<typeof SeedCategory>;

/** The categories shipped in seed/categories.json, validated. */
export function seedCategoryList(): SeedCategory[] {
  return z.array(SeedCategory).parse(JSON.parse(readFileSync(path.join(SEED_DIR, "categories.json"), "utf8")));
}

const SeedDepartment = z.object({ code: z.string().regex(/^[a-z_]+$/), nameAr: z.string().min(1), nameEn: z.string().min(1) });

/**
 * Creates the shipped departments (any missing) and categories with their Open311 questions (when
 * there are no categories); later edits by staff are kept. On a municipality that already has
 * categories, only `seedCategoryAttributes` runs. Returns how many categories it created.
 */
export async function seedCategories(db: Db, municipalityId: string): Promise<number> {
  // Departments the code relies on (finance receives payment reports) are added when missing;
  // names staff have changed are kept.
  const departments = z.array(SeedDepartment).parse(JSON.parse(readFileSync(path.join(SEED_DIR, "departments.json"), "utf8")));
  await db.$transaction(async (tx) => {
    for (const d of departments) {
      await tx.department.upsert({ where: { municipalityId_code: { municipalityId, code: d.code } }, create: { ...d, municipalityId }, update: {} });
    }
  });
  if ((await db.category.count({ where: { municipalityId } })) > 0) {
    await seedCategoryAttributes(db, municipalityId);
    return 0;
  }
  const categories = seedCategoryList();
  await db.$transaction(async (tx) => {
    for (const [i, { attributes, ...c }] of categories.entries()) {
      await tx.category.create({
        data: {
          ...c,
          municipalityId,
          keywords: JSON.stringify(c.keywords),
          sortOrder: (i + 1) * 10,
          attributes: { create: attributes.map((a, j) => attributeColumns(municipalityId, a, j)) },
        },
      });
    }
  });
  return categories.length;
}

/**
 * For a municipality seeded before categories had Open311 questions: gives each shipped category
 * that has questions in seed/categories.json (stray_animals) those questions, once. "Once" is the
 * category having no CategoryAttribute row at all, active or not: the admin never deletes a
 * question (it deactivates it, so that its code is never reused), so a category without rows has
 * never had any, and a question staff deactivated, or questions staff wrote themselves, are never
 * touched. Runs at every start; after the first it only reads. Returns how many questions it created.
 */
export async function seedCategoryAttributes(db: Db, municipalityId: string): Promise<number> {
  let created = 0;
  for (const seeded of seedCategoryList().filter((c) => c.attributes.length > 0)) {
    const category = await db.category.findUnique({
      where: { municipalityId_code: { municipalityId, code: seeded.code } },
      select: { id: true, _count: { select: { attributes: true } } },
    });
    if (!category || category._count.attributes > 0) continue;
    try {
      await db.$transaction(async (tx) => {
        for (const [j, a] of seeded.attributes.entries()) {
          await tx.categoryAttribute.create({ data: { ...attributeColumns(municipalityId, a, j), categoryId: category.id } });
        }
        // The category's version moves, so caches and the Open311 changeset see the new questions.
        await tx.category.update({ where: { id: category.id }, data: { updatedAt: new Date() } });
      });
      created += seeded.attributes.length;
    } catch (error) {
      // Another instance starting at the same moment added them first.
      if (!isUniqueViolation(error)) throw error;
    }
  }
  return created;
}

/** A seeded question as a CategoryAttribute row (order by position, 10 apart so staff can slot one in). */
function attributeColumns(municipalityId: string, a: AttributeDefinition, index: number) {
  return { ...a, municipalityId, values: JSON.stringify(a.values), sortOrder: (index + 1) * 10 };
}

// Demo residents use Lebanon's reserved-looking 70 000 00x range; they never receive real messages.
// Each address names a sample place (samples/qab-elias-places.geojson), so the demo requests are on
// the map next to it: a pothole at the public school (child-related by its zone, not its category),
// a street light at the Omari mosque (not child-related), the broken playground in the municipal garden.
const DEMO = [
  { phone: "+96170000001", locale: "ar", area: "Qab Elias", category: "roads", description: "في جورة كبيرة بالطريق قدام المدرسة الرسمية والولاد بيقطعوا من حدها", address: "قدام المدرسة الرسمية" },
  { phone: "+96170000002", locale: "en", area: "Qab Elias", category: "lighting", description: "Street light broken next to the Omari mosque for a week", address: "next to the Omari mosque" },
  { phone: "+96170000003", locale: "ar", area: "Qab Elias", category: "parks_playgrounds", description: "الملعب تبع الولاد مكسر والألعاب خطرة", address: "حديقة البلدية" },
] as const;
/** The demo tickets' references: 10001, 10002, 10003. */
const DEMO_FIRST_REFERENCE = 10001;

/** The demo's draft survey: what an officer would set up for the town every month. */
export const DEMO_SURVEY: SurveyInput = {
  title: { ar: "رضا السكان عن جمع النفايات", en: "Waste collection satisfaction" },
  intro: null,
  questions: [
    { type: "rating", text: { ar: "ما مدى رضاك عن جمع النفايات هذا الشهر؟", en: "How satisfied are you with waste collection this month?" }, options: [], min: 1, max: 5, area: false },
    { type: "yesno", text: { ar: "هل لدى أولادك مكان آمن للعب قرب البيت؟", en: "Do your children have a safe place to play near home?" }, options: [], area: false },
    {
      type: "choice",
      text: { ar: "ما الذي يجب أن تصلحه البلدية أولاً؟", en: "What should the municipality fix first?" },
      options: [
        { ar: "الطرقات", en: "Roads" },
        { ar: "النفايات", en: "Waste" },
        { ar: "الإنارة", en: "Street lights" },
        { ar: "الملاعب", en: "Playgrounds" },
      ],
      area: false,
    },
  ],
  audience: { channels: [], languages: [], areas: [] },
  schedule: { startAt: null, recurrence: { kind: "monthly", day: 1, time: "10:00" } },
  expiryHours: 72,
};

/** Demo staff accounts, created with the demo data (the README prints these logins). */
export const DEMO_STAFF = [
  { username: "admin", password: "baladiya-admin", displayName: "Hala (admin)", role: "admin", departments: [], locale: "ar" },
  { username: "rania", password: "baladiya-agent", displayName: "Rania", role: "agent", departments: ["public_works"], locale: "ar" },
  { username: "karim", password: "baladiya-agent", displayName: "Karim", role: "agent", departments: ["electricity", "water"], locale: "en" },
] as const;

/**
 * On an empty database, a few residents, tickets and staff so a newcomer has something to look at,
 * and the sample places and areas; the demo tickets are then located like a resident's SMS
 * (`locateDemoTickets`). On a database that has residents, only demo tickets still without a point
 * are located (a clone seeded before they were). `childZoneMetres`: CHILD_ZONE_METRES.
 */
export async function seedDemoData(db: Db, municipalityId: string, childZoneMetres = DEFAULT_CHILD_ZONE_METRES): Promise<number> {
  if ((await db.resident.count({ where: { municipalityId } })) > 0) {
    await locateDemoTickets(db, municipalityId, childZoneMetres);
    return 0;
  }
  const staffExists = (await db.staff.count({ where: { municipalityId } })) > 0;
  // Hashed before the transaction: scrypt is slow on purpose.
  const hashes = staffExists ? [] : await Promise.all(DEMO_STAFF.map((s) => hashPassword(s.password)));
  await db.$transaction(async (tx) => {
    for (const [i, { password: _password, ...s }] of (staffExists ? [] : DEMO_STAFF).entries()) {
      await createStaff(tx, { ...s, departments: [...s.departments], municipalityId, passwordHash: hashes[i]! });
    }
    for (const [i, demo] of DEMO.entries()) {
      // The demo residents joined surveys at a registration drive, so the demo survey has an audience.
      const resident = await tx.resident.create({
        data: { municipalityId, phone: demo.phone, locale: demo.locale, area: demo.area, surveyJoinedAt: new Date(), surveySource: "import:demo" },
      });
      await tx.channelIdentity.create({ data: { municipalityId, residentId: resident.id, channel: "sms", address: demo.phone } });
      const category = await tx.category.findUnique({ where: { municipalityId_code: { municipalityId, code: demo.category } } });
      await fileTicket(
        tx,
        {
          reference: DEMO_FIRST_REFERENCE + i,
          categoryCode: demo.category,
          description: demo.description,
          location: null,
          addressText: demo.address,
          media: [],
          childRelated: category?.childRelated ?? false,
          needsHuman: false,
          startedAt: new Date(),
        },
        { municipalityId, residentId: resident.id, channel: "sms", locale: demo.locale },
      );
    }
    await tx.survey.create({ data: { municipalityId, ...surveyColumns(DEMO_SURVEY), status: "draft" } });
  });
  await seedDemoPlaces(db, municipalityId, new Date());
  await locateDemoTickets(db, municipalityId, childZoneMetres);
  return DEMO.length;
}

/**
 * Gives the demo tickets that have no point yet the point of the place their address names, its
 * area and child zone, as the inbox does for an SMS request (`locate` on the address the resident
 * typed), so a fresh clone's map shows them next to their landmarks. Only the demo residents'
 * demo references; a ticket staff have put on the map keeps its point. Returns how many it located.
 */
export async function locateDemoTickets(db: Db, municipalityId: string, childZoneMetres = DEFAULT_CHILD_ZONE_METRES): Promise<number> {
  const tickets = await db.ticket.findMany({
    where: {
      municipalityId,
      reference: { in: DEMO.map((_, i) => DEMO_FIRST_REFERENCE + i) },
      resident: { phone: { in: DEMO.map((d) => d.phone) } },
      latitude: null,
      addressText: { not: null },
    },
    select: { id: true, addressText: true, childRelated: true },
  });
  if (tickets.length === 0) return 0;
  const { places, areas } = await placeSetOf(db, municipalityId);
  let located = 0;
  await db.$transaction(async (tx) => {
    for (const ticket of tickets) {
      const placement = locate(null, [ticket.addressText], places, areas, childZoneMetres);
      if (placement.latitude === null) continue;
      // Not already placed meanwhile (another instance starting at the same time).
      const updated = await tx.ticket.updateMany({ where: { id: ticket.id, latitude: null }, data: placementColumns(storedPlacement(placement, ticket.childRelated)) });
      located += updated.count;
    }
  });
  return located;
}

/** The sample places and areas of the town (samples/qab-elias-*.geojson, approximate). */
export const SAMPLE_PLACES_FILES = {
  places: path.join(SEED_DIR, "..", "samples", "qab-elias-places.geojson"),
  areas: path.join(SEED_DIR, "..", "samples", "qab-elias-areas.geojson"),
} as const;

/**
 * With the demo data, the sample places and areas, so a fresh clone's map is not empty: imported
 * through the real importer with source "sample", each layer only while the municipality has none.
 * Returns how many places and areas were created.
 */
export async function seedDemoPlaces(db: Db, municipalityId: string, now: Date): Promise<{ places: number; areas: number }> {
  const created = { places: 0, areas: 0 };
  for (const layer of ["places", "areas"] as const) {
    const count = layer === "places" ? await db.place.count({ where: { municipalityId } }) : await db.area.count({ where: { municipalityId } });
    if (count > 0) continue;
    const result = await importGeoJson(db, municipalityId, layer, readFileSync(SAMPLE_PLACES_FILES[layer], "utf8"), now, { source: "sample" });
    if (!result.ok) throw new Error(`the sample ${layer} do not import: ${result.errors.slice(0, 3).map((e) => e.message).join("; ")}`);
    created[layer] = result.created;
  }
  return created;
}

/**
 * With the demo data, the sample finance export (samples/*.csv) so a newcomer can try balances:
 * imported through the real importer, once, on a municipality without accounts.
 */
export async function seedDemoAccounts(db: Db, municipalityId: string, digestKey: string | undefined): Promise<number> {
  if ((await db.account.count({ where: { municipalityId } })) > 0) return 0;
  const samples = path.join(SEED_DIR, "..", "samples");
  const result = await importAccounts(db, {
    municipalityId,
    accounts: path.join(samples, "accounts.csv"),
    statement: path.join(samples, "statement.csv"),
    source: "demo:samples",
    now: new Date(),
    ...(digestKey ? { digestKey } : {}),
  });
  if (!result.ok) throw new Error(`the sample accounts do not import: ${JSON.stringify(result.errors.slice(0, 3))}`);
  return result.accounts;
}
