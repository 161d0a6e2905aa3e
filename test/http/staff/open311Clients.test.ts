import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientForKey, createOpen311Client } from "../../../src/services/open311/clients.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { hire, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

const PAGE = "/staff/admin/open311-clients";
/** Around a client's name in a sentence: first-strong isolate … pop directional isolate. */
const isolated = (name: string) => `\u2068${name}\u2069`;

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let hala: StaffBrowser; // admin, reads Arabic
let rania: StaffBrowser; // agent

beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "rania");
  [hala, rania] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania")]);
}, 60_000);
afterAll(async () => {
  await world.drop();
});

/** Hala reads the pages in this language from her next request on. */
const halaReads = (locale: "ar" | "en") => world.db.staff.update({ where: { id: ids.hala }, data: { locale } });

/** Hala creates a key on the page; returns the page's answer and the key it shows. */
async function createKey(name: string) {
  await hala.get(PAGE);
  const res = await hala.post(PAGE, { name });
  const key = /<code class="token" dir="ltr">(o311_[A-Za-z0-9_-]{32})<\/code>/.exec(res.text)?.[1];
  return { res, key };
}

const flashAfter = async (browser: StaffBrowser, res: Awaited<ReturnType<StaffBrowser["post"]>>) => {
  expect(res.status, res.text).toBe(303);
  return textOf((await browser.follow(res)).text);
};

let nextReference = 80_000;
/** A request the client filed: a ticket and its Open311Submission row. */
async function filedBy(clientId: number) {
  const ticket = await world.db.ticket.create({ data: { municipalityId: MUNICIPALITY, reference: ++nextReference, description: "Pothole", channel: "open311", locale: "en" } });
  await world.db.open311Submission.create({ data: { municipalityId: MUNICIPALITY, ticketId: ticket.id, clientId, serviceCode: "roads", fingerprint: `test-${ticket.id}` } });
}

describe("Open311 clients are for admins", () => {
  it.each([PAGE, `${PAGE}/1/revoke`])("an agent opening %s gets 403", async (path) => {
    const res = await rania.get(path);
    expect(res.status).toBe(403);
    expect(textOf(res.text)).toContain("غير مسموح");
  });

  it("an agent's forged form creates and revokes nothing", async () => {
    const client = await createOpen311Client(world.db, { municipalityId: MUNICIPALITY, name: "Target", createdById: null, now: new Date() });
    if (!client.ok) throw new Error(client.problem);
    expect((await rania.post(PAGE, { name: "Mole" })).status).toBe(403);
    expect((await rania.post(`${PAGE}/${client.record.id}/revoke`, { confirm: "yes" })).status).toBe(403);
    expect(await world.db.open311Client.count({ where: { name: "Mole" } })).toBe(0);
    expect((await world.db.open311Client.findUniqueOrThrow({ where: { id: client.record.id } })).revokedAt).toBeNull();
    await world.db.open311Client.delete({ where: { id: client.record.id } });
  });

  it("admins see the link in the navigation; agents do not", async () => {
    expect((await hala.get("/staff")).text).toContain(`href="${PAGE}"`);
    expect((await rania.get("/staff")).text).not.toContain(`href="${PAGE}"`);
  });

  it("a form without the CSRF token, or with another session's, is refused and creates nothing", async () => {
    await hala.get(PAGE);
    for (const token of ["", rania.csrf]) {
      const res = await hala.post(PAGE, { name: "No token", _csrf: token });
      expect(res.status).toBe(403);
      expect(textOf(res.text)).toContain("انتهت صلاحية الصفحة");
    }
    expect(await world.db.open311Client.count({ where: { name: "No token" } })).toBe(0);
  });
});

describe("creating a key", () => {
  it("Hala creates a key: shown once with how to use it, listed by its prefix, stored as a hash, accepted by Open311", async () => {
    const { res, key } = await createKey("FixMyStreet Lebanon");
    expect(res.status).toBe(201);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(key).toBeDefined();
    const page = textOf(res.text);
    expect(page).toContain(`أُنشئ مفتاح «${isolated("FixMyStreet Lebanon")}»`);
    expect(page).toContain("يظهر هذه المرة فقط");
    expect(page).toContain("POST https://baladiya.example.org/open311/v2/requests.json");
    expect(page).toContain("api_key=…");

    const record = await world.db.open311Client.findFirstOrThrow({ where: { name: "FixMyStreet Lebanon" } });
    expect(record.createdById).toBe(ids.hala);
    expect(record.keyHash).toBe(createHash("sha256").update(key!).digest("hex"));
    expect(JSON.stringify(record)).not.toContain(key!.slice(5));

    const list = await hala.get(PAGE);
    expect(list.status).toBe(200);
    expect(list.headers["cache-control"]).toBe("no-store");
    expect(list.text).not.toContain(key!);
    expect(list.text).toContain(`${key!.slice(0, 11)}…`);
    expect(textOf(list.text)).toContain(`من إنشاء ${isolated("Hala")}`);
    expect(textOf(list.text)).toContain("لم يُستعمل بعد");

    const now = new Date("2026-12-05T10:00:00Z");
    expect(await clientForKey(world.db, MUNICIPALITY, key!, now)).toEqual({ id: record.id, name: "FixMyStreet Lebanon" });
    expect((await world.db.open311Client.findUniqueOrThrow({ where: { id: record.id } })).lastUsedAt).toEqual(now);
    expect(textOf((await hala.get(PAGE)).text)).not.toContain("لم يُستعمل بعد");
  });

  it.each([
    ["a blank name", "   ", "أدخل اسم الجهة."],
    ["a name with a line break", "Fix\nMyStreet", "لا يجوز أن يحتوي الاسم على فواصل أسطر"],
    ["a name too long", "x".repeat(101), "الاسم طويل جداً: 100 حرف على الأكثر."],
  ])("refuses %s, says why and keeps the form", async (_case, name, message) => {
    const before = await world.db.open311Client.count();
    await hala.get(PAGE);
    const res = await hala.post(PAGE, { name });
    expect(res.status).toBe(400);
    expect(textOf(res.text)).toContain(message);
    expect(res.text).not.toContain('class="token"');
    expect(await world.db.open311Client.count()).toBe(before);
  });

  it("shows a hostile name as text, everywhere it appears", async () => {
    const name = `<script>alert("x")</script>`;
    const { res, key } = await createKey(name);
    expect(res.status).toBe(201);
    expect(key).toBeDefined();
    const record = await world.db.open311Client.findFirstOrThrow({ where: { name } });
    const confirm = await hala.get(`${PAGE}/${record.id}/revoke`);
    const revoked = await hala.follow(await hala.post(`${PAGE}/${record.id}/revoke`, { confirm: "yes" }));
    for (const page of [res.text, (await hala.get(PAGE)).text, confirm.text, revoked.text]) {
      expect(page).not.toContain("<script>alert");
      expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    }
    expect((await hala.get(PAGE)).text).toContain('<strong dir="auto">&lt;script&gt;');
  });
});

describe("revoking a key", () => {
  it("takes a confirmation: the button asks first, the confirmed form revokes; the requests stay", async () => {
    const { key } = await createKey("Town website");
    const record = await world.db.open311Client.findFirstOrThrow({ where: { name: "Town website" } });
    await filedBy(record.id);
    await filedBy(record.id);

    // The list's button is a link to the question, not a form that revokes.
    const list = await hala.get(PAGE);
    expect(list.text).toContain(`href="${PAGE}/${record.id}/revoke"`);
    expect(list.text).not.toContain(`action="${PAGE}/${record.id}/revoke"`);

    const question = await hala.get(`${PAGE}/${record.id}/revoke`);
    expect(question.status).toBe(200);
    expect(textOf(question.text)).toContain(`هل تريد إلغاء مفتاح ${isolated("Town website")}؟`);
    expect(textOf(question.text)).toContain("تبقى الطلبات التي قدّمتها.");
    expect(textOf(question.text)).toContain("طلبان");
    expect(question.text).toContain('<input type="hidden" name="confirm" value="yes">');
    expect(question.text).toContain(`action="${PAGE}/${record.id}/revoke"`);
    expect(await clientForKey(world.db, MUNICIPALITY, key!, new Date())).not.toBeNull();

    // A POST without the confirmation (a bare button, a script) is sent to the question.
    const bare = await hala.post(`${PAGE}/${record.id}/revoke`);
    expect(bare.status).toBe(303);
    expect(bare.headers.location).toBe(`${PAGE}/${record.id}/revoke`);
    expect((await hala.post(`${PAGE}/${record.id}/revoke`, { confirm: "no" })).headers.location).toBe(`${PAGE}/${record.id}/revoke`);
    expect((await world.db.open311Client.findUniqueOrThrow({ where: { id: record.id } })).revokedAt).toBeNull();

    await hala.get(`${PAGE}/${record.id}/revoke`);
    expect(await flashAfter(hala, await hala.post(`${PAGE}/${record.id}/revoke`, { confirm: "yes" }))).toContain(`أُلغي مفتاح ${isolated("Town website")}: لم يعد يعمل.`);
    expect(await clientForKey(world.db, MUNICIPALITY, key!, new Date())).toBeNull();
    expect(await world.db.open311Submission.count({ where: { clientId: record.id } })).toBe(2);

    const after = await hala.get(PAGE);
    expect(textOf(after.text)).toContain("أُلغي في");
    expect(after.text).not.toContain(`href="${PAGE}/${record.id}/revoke"`);
  });

  it("a key already revoked says so, on the question and on the POST", async () => {
    const client = await createOpen311Client(world.db, { municipalityId: MUNICIPALITY, name: "Old dashboard", createdById: null, now: new Date() });
    if (!client.ok) throw new Error(client.problem);
    const id = client.record.id;
    await world.db.open311Client.update({ where: { id }, data: { revokedAt: new Date("2026-11-01T08:00:00Z") } });
    expect(await flashAfter(hala, await hala.get(`${PAGE}/${id}/revoke`))).toContain(`كان مفتاح ${isolated("Old dashboard")} قد أُلغي من قبل`);
    expect(await flashAfter(hala, await hala.post(`${PAGE}/${id}/revoke`, { confirm: "yes" }))).toContain(`كان مفتاح ${isolated("Old dashboard")} قد أُلغي من قبل`);
    expect((await world.db.open311Client.findUniqueOrThrow({ where: { id } })).revokedAt).toEqual(new Date("2026-11-01T08:00:00Z"));
  });

  it("an unknown client, or another municipality's, is a 404 page", async () => {
    const zahle = await createOpen311Client(world.db, { municipalityId: "zahle", name: "Zahle website", createdById: null, now: new Date() });
    if (!zahle.ok) throw new Error(zahle.problem);
    for (const id of ["999999", "abc", String(zahle.record.id)]) {
      const page = await hala.get(`${PAGE}/${id}/revoke`);
      expect(page.status, id).toBe(404);
      expect(textOf(page.text)).toContain("غير موجود");
      expect((await hala.post(`${PAGE}/${id}/revoke`, { confirm: "yes" })).status, id).toBe(404);
    }
    expect((await world.db.open311Client.findUniqueOrThrow({ where: { id: zahle.record.id } })).revokedAt).toBeNull();
    expect(textOf((await hala.get(PAGE)).text)).not.toContain("Zahle website");
  });
});

describe("languages", () => {
  it("reads in Arabic, right to left, with Arabic counts; and in English", async () => {
    const made = await createOpen311Client(world.db, { municipalityId: MUNICIPALITY, name: "موقع البلدية", createdById: null, now: new Date() });
    if (!made.ok) throw new Error(made.problem);
    await filedBy(made.record.id);

    const ar = await hala.get(PAGE);
    expect(ar.text).toContain('<html lang="ar" dir="rtl">');
    const arText = textOf(ar.text);
    for (const text of ["جهات Open311", "اسم الجهة", "الطلبات المقدَّمة", "من سطر الأوامر", "طلب واحد", "لا طلبات", "إنشاء المفتاح"]) expect(arText).toContain(text);
    expect(ar.text).toContain('<strong dir="auto">موقع البلدية</strong>');

    await halaReads("en");
    try {
      const en = await hala.get(PAGE);
      expect(en.text).toContain('<html lang="en" dir="ltr">');
      const enText = textOf(en.text);
      for (const text of ["Open311 clients", "Client name", "Requests filed", "from the command line", "1 request", "2 requests", "0 requests", "Create key"]) expect(enText).toContain(text);
      const question = await hala.get(`${PAGE}/${made.record.id}/revoke`);
      expect(textOf(question.text)).toContain(`Revoke the key of ${isolated("موقع البلدية")}?`);
      expect(textOf(question.text)).toContain("Requests it filed stay.");
    } finally {
      await halaReads("ar");
    }
  });
});
