import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bidiText } from "../../../src/http/staff/ticketPage.js";
import { seedCannedReplies } from "../../../src/services/cannedReplies.js";
import { PRESENCE_WINDOW_MS } from "../../../src/services/presence.js";
import { createStaff } from "../../../src/services/staff.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { appWithClock, freshPhone, residentFiles, StaffBrowser, textOf, type World } from "./staffBrowser.js";

// Two agents of one department (who must not both answer a resident), one of another, an admin.
const PEOPLE = {
  rania: { displayName: "Rania", role: "agent", departments: ["public_works"], locale: "ar" },
  karim: { displayName: "Karim", role: "agent", departments: ["public_works"], locale: "en" },
  nadim: { displayName: "Nadim", role: "agent", departments: ["finance"], locale: "en" },
  hala: { displayName: "Hala", role: "admin", departments: [], locale: "ar" },
} as const;
type Person = keyof typeof PEOPLE;
const PASSWORD = "a long enough password";

let world: World;
let clock: ReturnType<typeof appWithClock>;
const ids = {} as Record<Person, number>;
const as = {} as Record<Person, StaffBrowser>;
const refs = { pothole: 0, sewage: 0, english: 0 };

beforeAll(async () => {
  world = await createTestWorld();
  clock = appWithClock(world);
  for (const [username, p] of Object.entries(PEOPLE) as Array<[Person, (typeof PEOPLE)[Person]]>) {
    const staff = await createStaff(world.db, { ...p, departments: [...p.departments], username, password: PASSWORD, municipalityId: MUNICIPALITY });
    ids[username] = staff.id;
    as[username] = new StaffBrowser(clock.app);
    expect((await as[username].signIn(username, PASSWORD)).status).toBe(303);
    await as[username].get("/staff");
  }
  refs.pothole = await residentFiles(world.app, freshPhone(), "في جورة كبيرة بالطريق العام", "قرب الجامع");
  refs.sewage = await residentFiles(world.app, freshPhone(), "الصرف الصحي طايف قدام المدرسة", "حي المدارس");
  refs.english = await residentFiles(world.app, freshPhone(), "huge pothole on the main road", "Main square");
}, 120_000);
afterAll(async () => {
  await world.drop();
});

const ticketWhere = (reference: number) => ({ municipalityId_reference: { municipalityId: MUNICIPALITY, reference } });
const ticketOf = (reference: number) => world.db.ticket.findUniqueOrThrow({ where: ticketWhere(reference) });
const notificationsOf = async (reference: number) => world.db.message.findMany({ where: { ticketId: (await ticketOf(reference)).id, kind: "notification" } });
const page = (who: Person, reference: number) => as[who].get(`/staff/tickets/${reference}`);

describe("the ticket's clock: waiting, first response, reopened", () => {
  it("a staff reply stamps the first response and ends the wait; a later reply keeps the first time", async () => {
    const since = new Date(clock.now().getTime() - 3 * 3600_000);
    await world.db.ticket.update({ where: ticketWhere(refs.pothole), data: { waitingSince: since, firstResponseAt: null, reopenedAt: since } });
    const first = clock.now();
    expect((await as.rania.post(`/staff/tickets/${refs.pothole}/reply`, { body: "وصلنا طلبك، الفريق في الطريق." })).status).toBe(303);
    expect(await ticketOf(refs.pothole)).toMatchObject({ firstResponseAt: first, waitingSince: null, status: "in_progress", reopenedAt: null });

    // The resident writes again (the inbox sets the wait); the second answer ends it, the first stays.
    await world.db.ticket.update({ where: ticketWhere(refs.pothole), data: { waitingSince: clock.now() } });
    clock.advance(60_000);
    await as.rania.post(`/staff/tickets/${refs.pothole}/reply`, { body: "سنصل خلال ساعة." });
    expect(await ticketOf(refs.pothole)).toMatchObject({ firstResponseAt: first, waitingSince: null });
  });

  it("any staff status change clears 'reopened'; closing also ends the wait", async () => {
    const since = new Date(clock.now().getTime() - 3600_000);
    await world.db.ticket.update({ where: ticketWhere(refs.sewage), data: { status: "new", waitingSince: since, reopenedAt: since } });
    await as.rania.post(`/staff/tickets/${refs.sewage}/status`, { status: "in_progress" });
    expect(await ticketOf(refs.sewage)).toMatchObject({ status: "in_progress", reopenedAt: null, waitingSince: since });

    await world.db.ticket.update({ where: ticketWhere(refs.sewage), data: { reopenedAt: since } });
    await as.rania.post(`/staff/tickets/${refs.sewage}/status`, { status: "closed", confirm: "yes" });
    expect(await ticketOf(refs.sewage)).toMatchObject({ status: "closed", reopenedAt: null, waitingSince: null });
  });
});

describe("unread", () => {
  it("opening the ticket page records when this staff member read it", async () => {
    const ticket = await ticketOf(refs.english);
    const read = () => world.db.ticketRead.findMany({ where: { ticketId: ticket.id } });
    expect(await read()).toEqual([]);
    const opened = clock.now();
    expect((await page("karim", refs.english)).status).toBe(200);
    expect(await read()).toMatchObject([{ staffId: ids.karim, readAt: opened }]);
    clock.advance(5 * 60_000);
    await page("karim", refs.english);
    expect(await read()).toMatchObject([{ staffId: ids.karim, readAt: clock.now() }]);
  });

  it("a ticket someone may not open is not marked read for them", async () => {
    expect((await page("nadim", refs.english)).status).toBe(404);
    expect(await world.db.ticketRead.count({ where: { staffId: ids.nadim } })).toBe(0);
  });
});

describe("who else has the ticket open", () => {
  const heartbeat = (who: Person, state: string, headers: Record<string, string> = {}) => as[who].postJson(`/staff/tickets/${refs.english}/presence`, { state }, headers);

  it("Rania opens the ticket; Karim, of the same department, sees her name on his page", async () => {
    await page("rania", refs.english);
    const karimsPage = await page("karim", refs.english);
    expect(karimsPage.text).toMatch(/<div id="presence" class="presence" role="status" aria-live="polite" data-presence-url="\/staff\/tickets\/\d+\/presence" data-heartbeat-ms="15000">/);
    expect(karimsPage.text).toContain('<p class="presence-line presence-viewing"><bdi>Rania</bdi> is viewing this ticket.</p>');
    // And Rania, in Arabic, sees Karim.
    const answer = await heartbeat("rania", "viewing");
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ lines: ["هذا الطلب مفتوح الآن لدى \u2068Karim\u2069."], replying: false, hint: null });
  });

  it("while Rania types a reply, Karim reads that she is writing to the resident", async () => {
    await heartbeat("rania", "replying");
    expect((await heartbeat("karim", "viewing")).body).toEqual({
      lines: ["\u2068Rania\u2069 is writing a reply to the resident."],
      replying: true,
      hint: "Check before you answer, so the resident does not get two replies.",
    });
    const karimsPage = await page("karim", refs.english);
    expect(karimsPage.text).toContain('class="presence presence-replying"');
    expect(karimsPage.text).toContain("<bdi>Rania</bdi> is writing a reply to the resident.");
  });

  it("a page that stops saying it is open drops off after the window", async () => {
    clock.advance(PRESENCE_WINDOW_MS - 1000);
    expect((await heartbeat("karim", "viewing")).body.lines).toHaveLength(1);
    clock.advance(2000);
    expect((await heartbeat("karim", "viewing")).body).toEqual({ lines: [], replying: false, hint: null });
    // Nobody else: the banner is there for the script, hidden.
    expect((await page("karim", refs.english)).text).toMatch(/<div id="presence" class="presence"[^>]* hidden><\/div>/);
  });

  it("closing the page ('left', as the browser's beacon sends it) removes it at once", async () => {
    await heartbeat("rania", "viewing");
    expect((await heartbeat("karim", "viewing")).body.lines).toHaveLength(1);
    const beacon = await as.rania.post(`/staff/tickets/${refs.english}/presence`, { state: "left" });
    expect(beacon.status).toBe(200);
    expect((await heartbeat("karim", "viewing")).body.lines).toEqual([]);
  });

  it("an agent of another department can neither post presence on the ticket nor be shown on it", async () => {
    const refused = await heartbeat("nadim", "viewing");
    expect(refused.status).toBe(404);
    expect(await world.db.ticketPresence.count({ where: { staffId: ids.nadim } })).toBe(0);
    // Even a row that got there (the ticket was his department's a moment ago) is not shown.
    const ticket = await ticketOf(refs.english);
    await world.db.ticketPresence.create({ data: { staffId: ids.nadim, ticketId: ticket.id, state: "replying", seenAt: clock.now() } });
    expect((await heartbeat("karim", "viewing")).body.lines).toEqual([]);
  });

  it("a heartbeat needs the page's CSRF token and a known state", async () => {
    expect((await heartbeat("karim", "viewing", { "X-CSRF-Token": "forged" })).status).toBe(403);
    expect((await heartbeat("karim", "sleeping")).status).toBe(400);
  });
});

describe("closing or resolving asks first, because it tells the resident", () => {
  it("without the confirmation nothing changes and nothing is sent; the page shows what the resident will read", async () => {
    const before = await ticketOf(refs.pothole);
    const events = await world.db.ticketEvent.count({ where: { ticketId: before.id } });
    const asked = await as.rania.post(`/staff/tickets/${refs.pothole}/status`, { status: "closed", publicNote: "ردمنا الحفرة" });
    expect(asked.status).toBe(200);
    const text = textOf(asked.text);
    expect(text).toContain(`هل تريد إغلاق الطلب #${refs.pothole}؟`);
    expect(text).toContain("فور تأكيدك، يتلقى المواطن هذه الرسالة عبر رسالة نصية، باللغة العربية:");
    expect(text).toContain(`أغلق طلبك #${refs.pothole}. إن بقيت المشكلة، أرسل 1.`);
    expect(asked.text).toContain('<input type="hidden" name="confirm" value="yes">');
    expect(asked.text).toContain('<input type="hidden" name="publicNote" value="ردمنا الحفرة">');
    expect(asked.text).toContain(`<a class="btn btn-ghost" href="/staff/tickets/${refs.pothole}">إلغاء</a>`);
    expect(await ticketOf(refs.pothole)).toMatchObject({ status: before.status });
    expect(await world.db.ticketEvent.count({ where: { ticketId: before.id } })).toBe(events);
    expect(await notificationsOf(refs.pothole)).toEqual([]);
  });

  it("confirmed, the ticket closes, with its note, and the resident is notified", async () => {
    const res = await as.rania.post(`/staff/tickets/${refs.pothole}/status`, { status: "closed", publicNote: "ردمنا الحفرة", confirm: "yes" });
    expect(res.status).toBe(303);
    expect(textOf((await as.rania.follow(res)).text)).toContain("يجري إبلاغ المواطن بلغته.");
    expect((await ticketOf(refs.pothole)).status).toBe("closed");
    expect((await notificationsOf(refs.pothole)).map((m) => m.body)).toEqual([`أغلق طلبك #${refs.pothole}. إن بقيت المشكلة، أرسل 1.`]);
    const event = await world.db.ticketEvent.findFirstOrThrow({ where: { ticket: { reference: refs.pothole }, kind: "status_changed" }, orderBy: { id: "desc" } });
    expect(JSON.parse(event.data)).toMatchObject({ to: "closed", publicNote: "ردمنا الحفرة" });
  });

  it("resolving asks too, in the staff member's language", async () => {
    const asked = await as.karim.post(`/staff/tickets/${refs.english}/status`, { status: "resolved" });
    expect(asked.status).toBe(200);
    const text = textOf(asked.text);
    expect(text).toContain(`Resolve ticket #${refs.english}?`);
    expect(text).toContain("As soon as you confirm, the resident receives this message by SMS, in English:");
    expect(text).toContain("Resolve and notify the resident");
    expect((await ticketOf(refs.english)).status).not.toBe("resolved");
  });

  it("setting the status a ticket already has says nothing changed, and asks nothing", async () => {
    const again = await as.rania.post(`/staff/tickets/${refs.pothole}/status`, { status: "closed" });
    expect(again.status).toBe(303);
    expect(textOf((await as.rania.follow(again)).text)).toContain("الحالة «مغلق» أصلاً: لم يتغيّر شيء.");
    expect(await notificationsOf(refs.pothole)).toHaveLength(1);
  });
});

describe("canned replies on the ticket", () => {
  beforeAll(async () => {
    expect(await seedCannedReplies(world.db, MUNICIPALITY)).toBeGreaterThan(0);
  });

  it("arrive with the ticket's reference and category, in each reply's own language", async () => {
    const res = await page("rania", refs.sewage);
    expect(res.text).toContain(`data-canned="شكراً لتواصلك مع البلدية. استلمنا طلبك #${refs.sewage} (صرف صحي) وأحلناه إلى الفريق المختص، وسنبقيك على اطلاع هنا."`);
    expect(res.text).toContain(`data-canned="Thank you for contacting the municipality. We have received your request #${refs.sewage} (Sewage) and passed it to the team in charge. We will keep you informed here."`);
    expect(res.text).not.toMatch(/data-canned="[^"]*\{(reference|category)\}/);
    // The international road's reply belongs to roads tickets only.
    expect(res.text).not.toContain("وزارة الأشغال العامة والنقل");
    expect((await page("rania", refs.english)).text).toContain("Ministry of Public Works and Transport");
  });

  it("a ticket without a category reads as a general request", async () => {
    await world.db.ticket.update({ where: ticketWhere(refs.sewage), data: { categoryId: null } });
    const res = await page("rania", refs.sewage);
    expect(res.text).toContain(`استلمنا طلبك #${refs.sewage} (طلب عام)`);
    expect(res.text).toContain(`We have received your request #${refs.sewage} (general request)`);
  });

  it("without scripts, a canned reply's button brings the page back with the reply in the box", async () => {
    const res = await page("rania", refs.english);
    expect(res.text).toContain(`<form method="get" action="/staff/tickets/${refs.english}#reply-body" class="canned"`);
    const id = /name="canned" value="(\d+)"[^>]*data-canned="Could you tell us more/.exec(res.text)?.[1];
    expect(id).toBeDefined();
    const filled = await as.rania.get(`/staff/tickets/${refs.english}?canned=${id}`);
    expect(filled.text).toMatch(new RegExp(`<textarea id="reply-body"[^>]*>Could you tell us more about your request #${refs.english}: what exactly is wrong, and since when\\?</textarea>`));
    // A canned reply that is not one of this ticket's is nothing.
    expect((await as.rania.get(`/staff/tickets/${refs.english}?canned=999999`)).text).toMatch(/<textarea id="reply-body"[^>]*><\/textarea>/);
  });

  it("the admin page says what the placeholders become", async () => {
    const admin = (await as.hala.get("/staff/admin/canned-replies")).text;
    expect(admin).toContain('يمكنك أن تكتب <code dir="ltr">{reference}</code> و<code dir="ltr">{category}</code> في النص');
    expect(textOf(admin)).toContain("يحلّ محلّهما رقم الطلب وفئته (بلغة الرد)");
  });

  it("the reply box carries what the '/' search needs: a listbox it controls, and its words in the page's language", async () => {
    const res = await page("karim", refs.english);
    expect(res.text).toMatch(/<textarea id="reply-body"[^>]*aria-autocomplete="list" aria-controls="canned-listbox" data-canned-none="No canned reply matches." data-canned-found="Matching canned replies: %n\./);
    expect(res.text).toContain('<ul id="canned-listbox" class="canned-listbox" role="listbox" aria-label="Canned replies matching what you typed" hidden></ul>');
    expect(textOf(res.text)).toContain("Or type / at the start of your reply to search them.");
  });
});

describe("the page an agent lives in", () => {
  it("puts the status and the assignee before the conversation and the reply box", async () => {
    const html = (await page("rania", refs.english)).text;
    const status = html.indexOf(`action="/staff/tickets/${refs.english}/status"`);
    const assign = html.indexOf(`action="/staff/tickets/${refs.english}/assign"`);
    expect(status).toBeGreaterThan(0);
    expect(assign).toBeGreaterThan(status);
    expect(assign).toBeLessThan(html.indexOf('id="conversation-title"'));
    expect(assign).toBeLessThan(html.indexOf(`action="/staff/tickets/${refs.english}/reply"`));
    expect(html).toContain('<link rel="stylesheet" href="/staff/assets/ticket.css">');
  });

  it("a phone number typed in an Arabic reply keeps its order", async () => {
    await as.rania.post(`/staff/tickets/${refs.english}/reply`, { body: "للاستفسار اتصل على 08 540 123 أو +961 71 123 456، أو زر https://baladiya.example/ar." });
    const html = (await page("rania", refs.english)).text;
    expect(html).toContain(
      '<div class="msg-body" dir="auto">للاستفسار اتصل على <bdi dir="ltr">08 540 123</bdi> أو <bdi dir="ltr">+961 71 123 456</bdi>، أو زر <bdi dir="ltr">https://baladiya.example/ar</bdi>.</div>',
    );
  });

  it.each([
    ["08 540 123", '<bdi dir="ltr">08 540 123</bdi>'],
    ["الطلب #10427 جاهز", "الطلب #10427 جاهز"],
    ["راسلنا على info@baladiya.example.", 'راسلنا على <bdi dir="ltr">info@baladiya.example</bdi>.'],
    ["<b>٠٨ ٥٤٠ ١٢٣</b>", '&lt;b&gt;<bdi dir="ltr">٠٨ ٥٤٠ ١٢٣</bdi>&lt;/b&gt;'],
  ])("bidiText(%j) isolates what reads left to right", (text, markup) => {
    expect(bidiText(text).toString()).toBe(markup);
  });

  it("a provider's error is explained in the page's language, its technical words behind Details", async () => {
    const ticket = await ticketOf(refs.english);
    const residentId = ticket.residentId ?? expect.unreachable("a resident's request has a resident");
    const base = { municipalityId: MUNICIPALITY, residentId, ticketId: ticket.id, direction: "outbound", channel: "sms", kind: "staff", staffId: ids.rania } as const;
    const gaveUp = await world.db.message.create({ data: { ...base, body: "gave up", status: "failed", errorCode: "outbox_deadline", errorMessage: "ENOTFOUND: getaddrinfo ENOTFOUND api.twilio.com" } });
    const trying = await world.db.message.create({
      data: {
        ...base,
        body: "still trying",
        status: "queued",
        outbox: { create: { municipalityId: MUNICIPALITY, residentId, channel: "sms", toAddress: "+96171000000", body: "still trying", status: "pending", attempts: 2, lastError: "ECONNREFUSED: connect ECONNREFUSED 10.0.0.1:443", nextAttemptAt: clock.now() } },
      },
    });
    const html = (await page("rania", refs.english)).text;
    const item = (id: number) => {
      const start = html.indexOf(`id="m${id}"`);
      const [sentence = "", details = ""] = html.slice(start, html.indexOf("</li>", start)).split('<details class="tech-details">');
      return { sentence: textOf(sentence), details };
    };
    expect(item(gaveUp.id).sentence).toContain("لم تُسلَّم خلال 24 ساعة، فتوقفت المحاولات — تعذّر العثور على عنوان مزوّد الخدمة (DNS).");
    expect(item(gaveUp.id).sentence).not.toContain("ENOTFOUND");
    expect(item(gaveUp.id).details).toContain('<summary>التفاصيل التقنية</summary><pre class="sms-text" dir="ltr">ENOTFOUND: getaddrinfo ENOTFOUND api.twilio.com</pre>');
    expect(item(trying.id).sentence).toContain("آخر محاولة: رفض خادم المزوّد الاتصال.");
    expect(item(trying.id).sentence).not.toContain("ECONNREFUSED");
    expect(item(trying.id).details).toContain("ECONNREFUSED: connect ECONNREFUSED 10.0.0.1:443");
  });
});
