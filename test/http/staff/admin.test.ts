import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolate } from "../../../src/http/staff/format.js";
import { actorForApiToken } from "../../../src/services/apiTokens.js";
import { verifyPassword } from "../../../src/services/passwords.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { hire, PEOPLE, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let hala: StaffBrowser;
let rania: StaffBrowser;

beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "rania");
  [hala, rania] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania")]);
}, 60_000);
afterAll(async () => {
  await world.drop();
});

const flashAfter = async (browser: StaffBrowser, res: Awaited<ReturnType<StaffBrowser["post"]>>) => {
  expect(res.status, res.text).toBe(303);
  return textOf((await browser.follow(res)).text);
};

describe("admin pages are for admins", () => {
  it.each(["/staff/admin/staff", `/staff/admin/staff/1`, "/staff/admin/departments", "/staff/admin/categories", "/staff/admin/categories/1", "/staff/admin/canned-replies", "/staff/admin/api-tokens", "/staff/admin/channels", "/staff/admin/whatsapp-web"])(
    "an agent opening %s gets 403",
    async (path) => {
      const res = await rania.get(path);
      expect(res.status).toBe(403);
      expect(textOf(res.text)).toContain("غير مسموح");
    },
  );

  it("an agent's forged admin form changes nothing", async () => {
    expect((await rania.post("/staff/admin/staff", { username: "mole", password: "mole-password-1", displayName: "Mole", role: "admin", locale: "ar" })).status).toBe(403);
    expect((await rania.post("/staff/admin/api-tokens", { staffId: String(ids.rania), name: "mine" })).status).toBe(403);
    expect(await world.db.staff.count({ where: { username: "mole" } })).toBe(0);
    expect(await world.db.apiToken.count()).toBe(0);
  });

  it("agents do not see the admin links; admins do", async () => {
    expect((await rania.get("/staff")).text).not.toContain('href="/staff/admin/staff"');
    expect((await hala.get("/staff")).text).toContain('href="/staff/admin/staff"');
  });

  it("every admin page reads in Arabic and in English", async () => {
    const category = await world.db.category.findFirstOrThrow({ where: { code: "roads" } });
    const pages = ["/staff/admin/staff", `/staff/admin/staff/${ids.rania}`, `/staff/admin/staff/${ids.hala}`, "/staff/admin/departments", "/staff/admin/categories", `/staff/admin/categories/${category.id}`, "/staff/admin/canned-replies", "/staff/admin/api-tokens", "/staff/admin/channels", "/staff/admin/whatsapp-web"];
    for (const [locale, dir] of [["en", "ltr"], ["ar", "rtl"]] as const) {
      await world.db.staff.update({ where: { id: ids.hala }, data: { locale } });
      for (const path of pages) {
        const res = await hala.get(path);
        expect(res.status, `${locale} ${path}`).toBe(200);
        expect(res.text).toContain(`<html lang="${locale}" dir="${dir}">`);
      }
    }
  });
});

describe("staff accounts", () => {
  it("Hala creates an agent for the water department, who can then sign in", async () => {
    const res = await hala.post("/staff/admin/staff", { username: "Samir", password: "samir-password-1", displayName: "Samir Haddad", role: "agent", locale: "en", departments: ["water", "sanitation"] });
    expect(await flashAfter(hala, res)).toContain(`أُنشئ الحساب ${isolate("samir")}.`);
    const samir = await world.db.staff.findFirstOrThrow({ where: { username: "samir" }, include: { departments: true } });
    expect(samir).toMatchObject({ displayName: "Samir Haddad", role: "agent", locale: "en", active: true });
    expect(samir.departments.map((d) => d.departmentCode).sort()).toEqual(["sanitation", "water"]);
    // Hashed with scrypt (the suite hashes cheaply; test/cli/createAdmin.test.ts checks the production cost).
    expect(samir.passwordHash).toMatch(/^scrypt\$\d+\$8\$1\$/);

    const page = textOf((await hala.get("/staff/admin/staff")).text);
    expect(page).toContain("Samir Haddad");
    expect(page).toContain("المياه");
    expect((await new StaffBrowser(world.app).signIn("samir", "samir-password-1")).status).toBe(303);
  });

  it.each([
    [{ username: "rania", password: "another-password" }, `اسم المستخدم ${isolate("rania")} مأخوذ.`],
    [{ username: "x", password: "another-password" }, "يجب أن يتكون اسم المستخدم من 3 إلى 40"],
    [{ username: "nadia", password: "short" }, "يجب ألا تقل كلمة المرور عن 10 أحرف."],
    [{ username: "nadia", password: "long-enough-pass", role: "superuser" }, "اختر الدور."],
  ])("a bad new account is refused with a reason: %o", async (fields, reason) => {
    const res = await hala.post("/staff/admin/staff", { displayName: "Someone", role: "agent", locale: "ar", ...fields });
    expect(await flashAfter(hala, res)).toContain(reason);
    expect(await world.db.staff.count({ where: { username: "nadia" } })).toBe(0);
  });

  it("Hala changes an agent's role, departments and language", async () => {
    const samir = await world.db.staff.findFirstOrThrow({ where: { username: "samir" } });
    const res = await hala.post(`/staff/admin/staff/${samir.id}`, { displayName: "Samir H.", role: "agent", locale: "ar", departments: "electricity" });
    expect(await flashAfter(hala, res)).toContain("حُفظ.");
    const after = await world.db.staff.findFirstOrThrow({ where: { id: samir.id }, include: { departments: true } });
    expect(after).toMatchObject({ displayName: "Samir H.", locale: "ar" });
    expect(after.departments.map((d) => d.departmentCode)).toEqual(["electricity"]);
  });

  it("deactivating signs the person out at once; reactivating lets them back in", async () => {
    const samir = await world.db.staff.findFirstOrThrow({ where: { username: "samir" } });
    const browser = new StaffBrowser(world.app);
    expect((await browser.signIn("samir", "samir-password-1")).status).toBe(303);
    expect((await browser.get("/staff")).status).toBe(200);

    expect(await flashAfter(hala, await hala.post(`/staff/admin/staff/${samir.id}/active`, { active: "false" }))).toContain("أُوقف الحساب وأُنهيت جلساته.");
    expect((await browser.get("/staff")).status).toBe(303);
    expect(await world.db.staffSession.count({ where: { staffId: samir.id } })).toBe(0);

    expect(await flashAfter(hala, await hala.post(`/staff/admin/staff/${samir.id}/active`, { active: "true" }))).toContain("أُعيد تفعيل الحساب.");
    expect((await world.db.staff.findUniqueOrThrow({ where: { id: samir.id } })).active).toBe(true);
  });

  it("Hala cannot deactivate or demote herself", async () => {
    expect(await flashAfter(hala, await hala.post(`/staff/admin/staff/${ids.hala}/active`, { active: "false" }))).toContain("لا يمكنك إيقاف حسابك بنفسك.");
    await hala.post(`/staff/admin/staff/${ids.hala}`, { displayName: "Hala", role: "agent", locale: "ar" });
    expect(await world.db.staff.findUniqueOrThrow({ where: { id: ids.hala } })).toMatchObject({ role: "admin", active: true });
  });

  it("resetting a password replaces it and ends the person's sessions", async () => {
    const samir = await world.db.staff.findFirstOrThrow({ where: { username: "samir" } });
    const browser = new StaffBrowser(world.app);
    await browser.signIn("samir", "samir-password-1");
    expect(await flashAfter(hala, await hala.post(`/staff/admin/staff/${samir.id}/password`, { password: "short" }))).toContain("يجب ألا تقل كلمة المرور عن 10 أحرف.");
    expect(await flashAfter(hala, await hala.post(`/staff/admin/staff/${samir.id}/password`, { password: "a-brand-new-password" }))).toContain("تغيّرت كلمة المرور");
    expect(await verifyPassword("a-brand-new-password", (await world.db.staff.findUniqueOrThrow({ where: { id: samir.id } })).passwordHash)).toBe(true);
    expect((await browser.get("/staff")).status).toBe(303);
  });

  it("a locked account shows as locked and Hala can unlock it", async () => {
    const samir = await world.db.staff.findFirstOrThrow({ where: { username: "samir" } });
    await world.db.staff.update({ where: { id: samir.id }, data: { failedLogins: 0, lockedUntil: new Date(Date.now() + 10 * 60_000) } });
    expect(textOf((await hala.get(`/staff/admin/staff/${samir.id}`)).text)).toContain("مقفل حتى");
    expect(await flashAfter(hala, await hala.post(`/staff/admin/staff/${samir.id}/unlock`))).toContain("فُتح قفل الحساب.");
    expect((await world.db.staff.findUniqueOrThrow({ where: { id: samir.id } })).lockedUntil).toBeNull();
  });
});

describe("departments", () => {
  it("Hala creates a department and renames it; codes are unique", async () => {
    expect(await flashAfter(hala, await hala.post("/staff/admin/departments", { code: "civil_defense", nameAr: "الدفاع المدني", nameEn: "Civil defence" }))).toContain("أُنشئت الدائرة.");
    expect(await flashAfter(hala, await hala.post("/staff/admin/departments", { code: "civil_defense", nameAr: "مكرر", nameEn: "Again" }))).toContain(`الرمز ${isolate("civil_defense")} مستعمل من قبل.`);
    expect(await flashAfter(hala, await hala.post("/staff/admin/departments", { code: "Bad Code", nameAr: "س", nameEn: "x" }))).toContain("يجب أن يتكون الرمز");

    const department = await world.db.department.findFirstOrThrow({ where: { code: "civil_defense" } });
    expect(await flashAfter(hala, await hala.post(`/staff/admin/departments/${department.id}`, { nameAr: "الدفاع المدني والطوارئ", nameEn: "Civil defence and emergencies" }))).toContain("حُفظ.");
    expect(await world.db.department.findUniqueOrThrow({ where: { id: department.id } })).toMatchObject({ code: "civil_defense", nameEn: "Civil defence and emergencies" });
  });
});

describe("categories", () => {
  it("Hala adds a category with keywords one per line, then edits it", async () => {
    const res = await hala.post("/staff/admin/categories", {
      code: "fallen_trees",
      nameAr: "أشجار مقطوعة",
      nameEn: "Fallen trees",
      department: "public_works",
      keywords: "شجرة\r\n  shajara \r\n\r\ntree\nشجرة",
      needsLocation: "on",
      active: "on",
      sortOrder: "95",
    });
    expect(await flashAfter(hala, res)).toContain("أُنشئت الفئة.");
    const created = await world.db.category.findFirstOrThrow({ where: { code: "fallen_trees" } });
    expect(created).toMatchObject({ nameEn: "Fallen trees", department: "public_works", childRelated: false, needsLocation: true, active: true, sortOrder: 95 });
    expect(JSON.parse(created.keywords)).toEqual(["شجرة", "shajara", "tree"]);

    const edit = await hala.get(`/staff/admin/categories/${created.id}`);
    expect(edit.text).toContain("شجرة\nshajara\ntree</textarea>");
    const saved = await hala.post(`/staff/admin/categories/${created.id}`, { nameAr: "أشجار", nameEn: "Trees", department: "health", keywords: "tree", childRelated: "on", sortOrder: "5" });
    expect(await flashAfter(hala, saved)).toContain("حُفظ.");
    expect(await world.db.category.findUniqueOrThrow({ where: { id: created.id } })).toMatchObject({ nameEn: "Trees", department: "health", childRelated: true, needsLocation: false, active: false, sortOrder: 5, keywords: '["tree"]' });
  });

  it("a category must go to an existing department", async () => {
    const res = await hala.post("/staff/admin/categories", { code: "ghosts", nameAr: "أشباح", nameEn: "Ghosts", department: "nowhere", sortOrder: "1" });
    expect(await flashAfter(hala, res)).toContain("اختر دائرة موجودة.");
    expect(await world.db.category.count({ where: { code: "ghosts" } })).toBe(0);
  });
});

describe("canned replies", () => {
  it("Hala writes one for a category in Arabic and a general one in English, edits one and deletes the other", async () => {
    const water = await world.db.category.findFirstOrThrow({ where: { code: "water" } });
    expect(await flashAfter(hala, await hala.post("/staff/admin/canned-replies", { title: "انقطاع المياه", body: "نعمل على إعادة المياه اليوم.", locale: "ar", category: String(water.id), sortOrder: "10" }))).toContain("أُنشئ الرد الجاهز.");
    expect(await flashAfter(hala, await hala.post("/staff/admin/canned-replies", { title: "Thanks", body: "Thank you, we are on it.", locale: "en", category: "", sortOrder: "20" }))).toContain("أُنشئ الرد الجاهز.");
    expect(await flashAfter(hala, await hala.post("/staff/admin/canned-replies", { title: "", body: "", locale: "en", category: "", sortOrder: "1" }))).toContain("أدخل العنوان");

    const [arabic, english] = await world.db.cannedReply.findMany({ orderBy: { id: "asc" } });
    expect(arabic).toMatchObject({ categoryId: water.id, locale: "ar" });
    expect(english).toMatchObject({ categoryId: null, locale: "en" });
    expect(textOf((await hala.get("/staff/admin/canned-replies")).text)).toContain("عام (كل الفئات)");

    await hala.post(`/staff/admin/canned-replies/${english!.id}`, { title: "Thank you", body: "Thank you — we are on it.", locale: "en", category: "", sortOrder: "5" });
    expect(await world.db.cannedReply.findUniqueOrThrow({ where: { id: english!.id } })).toMatchObject({ title: "Thank you", sortOrder: 5 });
    expect(await flashAfter(hala, await hala.post(`/staff/admin/canned-replies/${arabic!.id}/delete`))).toContain("حُذف الرد الجاهز.");
    expect(await world.db.cannedReply.count()).toBe(1);
  });
});

describe("API tokens", () => {
  it("Hala creates a token for Rania: shown once, it acts as Rania until revoked", async () => {
    const created = await hala.post("/staff/admin/api-tokens", { staffId: String(ids.rania), name: "Archive system" });
    expect(created.status).toBe(201);
    expect(created.headers["cache-control"]).toBe("no-store");
    const token = /<code class="token" dir="ltr">(bld_[A-Za-z0-9_-]+)<\/code>/.exec(created.text)?.[1];
    expect(token).toBeDefined();
    expect(textOf(created.text)).toContain("يظهر هذه المرة فقط");

    const actor = await world.db.$transaction((tx) => actorForApiToken(tx, token!, new Date()));
    expect(actor).toMatchObject({ id: ids.rania, role: "agent", departments: [...PEOPLE.rania.departments] });

    const list = await hala.get("/staff/admin/api-tokens");
    expect(list.text).not.toContain(token!);
    expect(list.text).toContain(`${token!.slice(0, 10)}…`);
    expect(textOf(list.text)).toContain("Archive system");

    // Revoking is a link to a confirmation page, never a one-click form.
    const record = await world.db.apiToken.findFirstOrThrow({ where: { name: "Archive system" } });
    expect(list.text).toContain(`<a class="btn btn-ghost btn-small btn-danger-text" href="/staff/admin/api-tokens/${record.id}/revoke">`);
    expect(list.text).not.toContain(`action="/staff/admin/api-tokens/${record.id}/revoke"`);
    const confirm = await hala.get(`/staff/admin/api-tokens/${record.id}/revoke`);
    expect(confirm.status).toBe(200);
    expect(textOf(confirm.text)).toContain("هل تريد إلغاء المفتاح «\u2068Archive system\u2069»؟");
    expect(textOf(confirm.text)).toContain("يتوقف كل ما يستعمله عن العمل فوراً");
    expect(confirm.text).toContain('<input type="hidden" name="confirm" value="yes">');

    // A POST without the confirmation (an old page, a script) only leads to the question.
    const direct = await hala.post(`/staff/admin/api-tokens/${record.id}/revoke`);
    expect(direct.status).toBe(303);
    expect(direct.headers.location).toBe(`/staff/admin/api-tokens/${record.id}/revoke`);
    expect(await world.db.$transaction((tx) => actorForApiToken(tx, token!, new Date()))).not.toBeNull();

    expect(await flashAfter(hala, await hala.post(`/staff/admin/api-tokens/${record.id}/revoke`, { confirm: "yes" }))).toContain("أُلغي المفتاح: لم يعد يعمل.");
    expect(await world.db.$transaction((tx) => actorForApiToken(tx, token!, new Date()))).toBeNull();
    expect(textOf((await hala.get("/staff/admin/api-tokens")).text)).toContain("أُلغي في");
    // Asking again says it already is.
    expect(await flashAfter(hala, await hala.get(`/staff/admin/api-tokens/${record.id}/revoke`))).toContain("مُلغى أصلاً");
    expect(await flashAfter(hala, await hala.post(`/staff/admin/api-tokens/${record.id}/revoke`, { confirm: "yes" }))).toContain("مُلغى أصلاً");
    expect((await hala.get("/staff/admin/api-tokens/999999/revoke")).status).toBe(404);
  });

  it("a token needs a name and an active owner", async () => {
    expect(await flashAfter(hala, await hala.post("/staff/admin/api-tokens", { staffId: String(ids.rania), name: " " }))).toContain("أدخل اسماً للمفتاح");
    expect(await flashAfter(hala, await hala.post("/staff/admin/api-tokens", { staffId: "999999", name: "Ghost" }))).toContain("اختر موظفاً فعّالاً.");
    expect(await world.db.apiToken.count({ where: { municipalityId: MUNICIPALITY, revokedAt: null } })).toBe(0);
  });
});
