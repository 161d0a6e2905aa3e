import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolate } from "../../../src/http/staff/format.js";
import { listServices, serviceDefinition, servicesChangeset } from "../../../src/services/open311/services.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { hire, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let hala: StaffBrowser;
let rania: StaffBrowser;
let stray: { id: number };
let roads: { id: number };

beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "rania");
  [hala, rania] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania")]);
  stray = await world.db.category.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, code: "stray_animals" } });
  roads = await world.db.category.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, code: "roads" } });
}, 60_000);
afterAll(async () => {
  await world.drop();
});

const attributesOf = (categoryId: number) => world.db.categoryAttribute.findMany({ where: { categoryId }, orderBy: [{ sortOrder: "asc" }, { id: "asc" }] });
const categoryAt = (code: string) => world.db.category.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, code } });
const flashAfter = async (browser: StaffBrowser, res: Awaited<ReturnType<StaffBrowser["post"]>>) => {
  expect(res.status, res.text).toBe(303);
  return textOf((await browser.follow(res)).text);
};
const inLocale = async (locale: "ar" | "en") => world.db.staff.update({ where: { id: ids.hala }, data: { locale } });
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

const depthQuestion = {
  code: "pothole_size",
  datatype: "singlevaluelist",
  required: "on",
  descriptionAr: "ما حجم الحفرة؟",
  descriptionEn: "How big is the pothole?",
  values: "small | صغيرة | Small\r\n\r\nlarge | كبيرة | Large\r\n",
  sortOrder: "10",
};

describe("only admins, only with the form's token", () => {
  it("an agent can neither see nor change a category's questions", async () => {
    expect((await rania.get(`/staff/admin/categories/${stray.id}/attributes`)).status).toBe(403);
    expect((await rania.get(`/staff/admin/categories/${stray.id}/attributes/1`)).status).toBe(403);
    expect((await rania.post(`/staff/admin/categories/${roads.id}/attributes`, depthQuestion)).status).toBe(403);
    const howMany = (await attributesOf(stray.id))[0]!;
    expect((await rania.post(`/staff/admin/categories/${stray.id}/attributes/${howMany.id}/active`, { active: "false" })).status).toBe(403);
    expect(await attributesOf(roads.id)).toEqual([]);
    expect((await attributesOf(stray.id))[0]?.active).toBe(true);
  });

  it("a form without the session's CSRF token changes nothing", async () => {
    await hala.get(`/staff/admin/categories/${roads.id}/attributes`);
    expect((await hala.post(`/staff/admin/categories/${roads.id}/attributes`, { ...depthQuestion, _csrf: "forged" })).status).toBe(403);
    expect((await hala.post(`/staff/admin/categories/${roads.id}/attributes`, { ...depthQuestion, _csrf: "" })).status).toBe(403);
    expect(await attributesOf(roads.id)).toEqual([]);
  });

  it("another category's question, or a category that does not exist, is a 404", async () => {
    const howMany = (await attributesOf(stray.id))[0]!;
    expect((await hala.get(`/staff/admin/categories/${roads.id}/attributes/${howMany.id}`)).status).toBe(404);
    expect((await hala.post(`/staff/admin/categories/${roads.id}/attributes/${howMany.id}/active`, { active: "false" })).status).toBe(404);
    expect((await hala.get("/staff/admin/categories/999999/attributes")).status).toBe(404);
    expect((await attributesOf(stray.id))[0]?.active).toBe(true);
  });
});

describe("the questions of a category", () => {
  it("the seeded stray animals questions are listed in both languages, linked from the category", async () => {
    await inLocale("en");
    const list = await hala.get(`/staff/admin/categories/${stray.id}/attributes`);
    expect(list.status).toBe(200);
    const text = textOf(list.text);
    expect(text).toContain("How many animals?");
    expect(text).toContain("What kind of animals?");
    expect(text).toContain("3 choices");
    expect(list.text).toContain('name="_csrf"');
    const categories = textOf((await hala.get("/staff/admin/categories")).text);
    expect(categories).toContain("2 questions");
    expect(categories).toContain("Private");
    expect((await hala.get(`/staff/admin/categories/${stray.id}`)).text).toContain(`href="/staff/admin/categories/${stray.id}/attributes"`);
    const howMany = (await attributesOf(stray.id))[0]!;
    const edit = await hala.get(`/staff/admin/categories/${stray.id}/attributes/${howMany.id}`);
    expect(edit.status).toBe(200);
    expect(textOf(edit.text)).toContain("The code cannot be changed.");
    expect(edit.text).toContain("one | حيوان واحد | One\ntwo_to_five | من اثنين إلى خمسة | Two to five\nmore_than_five | أكثر من خمسة | More than five</textarea>");

    await inLocale("ar");
    const arabic = await hala.get(`/staff/admin/categories/${stray.id}/attributes`);
    expect(arabic.text).toContain('<html lang="ar" dir="rtl">');
    expect(textOf(arabic.text)).toContain("كم عدد الحيوانات؟");
    expect(textOf(arabic.text)).toContain("3 خيارات");
    expect(textOf((await hala.get("/staff/admin/categories")).text)).toContain("سؤالان");
  });

  it("Hala adds a question: saved with its choices, the category's version and the Open311 changeset move", async () => {
    const before = await categoryAt("roads");
    const changeset = await servicesChangeset(world.db, MUNICIPALITY);
    await tick();
    expect(await flashAfter(hala, await hala.post(`/staff/admin/categories/${roads.id}/attributes`, depthQuestion))).toContain("أُضيف السؤال.");
    const [question] = await attributesOf(roads.id);
    expect(question).toMatchObject({ code: "pothole_size", datatype: "singlevaluelist", required: true, sortOrder: 10, active: true, municipalityId: MUNICIPALITY, descriptionEn: "How big is the pothole?" });
    expect(JSON.parse(question!.values)).toEqual([
      { key: "small", nameAr: "صغيرة", nameEn: "Small" },
      { key: "large", nameAr: "كبيرة", nameEn: "Large" },
    ]);
    expect((await categoryAt("roads")).updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
    expect((await servicesChangeset(world.db, MUNICIPALITY)).getTime()).toBeGreaterThan(changeset.getTime());
    expect((await listServices(world.db, MUNICIPALITY, "en")).find((s) => s.service_code === "roads")?.metadata).toBe(true);
    expect(await serviceDefinition(world.db, MUNICIPALITY, "roads", "ar")).toMatchObject({ attributes: [{ code: "pothole_size", order: 1, description: "ما حجم الحفرة؟", values: [{ key: "small", name: "صغيرة" }, { key: "large", name: "كبيرة" }] }] });
  });

  it("a form with problems comes back with every problem and what was typed; nothing is saved", async () => {
    const res = await hala.post(`/staff/admin/categories/${roads.id}/attributes`, {
      code: "Bad Code",
      datatype: "singlevaluelist",
      descriptionAr: "",
      descriptionEn: "Which lane?",
      values: "left | يسار | Left\nRight lane\nBAD | س | x\nleft | يسار | Left again\nmiddle |  | Middle",
      sortOrder: "-1",
    });
    expect(res.status).toBe(400);
    const text = textOf(res.text);
    for (const problem of [
      "لم يُحفظ شيء.",
      "السطر 2: اكتب المفتاح | الاسم بالعربية | الاسم بالإنجليزية.",
      "السطر 3: يجب أن يتكون المفتاح",
      `السطر 4: المفتاح ${isolate("left")} مكرر.`,
      "السطر 5: الاسمان مطلوبان",
      "يجب أن يكون الترتيب عدداً صحيحاً",
      "يجب أن يتكون الرمز من أحرف لاتينية صغيرة",
      "اكتب السؤال بالعربية",
    ]) {
      expect(text).toContain(problem);
    }
    expect(text).toContain("Right lane\nBAD | س | x");
    expect(res.text).toContain('value="Which lane?"');
    expect(res.text).toContain('value="Bad Code"');
    expect(await attributesOf(roads.id)).toHaveLength(1);
  });

  it.each([
    [{ datatype: "text", values: "a | أ | A" }, "الخيارات لأنواع القوائم فقط"],
    [{ datatype: "multivaluelist", values: "" }, "تحتاج القائمة من خيار واحد إلى 50 خياراً."],
    [{ datatype: "colour" }, "اختر نوع الجواب."],
    [{ code: "pothole_size" }, `الرمز ${isolate("pothole_size")} مستعمل في هذه الفئة`],
  ])("refused: %o", async (patch, problem) => {
    const res = await hala.post(`/staff/admin/categories/${roads.id}/attributes`, { ...depthQuestion, code: "lane", ...patch });
    expect(res.status).toBe(400);
    expect(textOf(res.text)).toContain(problem);
    expect(await attributesOf(roads.id)).toHaveLength(1);
  });

  it("a deactivated question's code is not reused", async () => {
    const [question] = await attributesOf(roads.id);
    expect(await flashAfter(hala, await hala.post(`/staff/admin/categories/${roads.id}/attributes/${question!.id}/active`, { active: "false" }))).toContain("أُوقف السؤال");
    expect(await serviceDefinition(world.db, MUNICIPALITY, "roads", "en")).toEqual({ service_code: "roads", attributes: [] });
    const again = await hala.post(`/staff/admin/categories/${roads.id}/attributes`, depthQuestion);
    expect(again.status).toBe(400);
    expect(textOf(again.text)).toContain(`الرمز ${isolate("pothole_size")} مستعمل في هذه الفئة (ربما لسؤال موقوف)`);
    expect(await flashAfter(hala, await hala.post(`/staff/admin/categories/${roads.id}/attributes/${question!.id}/active`, { active: "true" }))).toContain("أُعيد تفعيل السؤال.");
    expect((await attributesOf(roads.id))[0]?.active).toBe(true);
  });

  it("editing keeps the code whatever is posted, and saves the rest only when all of it is valid", async () => {
    const [question] = await attributesOf(roads.id);
    const page = await hala.get(`/staff/admin/categories/${roads.id}/attributes/${question!.id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('name="code"');
    expect(page.text).toContain("small | صغيرة | Small\nlarge | كبيرة | Large</textarea>");

    const bad = await hala.post(`/staff/admin/categories/${roads.id}/attributes/${question!.id}`, { ...depthQuestion, code: "renamed", values: "small | صغيرة | Small\nhuge", active: "on" });
    expect(bad.status).toBe(400);
    expect(textOf(bad.text)).toContain("السطر 2:");
    expect(await attributesOf(roads.id)).toEqual([question]);

    const saved = await hala.post(`/staff/admin/categories/${roads.id}/attributes/${question!.id}`, {
      ...depthQuestion,
      code: "renamed",
      datatype: "multivaluelist",
      required: [],
      descriptionEn: "How big is it?",
      values: "small | صغيرة | Small\nlarge | كبيرة | Large\nhuge | ضخمة | Huge",
      sortOrder: "20",
      active: "on",
    });
    expect(await flashAfter(hala, saved)).toContain("حُفظ.");
    const [after] = await attributesOf(roads.id);
    expect(after).toMatchObject({ id: question!.id, code: "pothole_size", datatype: "multivaluelist", required: false, descriptionEn: "How big is it?", sortOrder: 20, active: true });
    expect(JSON.parse(after!.values).map((v: { key: string }) => v.key)).toEqual(["small", "large", "huge"]);
  });

  it("Hala reorders by number: the service definition follows", async () => {
    const [howMany, kind] = await attributesOf(stray.id);
    const before = await categoryAt("stray_animals");
    await tick();
    expect(await flashAfter(hala, await hala.post(`/staff/admin/categories/${stray.id}/attributes/order`, { [`order_${howMany!.id}`]: "30", [`order_${kind!.id}`]: "5" }))).toContain("حُفظ الترتيب.");
    expect((await serviceDefinition(world.db, MUNICIPALITY, "stray_animals", "en"))?.attributes.map((a) => [a.order, a.code])).toEqual([
      [1, "animal_kind"],
      [2, "how_many"],
    ]);
    expect((await categoryAt("stray_animals")).updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
    for (const bad of ["x", "", "-1", "100001", "1.5"]) {
      expect(await flashAfter(hala, await hala.post(`/staff/admin/categories/${stray.id}/attributes/order`, { [`order_${howMany!.id}`]: bad, [`order_${kind!.id}`]: "1" }))).toContain("يجب أن يكون الترتيب");
    }
    expect((await attributesOf(stray.id)).map((a) => a.code)).toEqual(["animal_kind", "how_many"]);
  });

  it("hostile text is shown as text on the Arabic pages", async () => {
    await inLocale("ar");
    const hostile = '<script>alert("x")</script>';
    expect(
      await flashAfter(
        hala,
        await hala.post(`/staff/admin/categories/${stray.id}/attributes`, {
          code: "colour",
          datatype: "singlevaluelist",
          descriptionAr: `${hostile} ما لونه؟`,
          descriptionEn: `<img src=x onerror=alert(1)> Colour?`,
          values: `brown | بني ${hostile} | Brown </textarea><b>`,
          sortOrder: "40",
        }),
      ),
    ).toContain("أُضيف السؤال.");
    const colour = (await attributesOf(stray.id)).find((a) => a.code === "colour")!;
    for (const path of [`/staff/admin/categories/${stray.id}/attributes`, `/staff/admin/categories/${stray.id}/attributes/${colour.id}`]) {
      const page = await hala.get(path);
      expect(page.text).toContain('<html lang="ar" dir="rtl">');
      expect(page.text).not.toContain("<script>alert");
      expect(page.text).not.toContain("<img src=x");
      expect(page.text).not.toContain("</textarea><b>");
    }
    const edit = await hala.get(`/staff/admin/categories/${stray.id}/attributes/${colour.id}`);
    expect(edit.text).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; ما لونه؟");
    expect(edit.text).toContain("Brown &lt;/textarea&gt;&lt;b&gt;</textarea>");
    // A problem quotes what was typed, escaped too.
    const refused = await hala.post(`/staff/admin/categories/${stray.id}/attributes`, { code: "colour", datatype: "singlevaluelist", descriptionAr: "س", descriptionEn: "x", values: `a | <script>x</script> | A\nb | ب | B\nb | ب | B`, sortOrder: "1" });
    expect(refused.status).toBe(400);
    expect(refused.text).not.toContain("<script>x");
  });
});

describe("private categories and descriptions", () => {
  const category = (code: string, department: string, extra: Record<string, string> = {}) => ({
    code,
    nameAr: "فئة",
    nameEn: "A category",
    department,
    keywords: "",
    needsLocation: "on",
    active: "on",
    sortOrder: "200",
    ...extra,
  });

  it("the category form has the private box and the descriptions, in both languages", async () => {
    for (const locale of ["ar", "en"] as const) {
      await inLocale(locale);
      const page = await hala.get("/staff/admin/categories");
      expect(page.text).toContain('name="isPrivate"');
      expect(page.text).toContain('name="descriptionAr"');
      expect(page.text).toContain('name="descriptionEn"');
      expect(textOf(page.text)).toContain(locale === "ar" ? "خاصة (لا تظهر أبداً عبر Open311)" : "Private (never shown through Open311)");
    }
    await inLocale("ar");
  });

  it("a category created with the box ticked is private; its descriptions are saved", async () => {
    const res = await hala.post("/staff/admin/categories", category("internal_audit", "administration", { isPrivate: "on", descriptionAr: "تدقيق داخلي", descriptionEn: "  Internal audit  " }));
    expect(await flashAfter(hala, res)).toContain("أُنشئت الفئة.");
    expect(await categoryAt("internal_audit")).toMatchObject({ isPrivate: true, descriptionAr: "تدقيق داخلي", descriptionEn: "Internal audit" });
    expect((await listServices(world.db, MUNICIPALITY, "en")).map((s) => s.service_code)).not.toContain("internal_audit");
  });

  it("a finance category is private even with the box left empty, and Hala is told so", async () => {
    const text = await flashAfter(hala, await hala.post("/staff/admin/categories", category("fees", "finance")));
    expect(text).toContain("أُنشئت الفئة.");
    expect(text).toContain("فئات الدائرة المالية خاصة افتراضياً");
    expect((await categoryAt("fees")).isPrivate).toBe(true);
    expect((await listServices(world.db, MUNICIPALITY, "en")).map((s) => s.service_code)).not.toContain("fees");
  });

  it("Hala may then publish it deliberately; moving a public category into finance makes it private again", async () => {
    const fees = await categoryAt("fees");
    expect((await hala.get(`/staff/admin/categories/${fees.id}`)).text).toMatch(/name="isPrivate" value="on" checked/);
    await flashAfter(hala, await hala.post(`/staff/admin/categories/${fees.id}`, category("fees", "finance", { descriptionEn: "Municipal fees" })));
    expect(await categoryAt("fees")).toMatchObject({ isPrivate: false, descriptionEn: "Municipal fees" });

    const other = await categoryAt("other");
    const moved = await flashAfter(hala, await hala.post(`/staff/admin/categories/${other.id}`, category("other", "finance")));
    expect(moved).toContain("فئات الدائرة المالية خاصة افتراضياً");
    expect((await categoryAt("other")).isPrivate).toBe(true);
  });

  it("a description over 500 characters is refused with its own message", async () => {
    const res = await hala.post("/staff/admin/categories", category("too_long", "health", { descriptionEn: "x".repeat(501) }));
    expect(await flashAfter(hala, res)).toContain("لا يتجاوز الوصف 500 حرف.");
    expect(await world.db.category.count({ where: { code: "too_long" } })).toBe(0);
  });

  it("hostile text in a category's description is shown as text", async () => {
    const water = await categoryAt("water");
    await flashAfter(hala, await hala.post(`/staff/admin/categories/${water.id}`, category("water", "water", { descriptionAr: '</textarea><script>alert("x")</script>' })));
    const page = await hala.get(`/staff/admin/categories/${water.id}`);
    expect(page.text).toContain('<html lang="ar" dir="rtl">');
    expect(page.text).not.toContain("<script>alert");
    expect(page.text).toContain("&lt;/textarea&gt;&lt;script&gt;");
  });
});
