import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listServices, MAX_PUBLISHED_KEYWORDS, publishableKeywords, serviceDefinition, servicesChangeset } from "../../../src/services/open311/services.js";
import { seedCategories } from "../../../src/services/seed.js";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";

const M = "qab-elias";
let database: TestDatabase;
const db = () => database.db;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedCategories(database.db, M);
  // Another town on the same database: never seen from Qab Elias.
  await seedCategories(database.db, "zahle");
}, 60_000);
afterAll(async () => {
  await database.drop();
});

const codes = async () => (await listServices(db(), M, "en")).map((s) => s.service_code);
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
const SEEDED_PUBLIC = ["waste", "roads", "water", "lighting", "sewage", "stray_animals", "parks_playgrounds", "school_safety", "other"];

describe("the service list", () => {
  it("is the seeded categories in menu order, without the private certificates", async () => {
    expect(await codes()).toEqual(SEEDED_PUBLIC);
  });

  it("names, describes and groups each service in the language asked", async () => {
    const [en, ar] = await Promise.all([listServices(db(), M, "en"), listServices(db(), M, "ar")]);
    expect(en.find((s) => s.service_code === "roads")).toEqual({
      service_code: "roads",
      service_name: "Roads and potholes",
      description: "Potholes, damaged asphalt, broken pavements and other hazards on the roads.",
      metadata: false,
      type: "realtime",
      keywords: expect.stringContaining("pothole"),
      group: "Public works",
    });
    expect(ar.find((s) => s.service_code === "roads")).toMatchObject({
      service_name: "طرقات وحفر",
      description: "حفر في الطريق، زفت متضرر، أرصفة مكسورة وأي خطر على الطرقات.",
      group: "الأشغال العامة",
    });
    // The same codes and order in both languages.
    expect(ar.map((s) => s.service_code)).toEqual(en.map((s) => s.service_code));
  });

  it("metadata says which services have questions: the stray animals", async () => {
    const services = await listServices(db(), M, "en");
    expect(services.filter((s) => s.metadata).map((s) => s.service_code)).toEqual(["stray_animals"]);
  });

  it("a description left empty is null; a department without a row is shown by its code", async () => {
    await db().category.create({ data: { municipalityId: M, code: "graffiti", nameAr: "كتابة على الجدران", nameEn: "Graffiti", department: "walls_unit", sortOrder: 1000, descriptionAr: "", descriptionEn: "  " } });
    const graffiti = (await listServices(db(), M, "en")).find((s) => s.service_code === "graffiti");
    expect(graffiti).toMatchObject({ description: null, group: "walls_unit", keywords: null, metadata: false });
  });

  it("deactivating a category removes only it; the others keep their codes and order", async () => {
    const before = await listServices(db(), M, "en");
    await db().category.update({ where: { municipalityId_code: { municipalityId: M, code: "water" } }, data: { active: false } });
    const after = await listServices(db(), M, "en");
    expect(after).toEqual(before.filter((s) => s.service_code !== "water"));
    await db().category.update({ where: { municipalityId_code: { municipalityId: M, code: "water" } }, data: { active: true } });
    expect(await listServices(db(), M, "en")).toEqual(before);
  });

  it("making a category private removes it the same way", async () => {
    const before = await codes();
    await db().category.update({ where: { municipalityId_code: { municipalityId: M, code: "sewage" } }, data: { isPrivate: true } });
    expect(await codes()).toEqual(before.filter((c) => c !== "sewage"));
    await db().category.update({ where: { municipalityId_code: { municipalityId: M, code: "sewage" } }, data: { isPrivate: false } });
  });

  it("a finance category is never a service, even one left public from before Open311", async () => {
    await db().category.create({ data: { municipalityId: M, code: "bill_questions", nameAr: "أسئلة عن الفواتير", nameEn: "Bill questions", department: "finance", sortOrder: 1001 } });
    expect(await codes()).not.toContain("bill_questions");
    expect(await serviceDefinition(db(), M, "bill_questions", "en")).toBeNull();
  });

  it("categories with the same order come in the order they were created", async () => {
    await db().category.createMany({
      data: [
        { municipalityId: M, code: "tie_b", nameAr: "ب", nameEn: "B", department: "health", sortOrder: 15 },
        { municipalityId: M, code: "tie_a", nameAr: "أ", nameEn: "A", department: "health", sortOrder: 15 },
      ],
    });
    const list = await codes();
    expect(list.slice(0, 4)).toEqual(["waste", "tie_b", "tie_a", "roads"]);
    await db().category.updateMany({ where: { code: { in: ["tie_a", "tie_b"] } }, data: { active: false } });
  });
});

describe("keywords as other tools may read them", () => {
  it.each([
    [["pothole", "road"], "pothole, road"],
    [["pot,hole", "  big   hole ", "حفرة، كبيرة"], "pot hole, big hole, حفرة كبيرة"],
    [["private", "Staff", "inactive", "waste_only", "rubbish"], "rubbish"],
    [["road", "Road", "road"], "road"],
    [[",", "  "], null],
    [[], null],
  ])("%j → %j", (keywords, published) => {
    expect(publishableKeywords(JSON.stringify(keywords))).toBe(published);
  });

  it("a broken or odd stored list publishes nothing", () => {
    expect(publishableKeywords("not json")).toBeNull();
    expect(publishableKeywords('{"a":1}')).toBeNull();
  });

  it(`at most ${MAX_PUBLISHED_KEYWORDS}, in the order staff wrote them`, () => {
    const many = Array.from({ length: 30 }, (_, i) => `word${i}`);
    expect(publishableKeywords(JSON.stringify(many))!.split(", ")).toEqual(many.slice(0, MAX_PUBLISHED_KEYWORDS));
  });

  it("the served list never carries FixMyStreet's reserved tokens or a comma inside a keyword", async () => {
    await db().category.update({
      where: { municipalityId_code: { municipalityId: M, code: "other" } },
      data: { keywords: JSON.stringify(["private", "staff", "misc,other", "waste_only", "inactive"]) },
    });
    for (const service of await listServices(db(), M, "en")) {
      const tokens = (service.keywords ?? "").split(",").map((k) => k.trim().toLowerCase());
      for (const reserved of ["private", "inactive", "staff", "waste_only"]) expect(tokens, service.service_code).not.toContain(reserved);
    }
    expect((await listServices(db(), M, "en")).find((s) => s.service_code === "other")?.keywords).toBe("misc other");
  });
});

describe("a service definition", () => {
  it("stray animals: how many (required), then what kind, numbered from 1, in the language asked", async () => {
    expect(await serviceDefinition(db(), M, "stray_animals", "en")).toEqual({
      service_code: "stray_animals",
      attributes: [
        {
          variable: true,
          code: "how_many",
          datatype: "singlevaluelist",
          required: true,
          datatype_description: null,
          order: 1,
          description: "How many animals?",
          values: [
            { key: "one", name: "One" },
            { key: "two_to_five", name: "Two to five" },
            { key: "more_than_five", name: "More than five" },
          ],
        },
        {
          variable: true,
          code: "animal_kind",
          datatype: "singlevaluelist",
          required: false,
          datatype_description: null,
          order: 2,
          description: "What kind of animals?",
          values: [
            { key: "dogs", name: "Dogs" },
            { key: "cats", name: "Cats" },
            { key: "other", name: "Other" },
          ],
        },
      ],
    });
    const ar = await serviceDefinition(db(), M, "stray_animals", "ar");
    expect(ar?.attributes[0]).toMatchObject({ description: "كم عدد الحيوانات؟", values: [{ key: "one", name: "حيوان واحد" }, { key: "two_to_five" }, { key: "more_than_five" }] });
  });

  it("a service without questions has an empty definition", async () => {
    expect(await serviceDefinition(db(), M, "roads", "en")).toEqual({ service_code: "roads", attributes: [] });
  });

  it("is null for an unknown, inactive or private service", async () => {
    expect(await serviceDefinition(db(), M, "nothing_here", "en")).toBeNull();
    expect(await serviceDefinition(db(), M, "certificates", "en")).toBeNull();
    expect(await serviceDefinition(db(), M, "tie_a", "en")).toBeNull();
    expect(await serviceDefinition(db(), "no-such-town", "stray_animals", "en")).toBeNull();
  });

  it("questions follow staff's order (then creation), skip deactivated ones, and stay numbered 1..n", async () => {
    const roads = await db().category.findUniqueOrThrow({ where: { municipalityId_code: { municipalityId: M, code: "roads" } } });
    const question = (code: string, sortOrder: number, extra: Record<string, unknown> = {}) => ({
      municipalityId: M,
      categoryId: roads.id,
      code,
      datatype: "number",
      sortOrder,
      descriptionAr: `سؤال ${code}`,
      descriptionEn: `Question ${code}`,
      ...extra,
    });
    await db().categoryAttribute.createMany({
      data: [
        question("depth_cm", 30),
        question("width_cm", 10),
        question("retired", 5, { active: false }),
        question("length_cm", 10),
        question("notes", 40, { datatype: "text" }),
        question("odd", 1, { datatype: "boolean" }),
      ],
    });
    const definition = await serviceDefinition(db(), M, "roads", "en");
    expect(definition?.attributes.map((a) => [a.order, a.code, a.values])).toEqual([
      [1, "width_cm", []],
      [2, "length_cm", []],
      [3, "depth_cm", []],
      [4, "notes", []],
    ]);
    expect((await listServices(db(), M, "en")).find((s) => s.service_code === "roads")?.metadata).toBe(true);
  });

  it("a category whose only questions are deactivated has no metadata", async () => {
    const roads = await db().category.findUniqueOrThrow({ where: { municipalityId_code: { municipalityId: M, code: "roads" } } });
    await db().categoryAttribute.updateMany({ where: { categoryId: roads.id }, data: { active: false } });
    expect((await listServices(db(), M, "en")).find((s) => s.service_code === "roads")?.metadata).toBe(false);
  });
});

describe("the services changeset", () => {
  it("moves when a question, a category or a department is saved, and only for that town", async () => {
    const zahle = await servicesChangeset(db(), "zahle");
    let last = await servicesChangeset(db(), M);
    const moved = async () => {
      const now = await servicesChangeset(db(), M);
      const forward = now.getTime() > last.getTime();
      last = now;
      return forward;
    };

    await tick();
    const howMany = await db().categoryAttribute.findFirstOrThrow({ where: { code: "how_many", category: { municipalityId: M } } });
    await db().categoryAttribute.update({ where: { id: howMany.id }, data: { descriptionEn: "How many animals did you see?" } });
    expect(await moved()).toBe(true);

    await tick();
    await db().category.update({ where: { municipalityId_code: { municipalityId: M, code: "waste" } }, data: { active: false } });
    expect(await moved()).toBe(true);

    await tick();
    await db().department.update({ where: { municipalityId_code: { municipalityId: M, code: "health" } }, data: { nameEn: "Public health" } });
    expect(await moved()).toBe(true);
    expect((await listServices(db(), M, "en")).find((s) => s.service_code === "stray_animals")?.group).toBe("Public health");

    expect(await moved()).toBe(false);
    expect(await servicesChangeset(db(), "zahle")).toEqual(zahle);
  });

  it("is the epoch for a town with nothing", async () => {
    expect(await servicesChangeset(db(), "no-such-town")).toEqual(new Date(0));
  });
});
