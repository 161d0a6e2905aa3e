import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maskPhone } from "../../../src/lib/maskPhone.js";
import { createTestWorld } from "../../support/testApp.js";
import {
  freshPhone,
  hire,
  residentAsksForPerson,
  residentFiles,
  signedIn,
  StaffBrowser,
  textOf,
  type World,
} from "./staffBrowser.js";

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let hala: StaffBrowser;
let rania: StaffBrowser;
let karim: StaffBrowser;
const phones = { pothole: freshPhone(), light: freshPhone(), playground: freshPhone(), person: freshPhone() };
const refs = { pothole: 0, light: 0, playground: 0, person: 0 };

beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "rania", "karim");
  // A morning at the town hall: four residents write in.
  refs.pothole = await residentFiles(world.app, phones.pothole, "في جورة كبيرة بالطريق العام", "قرب الجامع");
  refs.light = await residentFiles(world.app, phones.light, "The street light is broken on our street <script>alert(1)</script>");
  refs.playground = await residentFiles(world.app, phones.playground, "الملعب تبع الولاد مكسر والألعاب خطرة", "حديقة البلدية");
  refs.person = await residentAsksForPerson(world.app, phones.person, "whatsapp");
  [hala, rania, karim] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania"), signedIn(world.app, "karim")]);
}, 120_000);
afterAll(async () => {
  await world.drop();
});

/** The references in a queue page or fragment, in the order shown. */
const shown = (html: string) => [...html.matchAll(/<tr data-reference="(\d+)"/g)].map((m) => Number(m[1]));

describe("the queue", () => {
  it("the administrator sees every open ticket, the one waiting longest first", async () => {
    const page = await hala.get("/staff");
    expect(page.status).toBe(200);
    expect(shown(page.text)).toEqual([refs.pothole, refs.light, refs.playground, refs.person]);
    expect(textOf(page.text)).toContain("4 طلبات");
  });

  it("agents see only their departments' tickets", async () => {
    expect(shown((await rania.get("/staff")).text)).toEqual([refs.pothole, refs.playground]); // public works
    expect(shown((await karim.get("/staff")).text)).toEqual([refs.light]); // electricity and water
  });

  it("shows status, category in the reader's language, department, channel, language, flags, and a masked phone", async () => {
    const arabic = textOf((await rania.get("/staff")).text);
    expect(arabic).toContain("طرقات وحفر");
    expect(arabic).toContain("الأشغال العامة");
    expect(arabic).toContain("جديد");
    expect(arabic).toContain("يخص الأطفال"); // the playground
    expect(arabic).toContain(maskPhone(phones.pothole));
    expect(arabic).not.toContain(phones.pothole);

    const english = textOf((await karim.get("/staff")).text);
    expect(english).toContain("Street lighting");
    expect(english).toContain("Electricity and lighting");
    expect(english).toContain("SMS");
    expect(english).toContain("English");

    const all = textOf((await hala.get("/staff?needsHuman=true")).text);
    expect(all).toContain("طلب التحدث مع موظف");
    expect(all).toContain("واتساب");
    expect(all).toContain("بانتظار موظف");
  });

  it("a resident's <script> is shown as text, never run", async () => {
    const page = await karim.get("/staff");
    expect(page.text).not.toContain("<script>alert(1)</script>");
    expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it.each([
    ["status=waiting_staff", () => [refs.person]],
    ["status=all", () => [refs.pothole, refs.light, refs.playground, refs.person]],
    ["category=lighting", () => [refs.light]],
    ["department=public_works", () => [refs.pothole, refs.playground]],
    ["channel=whatsapp", () => [refs.person]],
    ["language=en", () => [refs.light, refs.person]],
    ["childRelated=true", () => [refs.playground]],
    ["needsHuman=true", () => [refs.person]],
    ["needsHuman=false&childRelated=false", () => [refs.pothole, refs.light]],
    ["olderThanDays=1", () => []],
    ["q=جورة", () => [refs.pothole]],
    ["q=broken", () => [refs.light]],
  ])("filters: %s", async (query, expected) => {
    expect(shown((await hala.get(`/staff?${query}`)).text)).toEqual(expected());
  });

  it("search finds a ticket by its reference (with or without #) and a resident by phone, local or international", async () => {
    expect(shown((await hala.get(`/staff?q=${encodeURIComponent(`#${refs.playground}`)}`)).text)).toEqual([refs.playground]);
    expect(shown((await hala.get(`/staff?q=${refs.light}`)).text)).toEqual([refs.light]);
    const local = `0${phones.pothole.slice(4, 6)} ${phones.pothole.slice(6)}`; // "071 234567"
    expect(shown((await hala.get(`/staff?q=${encodeURIComponent(local)}`)).text)).toEqual([refs.pothole]);
    expect(shown((await hala.get(`/staff?q=${encodeURIComponent(phones.pothole)}`)).text)).toEqual([refs.pothole]);
  });

  it("an agent's search never reaches another department's tickets", async () => {
    expect(shown((await rania.get(`/staff?q=${refs.light}`)).text)).toEqual([]);
    expect(shown((await rania.get("/staff?department=electricity")).text)).toEqual([]);
  });

  it("assignee: me, nobody, or a colleague", async () => {
    await world.db.ticket.update({ where: { municipalityId_reference: { municipalityId: "qab-elias", reference: refs.pothole } }, data: { assigneeId: ids.rania } });
    expect(shown((await rania.get("/staff?assignee=me")).text)).toEqual([refs.pothole]);
    expect(shown((await rania.get("/staff?assignee=none")).text)).toEqual([refs.playground]);
    expect(shown((await hala.get(`/staff?assignee=${ids.rania}`)).text)).toEqual([refs.pothole]);
    expect(textOf((await hala.get("/staff")).text)).toContain("Rania");
    await world.db.ticket.update({ where: { municipalityId_reference: { municipalityId: "qab-elias", reference: refs.pothole } }, data: { assigneeId: null } });
  });

  it("age: tickets older than N days (from the filing), and how long each resident has waited (from their oldest unanswered message)", async () => {
    const pothole = { municipalityId_reference: { municipalityId: "qab-elias", reference: refs.pothole } };
    const before = await world.db.ticket.findUniqueOrThrow({ where: pothole });
    // Filed three days ago; staff answered; the resident wrote again five hours ago and waits since.
    await world.db.ticket.update({ where: pothole, data: { createdAt: new Date(Date.now() - 3 * 86_400_000 - 60_000), waitingSince: new Date(Date.now() - 5 * 3_600_000 - 60_000) } });
    try {
      expect(shown((await hala.get("/staff?olderThanDays=2")).text)).toEqual([refs.pothole]);
      const page = textOf((await hala.get("/staff")).text);
      expect(page).toContain("5 ساعات");
      expect(page).not.toContain("3 أيام");
      expect(page).toContain("الآن"); // the others were just filed
      expect(textOf((await karim.get("/staff?status=all&olderThanDays=0")).text)).toContain("just now");
    } finally {
      await world.db.ticket.update({ where: pothole, data: { createdAt: before.createdAt, waitingSince: before.waitingSince } });
    }
  });

  it("empty fields of the filter form mean 'any'; a value the queue does not know is a 400 page", async () => {
    const emptyFields = await hala.get("/staff?status=&category=&channel=&q=&olderThanDays=");
    expect(emptyFields.status, emptyFields.text.slice(0, 3000)).toBe(200);
    expect(shown(emptyFields.text)).toHaveLength(4);
    const bad = await hala.get("/staff?status=sleeping");
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('dir="rtl"');
  });

  it("long queues come in pages, keeping the filters", async () => {
    const page = await hala.get("/staff?status=open&pageSize=3&page=2");
    expect(shown(page.text)).toEqual([refs.person]);
    expect(textOf(page.text)).toContain("صفحة 2 من 2");
    expect(page.text).toContain('href="/staff?status=open&amp;page=1&amp;pageSize=3"');
  });
});

describe("new tickets appear without a reload", () => {
  it("the page's script refreshes the table body every 10 seconds from a fragment with the same filters", async () => {
    const page = await rania.get("/staff?childRelated=false");
    expect(page.text).toContain('<script src="/staff/assets/queue.js" defer></script>');
    expect(page.text).toContain('data-refresh-url="/staff/queue/rows?childRelated=false"');
    expect(page.text).toContain('data-refresh-seconds="10"');

    const before = await rania.get("/staff/queue/rows?childRelated=false", { "X-Requested-With": "fetch" });
    expect(shown(before.text)).toEqual([refs.pothole]);

    const newcomer = await residentFiles(world.app, freshPhone(), "في حفرة عميقة قدام البيت");
    const after = await rania.get("/staff/queue/rows?childRelated=false", { "X-Requested-With": "fetch" });
    expect(after.status).toBe(200);
    expect(shown(after.text)).toEqual([refs.pothole, newcomer]);
    expect(after.text).toContain('data-summary="طلبان"');
    expect(after.text).not.toContain("<html");
  });
});

describe("language", () => {
  it("Arabic pages are right-to-left, English ones left-to-right, per staff member", async () => {
    expect((await rania.get("/staff")).text).toContain('<html lang="ar" dir="rtl">');
    expect((await karim.get("/staff")).text).toContain('<html lang="en" dir="ltr">');
  });

  it("Rania switches to English from any page, and it sticks", async () => {
    const browser = await signedIn(world.app, "rania");
    await browser.get(`/staff/tickets/${refs.pothole}`);
    const res = await browser.post("/staff/locale", { locale: "en", back: `/staff/tickets/${refs.pothole}` });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/staff/tickets/${refs.pothole}`);
    const page = await browser.follow(res);
    expect(page.text).toContain('<html lang="en" dir="ltr">');
    expect(page.text).toContain("Roads and potholes");
    expect((await world.db.staff.findUniqueOrThrow({ where: { id: ids.rania } })).locale).toBe("en");

    const back = await browser.post("/staff/locale", { locale: "ar", back: "https://evil.example/" });
    expect(back.headers.location).toBe("/staff");
    expect((await browser.follow(back)).text).toContain('dir="rtl"');
  });

  it("switching language without the CSRF token changes nothing", async () => {
    const res = await karim.post("/staff/locale", { locale: "ar", _csrf: "wrong" });
    expect(res.status).toBe(403);
    expect((await world.db.staff.findUniqueOrThrow({ where: { id: ids.karim } })).locale).toBe("en");
  });
});
