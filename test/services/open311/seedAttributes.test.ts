import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedCategories, seedCategoryAttributes, seedCategoryList } from "../../../src/services/seed.js";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";

let database: TestDatabase;
const db = () => database.db;

beforeAll(async () => {
  database = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await database.drop();
});

const questionsOf = (municipalityId: string, code = "stray_animals") =>
  db().categoryAttribute.findMany({ where: { category: { municipalityId, code } }, orderBy: [{ sortOrder: "asc" }, { id: "asc" }] });

/** A town seeded before categories had Open311 questions: its categories, and no CategoryAttribute row. */
async function townSeededBefore(municipalityId: string): Promise<void> {
  await seedCategories(db(), municipalityId);
  await db().categoryAttribute.deleteMany({ where: { category: { municipalityId } } });
}

describe("the shipped categories", () => {
  it("every one has a description in both languages; only certificates are private", () => {
    const categories = seedCategoryList();
    for (const c of categories) {
      expect(c.descriptionAr.length, c.code).toBeGreaterThan(20);
      expect(c.descriptionEn.length, c.code).toBeGreaterThan(20);
      expect(c.descriptionAr, c.code).toMatch(/[\u0600-\u06ff]/);
    }
    expect(categories.filter((c) => c.isPrivate).map((c) => c.code)).toEqual(["certificates"]);
  });

  it("a new town gets them with descriptions, the private flag and the stray animals questions", async () => {
    expect(await seedCategories(db(), "fresh")).toBe(10);
    expect(await db().category.findFirstOrThrow({ where: { municipalityId: "fresh", code: "certificates" } })).toMatchObject({ isPrivate: true, descriptionEn: expect.stringContaining("certificates") });
    expect(await db().category.findFirstOrThrow({ where: { municipalityId: "fresh", code: "roads" } })).toMatchObject({ isPrivate: false, descriptionAr: expect.stringContaining("حفر") });
    const questions = await questionsOf("fresh");
    expect(questions.map((q) => [q.code, q.datatype, q.required, q.sortOrder, q.active, q.municipalityId])).toEqual([
      ["how_many", "singlevaluelist", true, 10, true, "fresh"],
      ["animal_kind", "singlevaluelist", false, 20, true, "fresh"],
    ]);
    expect(questions[0]).toMatchObject({ descriptionAr: "كم عدد الحيوانات؟", descriptionEn: "How many animals?" });
    expect(JSON.parse(questions[0]!.values)).toEqual([
      { key: "one", nameAr: "حيوان واحد", nameEn: "One" },
      { key: "two_to_five", nameAr: "من اثنين إلى خمسة", nameEn: "Two to five" },
      { key: "more_than_five", nameAr: "أكثر من خمسة", nameEn: "More than five" },
    ]);
    expect(await db().categoryAttribute.count({ where: { category: { municipalityId: "fresh", code: { not: "stray_animals" } } } })).toBe(0);
  });
});

describe("a town seeded before categories had questions", () => {
  it("gets the stray animals questions at its next start, once, and the category's version moves", async () => {
    await townSeededBefore("older");
    const before = await db().category.findFirstOrThrow({ where: { municipalityId: "older", code: "stray_animals" } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await seedCategories(db(), "older")).toBe(0);
    expect((await questionsOf("older")).map((q) => q.code)).toEqual(["how_many", "animal_kind"]);
    const after = await db().category.findFirstOrThrow({ where: { municipalityId: "older", code: "stray_animals" } });
    expect(after.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());

    expect(await seedCategoryAttributes(db(), "older")).toBe(0);
    expect(await questionsOf("older")).toHaveLength(2);
  });

  it("a question staff deactivated or reworded stays as they left it", async () => {
    const [howMany, kind] = await questionsOf("older");
    await db().categoryAttribute.update({ where: { id: howMany!.id }, data: { active: false } });
    await db().categoryAttribute.update({ where: { id: kind!.id }, data: { descriptionEn: "Dogs, cats, or something else?" } });
    const edited = await questionsOf("older");
    await seedCategories(db(), "older");
    expect(await questionsOf("older")).toEqual(edited);
  });

  it("a category that already has questions of its own gets none of ours", async () => {
    await townSeededBefore("diy");
    const stray = await db().category.findFirstOrThrow({ where: { municipalityId: "diy", code: "stray_animals" } });
    await db().categoryAttribute.create({ data: { municipalityId: "diy", categoryId: stray.id, code: "street", datatype: "string", descriptionAr: "أي شارع؟", descriptionEn: "Which street?", active: false } });
    expect(await seedCategoryAttributes(db(), "diy")).toBe(0);
    expect((await questionsOf("diy")).map((q) => q.code)).toEqual(["street"]);
  });

  it("two instances starting together add them once", async () => {
    await townSeededBefore("twins");
    const results = await Promise.all([seedCategoryAttributes(db(), "twins"), seedCategoryAttributes(db(), "twins")]);
    expect(results.sort()).toEqual([0, 2]);
    expect((await questionsOf("twins")).map((q) => q.code)).toEqual(["how_many", "animal_kind"]);
  });

  it("a town without a stray animals category is left alone", async () => {
    expect(await seedCategoryAttributes(db(), "nowhere")).toBe(0);
    expect(await db().categoryAttribute.count({ where: { municipalityId: "nowhere" } })).toBe(0);
  });
});
