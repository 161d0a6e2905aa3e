import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hire, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let hala: StaffBrowser; // admin, Arabic
let rania: StaffBrowser; // agent without the permission, Arabic
let karim: StaffBrowser; // agent given the permission, English

let phone = 71_100_000;
async function joinedResident(locale: "ar" | "en", area: string | null = null) {
  return world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: `+961${++phone}`, locale, area, surveyJoinedAt: new Date(), surveySource: "keyword" } });
}

const WASTE = {
  title_ar: "الرضا عن جمع النفايات، شهري",
  title_en: "Waste collection satisfaction, monthly",
  intro_ar: "",
  intro_en: "",
  blocks: "3",
  q0_type: "rating",
  q0_scale: "5",
  q0_ar: "ما مدى رضاك عن جمع النفايات هذا الشهر؟",
  q0_en: "How satisfied are you with waste collection this month?",
  q1_type: "choice",
  q1_ar: "ما الذي يجب إصلاحه أولاً؟",
  q1_en: "What should the municipality fix first?",
  q1_options_ar: "الطرقات\nالإنارة\nالنفايات",
  q1_options_en: "Roads\nLighting\nWaste",
  q2_type: "yesno",
  q2_ar: "هل لدى أطفالك مكان آمن للعب قرب المنزل؟",
  q2_en: "Do your children have a safe place to play near home?",
  start: "now",
  recurrence: "monthly",
  day: "5",
  time: "10:00",
  expiry_hours: "72",
};

/** Submits the new-survey form; returns the new survey's id (after the redirect). */
async function createDraft(browser: StaffBrowser, form: Record<string, string>): Promise<number> {
  await browser.get("/staff/surveys/new");
  const res = await browser.post("/staff/surveys/new", form);
  expect(res.status, res.text).toBe(303);
  const id = Number(/\/staff\/surveys\/(\d+)$/.exec(res.headers.location ?? "")?.[1]);
  expect(id).toBeGreaterThan(0);
  return id;
}

const confirmedOf = (page: string) => /name="confirmedSegments" value="(\d+)"/.exec(page)?.[1];

beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "rania", "karim");
  [hala, rania, karim] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania"), signedIn(world.app, "karim")]);
  for (const locale of ["ar", "ar", "ar", "en", "en"] as const) await joinedResident(locale, "Haouch");
  // Never counted: a resident who said STOP, one who left surveys, one who never joined.
  await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: "+96171199991", locale: "ar", optedOut: true, surveyJoinedAt: new Date() } });
  await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: "+96171199992", locale: "ar", surveyJoinedAt: new Date(), surveyLeftAt: new Date() } });
  await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: "+96171199993", locale: "ar" } });
}, 60_000);
afterAll(async () => {
  await world.drop();
});

describe("the surveys permission", () => {
  it("an agent without it gets 403 with an explanation, and no link", async () => {
    const res = await rania.get("/staff/surveys");
    expect(res.status).toBe(403);
    expect(textOf(res.text)).toContain('<html lang="ar" dir="rtl">');
    expect(res.text).toContain("error-card");
    expect((await rania.get("/staff/surveys/new")).status).toBe(403);
    expect((await rania.get("/staff/surveys/import")).status).toBe(403);
    expect((await rania.get("/staff")).text).not.toContain('href="/staff/surveys"');
    const post = await rania.post("/staff/surveys/new", WASTE);
    expect(post.status).toBe(403);
    expect(await world.db.survey.count()).toBe(0);
  });

  it("an admin gives it on the staff page; the agent then sees the surveys", async () => {
    const page = await hala.get(`/staff/admin/staff/${ids.karim}`);
    expect(page.text).toContain('name="canRunSurveys"');
    expect(textOf(page.text)).toContain("يمكنه إدارة الاستطلاعات");
    const res = await hala.post(`/staff/admin/staff/${ids.karim}`, { displayName: "Karim", role: "agent", locale: "en", departments: ["electricity", "water"], canRunSurveys: "on" });
    expect(res.status).toBe(303);
    expect((await world.db.staff.findUniqueOrThrow({ where: { id: ids.karim } })).canRunSurveys).toBe(true);
    expect((await hala.get(`/staff/admin/staff/${ids.karim}`)).text).toMatch(/name="canRunSurveys" value="on" checked/);
    const list = await karim.get("/staff/surveys");
    expect(list.status).toBe(200);
    expect(list.text).toContain('href="/staff/surveys"');
    expect(list.text).toContain("No survey yet.");
  });
});

describe("an officer defines and schedules a monthly survey", () => {
  let id: number;

  it("creates it in Arabic and English, then sees the SMS preview and the estimate", async () => {
    id = await createDraft(karim, WASTE);
    const page = await karim.get(`/staff/surveys/${id}`);
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain("Waste collection satisfaction, monthly");
    expect(text).toContain("الرضا عن جمع النفايات، شهري");
    expect(text).toContain("Monthly on day 5 at 10:00");
    // Both languages, each message pre-wrapped with its segments and encoding.
    expect(page.text).toContain('<pre class="sms-text" dir="auto">');
    expect(text).toContain("How satisfied are you with waste collection this month?");
    expect(text).toContain("ما مدى رضاك عن جمع النفايات هذا الشهر؟");
    expect(text).toContain("UCS-2");
    expect(text).toContain("GSM-7");
    expect(text).toContain("5 recipients today");
    const survey = await world.db.survey.findUniqueOrThrow({ where: { id } });
    expect(survey.status).toBe("draft");
    // The estimate: 3 Arabic and 2 English SMS residents, each at their language's per-resident cost.
    const n = Number(confirmedOf(page.text));
    expect(n).toBeGreaterThan(0);
    expect(text).toContain(`I confirm about ${n} SMS segments for each run`);
    expect(page.text).toContain('name="confirm" value="on" required');
  });

  it("refuses to schedule without the confirmation ticked", async () => {
    const page = await karim.get(`/staff/surveys/${id}`);
    const res = await karim.post(`/staff/surveys/${id}/schedule`, { confirmedSegments: confirmedOf(page.text)! });
    expect(res.status).toBe(422);
    expect(textOf(res.text)).toContain("Tick the box to confirm");
    expect((await world.db.survey.findUniqueOrThrow({ where: { id } })).status).toBe("draft");
  });

  it("confirms and schedules it", async () => {
    const page = await karim.get(`/staff/surveys/${id}`);
    const n = confirmedOf(page.text)!;
    const res = await karim.post(`/staff/surveys/${id}/schedule`, { confirmedSegments: n, confirm: "on" });
    expect(res.status).toBe(303);
    const after = await karim.follow(res);
    expect(textOf(after.text)).toContain(`Survey scheduled (about ${n} SMS segments per run).`);
    const survey = await world.db.survey.findUniqueOrThrow({ where: { id } });
    expect(survey).toMatchObject({ status: "scheduled", confirmedSegments: Number(n) });
    expect(survey.nextRunAt).not.toBeNull();
    // A scheduled survey is no longer editable.
    expect((await karim.get(`/staff/surveys/${id}/edit`)).status).toBe(303);
    const list = await karim.get("/staff/surveys");
    expect(list.text).toContain(`/staff/surveys/${id}/results`);
    expect(textOf(list.text)).toContain("Scheduled");
  });

  it("pauses, resumes and cancels it with a message each time", async () => {
    const pause = await karim.post(`/staff/surveys/${id}/pause`);
    expect(textOf((await karim.follow(pause)).text)).toContain("Survey paused");
    expect((await world.db.survey.findUniqueOrThrow({ where: { id } })).status).toBe("paused");
    const page = await karim.get(`/staff/surveys/${id}`);
    expect(page.text).toContain(`/staff/surveys/${id}/resume`);
    expect(page.text).not.toContain(`/staff/surveys/${id}/pause"`);
    const again = await karim.post(`/staff/surveys/${id}/pause`);
    expect(textOf((await karim.follow(again)).text)).toContain("Only a scheduled survey can be paused.");
    const resume = await karim.post(`/staff/surveys/${id}/resume`);
    expect(textOf((await karim.follow(resume)).text)).toContain("Survey resumed.");
    expect((await world.db.survey.findUniqueOrThrow({ where: { id } })).status).toBe("scheduled");
    const cancel = await karim.post(`/staff/surveys/${id}/cancel`);
    expect(textOf((await karim.follow(cancel)).text)).toContain("Survey cancelled.");
    expect((await world.db.survey.findUniqueOrThrow({ where: { id } })).status).toBe("cancelled");
  });
});

describe("scheduling is refused when it should be", () => {
  it("a message over 2 segments: the page says which one, and scheduling is refused", async () => {
    const long = "ما مدى رضاك عن نظافة الشوارع والأرصفة والحدائق العامة وجمع النفايات وتنظيف مجاري المياه في حيّك خلال هذا الشهر مقارنة بالشهر الماضي وبالسنة الماضية أيضاً؟";
    const id = await createDraft(hala, { ...WASTE, title_en: "Long", title_ar: "طويل", q0_ar: long, q1_ar: "", q1_en: "", q1_options_ar: "", q1_options_en: "", q2_ar: "", q2_en: "" });
    const page = await hala.get(`/staff/surveys/${id}`);
    const text = textOf(page.text);
    expect(page.text).toContain("sms-too-long");
    expect(text).toContain("لا يمكن جدولة هذا الاستطلاع");
    expect(text).toMatch(/العربية: الدعوة مع السؤال 1 — \d+ مقاطع/);
    expect(page.text).not.toContain('name="confirmedSegments"');
    const res = await hala.post(`/staff/surveys/${id}/schedule`, { confirmedSegments: "0", confirm: "on" });
    expect(res.status).toBe(409);
    expect(textOf(res.text)).toContain("إحدى رسائل هذا الاستطلاع تكلّف أكثر من مقطعين");
    expect((await world.db.survey.findUniqueOrThrow({ where: { id } })).status).toBe("draft");
  });

  it("the estimate changed since the page was shown: the new one is shown and confirmed again", async () => {
    const id = await createDraft(karim, { ...WASTE, title_en: "Changed", title_ar: "تغير", recurrence: "once" });
    const before = confirmedOf((await karim.get(`/staff/surveys/${id}`)).text)!;
    await joinedResident("ar");
    const res = await karim.post(`/staff/surveys/${id}/schedule`, { confirmedSegments: before, confirm: "on" });
    expect(res.status).toBe(409);
    const now = confirmedOf(res.text)!;
    expect(Number(now)).toBeGreaterThan(Number(before));
    expect(textOf(res.text)).toContain(`you confirmed ${before} segments, it is now ${now}`);
    expect((await world.db.survey.findUniqueOrThrow({ where: { id } })).status).toBe("draft");
    const again = await karim.post(`/staff/surveys/${id}/schedule`, { confirmedSegments: now, confirm: "on" });
    expect(again.status).toBe(303);
    expect((await world.db.survey.findUniqueOrThrow({ where: { id } })).confirmedSegments).toBe(Number(now));
  });
});

describe("two officers at once", () => {
  it("a draft edited after the page was shown, even at the same cost, is confirmed again, not scheduled unseen", async () => {
    const id = await createDraft(karim, { ...WASTE, title_en: "Seen", title_ar: "مرئي", recurrence: "once" });
    const page = (await karim.get(`/staff/surveys/${id}`)).text;
    const seen = /name="version" value="(\d+)"/.exec(page)?.[1];
    expect(seen).toBeDefined();
    // Another officer rewords the title meanwhile (no change in cost).
    await world.db.survey.update({ where: { id }, data: { title: JSON.stringify({ ar: "عنوان آخر", en: "Another title" }), updatedAt: new Date(Date.now() + 1000) } });
    const res = await karim.post(`/staff/surveys/${id}/schedule`, { confirmedSegments: confirmedOf(page)!, version: seen!, confirm: "on" });
    expect(res.status).toBe(409);
    expect((await world.db.survey.findUniqueOrThrow({ where: { id } })).status).toBe("draft");
  });
});

describe("the form", () => {
  it("shows the problems in the staff member's language, next to the form kept as typed", async () => {
    await hala.get("/staff/surveys/new");
    const res = await hala.post("/staff/surveys/new", { ...WASTE, title_en: "", q1_options_en: "Roads", recurrence: "cron", cron: "every day" });
    expect(res.status).toBe(422);
    const text = textOf(res.text);
    expect(text).toContain("اكتب العنوان بالإنكليزية.");
    expect(text).toContain("السؤال 2: 3 خيارات بالعربية مقابل 1 بالإنكليزية");
    expect(text).toContain("تعذّرت قراءة تعبير cron");
    expect(text).not.toMatch(/choice_options|Invalid|expected/);
    expect(text).toContain("ما مدى رضاك عن جمع النفايات هذا الشهر؟");
    expect(await world.db.survey.count({ where: { title: { contains: "Changed" } } })).toBe(1);
  });

  it("adds a question block without JavaScript, up to ten", async () => {
    await hala.get("/staff/surveys/new");
    const res = await hala.post("/staff/surveys/new", { ...WASTE, action: "add" });
    expect(res.status).toBe(200);
    expect(res.text).toContain('name="q3_type"');
    expect(res.text).toContain('name="blocks" value="4"');
    expect(textOf(res.text)).toContain("What should the municipality fix first?");
    const full = await hala.post("/staff/surveys/new", { ...WASTE, blocks: "10", action: "add" });
    expect(full.text).toContain('name="q9_type"');
    expect(full.text).not.toContain('name="q10_type"');
  });

  it("edits a draft with a start time in Beirut", async () => {
    const id = await createDraft(karim, { ...WASTE, title_en: "Edit me", title_ar: "عدلني" });
    const form = await karim.get(`/staff/surveys/${id}/edit`);
    expect(form.text).toContain("Edit me");
    const res = await karim.post(`/staff/surveys/${id}/edit`, { ...WASTE, title_en: "Edited", title_ar: "معدل", start: "at", start_at: "2030-07-01T09:30", recurrence: "once" });
    expect(res.status).toBe(303);
    const survey = await world.db.survey.findUniqueOrThrow({ where: { id } });
    expect(survey.startAt?.toISOString()).toBe("2030-07-01T06:30:00.000Z"); // summer: UTC+3
    expect((await karim.get(`/staff/surveys/${id}/edit`)).text).toContain('value="2030-07-01T09:30"');
  });

  it("shows a title with markup as text", async () => {
    const id = await createDraft(karim, { ...WASTE, title_en: "<script>alert(1)</script>", title_ar: '<img src=x onerror="alert(1)">' });
    for (const url of [`/staff/surveys/${id}`, "/staff/surveys"]) {
      const page = await karim.get(url);
      expect(page.text).not.toContain("<script>alert(1)</script>");
      expect(page.text).not.toContain("<img src=x");
      expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    }
  });

  it("refuses a form without the CSRF token", async () => {
    const count = await world.db.survey.count();
    const res = await karim.post("/staff/surveys/new", { ...WASTE, _csrf: "" });
    expect(res.status).toBe(403);
    const survey = await world.db.survey.findFirstOrThrow({ where: { status: "draft" } });
    expect((await karim.post(`/staff/surveys/${survey.id}/cancel`, { _csrf: "forged" })).status).toBe(403);
    expect(await world.db.survey.count()).toBe(count);
    expect((await world.db.survey.findUniqueOrThrow({ where: { id: survey.id } })).status).toBe("draft");
  });

  it("is 404 for a survey that does not exist", async () => {
    expect((await karim.get("/staff/surveys/999999")).status).toBe(404);
  });
});

describe("the results link", () => {
  it("opens the results page through the staff router", async () => {
    const survey = await world.db.survey.findFirstOrThrow({ where: { status: "cancelled" } });
    const res = await karim.get(`/staff/surveys/${survey.id}/results`);
    expect(res.status).toBe(200);
    expect((await rania.get(`/staff/surveys/${survey.id}/results`)).status).toBe(403);
  });
});
