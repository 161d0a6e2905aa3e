import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAP_SCRIPTS } from "../../../src/http/staff/map/mapFrame.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { freshPhone, hire, residentAsksForPerson, residentFiles, residentSays, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

const TEMPLATE_SID = `HX${"0123456789abcdef".repeat(2)}`;
let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let hala: StaffBrowser;
let rania: StaffBrowser;
let karim: StaffBrowser;
const phones = { pothole: freshPhone(), light: freshPhone(), whatsapp: freshPhone(), stopped: freshPhone() };
const refs = { pothole: 0, light: 0, whatsapp: 0, stopped: 0 };

beforeAll(async () => {
  world = await createTestWorld({ whatsappTemplateSid: TEMPLATE_SID });
  ids = await hire(world, "hala", "rania", "karim");
  refs.pothole = await residentFiles(world.app, phones.pothole, "في جورة كبيرة بالطريق العام <script>alert(1)</script>", "قرب الجامع");
  refs.light = await residentFiles(world.app, phones.light, "The street light is broken on our street");
  refs.whatsapp = await residentAsksForPerson(world.app, phones.whatsapp, "whatsapp");
  refs.stopped = await residentFiles(world.app, phones.stopped, "في حفرة عميقة قدام البيت");
  await residentSays(world.app, phones.stopped, "STOP");
  [hala, rania, karim] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania"), signedIn(world.app, "karim")]);
}, 120_000);
afterAll(async () => {
  await world.drop();
});

const ticketWhere = (reference: number) => ({ municipalityId_reference: { municipalityId: MUNICIPALITY, reference } });
const ticketOf = (reference: number) => world.db.ticket.findUniqueOrThrow({ where: ticketWhere(reference) });
const outboundOf = async (reference: number) => world.db.message.findMany({ where: { ticketId: (await ticketOf(reference)).id, direction: "outbound", kind: { not: "bot" } }, include: { outbox: true }, orderBy: { id: "asc" } });

describe("opening a ticket", () => {
  it("Rania sees the resident's full phone, the whole conversation, the address, the category and the history", async () => {
    const page = await rania.get(`/staff/tickets/${refs.pothole}`);
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain(`الطلب #${refs.pothole}`);
    expect(text).toContain(phones.pothole); // in full, here
    expect(text).toContain("قرب الجامع"); // what the resident typed as the place
    expect(text).toContain("طرقات وحفر");
    expect(text).toContain("الأشغال العامة");
    expect(text).toContain("رسالة نصية");
    // The conversation, in and out: the resident's words and the bot's answers.
    expect(text).toContain("المواطن");
    expect(text).toContain("الرد الآلي");
    expect(text).toContain(`سجلنا طلبك #${refs.pothole}. لمتابعته أرسل ${refs.pothole}.`);
    // The history: filed by the resident.
    expect(text).toContain("قُدّم عبر رسالة نصية");
  });

  it("a resident's <script> in the description is shown as text", async () => {
    const page = await rania.get(`/staff/tickets/${refs.pothole}`);
    expect(page.text).not.toContain("<script>alert(1)</script>");
    expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    // Only our own scripts: ticket.js and the small map's.
    expect([...page.text.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual(
      ["ticket.js", ...MAP_SCRIPTS, "ticketMap.js"].map((s) => `<script src="/staff/assets/${s}" defer>`),
    );
  });

  it("an agent cannot open another department's ticket by typing its URL: a 404 page, as for one that does not exist", async () => {
    const other = await rania.get(`/staff/tickets/${refs.light}`);
    expect(other.status).toBe(404);
    expect(textOf(other.text)).toContain("غير موجود");
    expect(other.text).not.toContain("street light");
    const missing = await rania.get("/staff/tickets/99999");
    expect(missing.status).toBe(404);
    expect((await rania.get("/staff/tickets/not-a-number")).status).toBe(404);
    // Acting on it by a forged form fares no better, and changes nothing.
    expect((await rania.post(`/staff/tickets/${refs.light}/note`, { note: "peeking" })).status).toBe(404);
    expect(await world.db.ticketEvent.count({ where: { kind: "note" } })).toBe(0);
  });

  it("the location links to OpenStreetMap at street level", async () => {
    await world.db.ticket.update({ where: ticketWhere(refs.pothole), data: { latitude: 33.7934, longitude: 35.8237, locationLabel: "Qab Elias Municipality" } });
    const page = await rania.get(`/staff/tickets/${refs.pothole}`);
    expect(page.text).toContain('href="https://www.openstreetmap.org/?mlat=33.7934&amp;mlon=35.8237#map=18/33.7934/35.8237"');
    expect(page.text).toContain("33.79340, 35.82370");
  });

  it("Karim reads his ticket in English", async () => {
    const page = await karim.get(`/staff/tickets/${refs.light}`);
    expect(page.text).toContain('<html lang="en" dir="ltr">');
    const text = textOf(page.text);
    expect(text).toContain(`Ticket #${refs.light}`);
    expect(text).toContain("Street lighting");
    expect(text).toContain("The street light is broken on our street");
    expect(text).toContain("Filed on SMS");
  });
});

describe("replying", () => {
  it("Rania's reply goes to the outbox for the resident's channel, and the ticket moves to in progress", async () => {
    const res = await rania.post(`/staff/tickets/${refs.pothole}/reply`, { body: "  مرحبا، الفريق في طريقه اليوم.  " });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/staff/tickets/${refs.pothole}`);
    const [reply] = await outboundOf(refs.pothole);
    expect(reply).toMatchObject({ kind: "staff", channel: "sms", status: "queued", body: "مرحبا، الفريق في طريقه اليوم.", staffId: ids.rania });
    expect(reply!.outbox).toMatchObject({ status: "pending", toAddress: phones.pothole, body: "مرحبا، الفريق في طريقه اليوم." });
    expect((await ticketOf(refs.pothole)).status).toBe("in_progress");

    const html = (await rania.follow(res)).text;
    const page = textOf(html);
    expect(page).toContain("الرد في طريقه إلى المواطن.");
    expect(html).toContain("<bdi>Rania</bdi> (موظف)"); // the name isolated in the Arabic label
    expect(page).toContain("في الانتظار"); // delivery: queued
    expect(page).toContain("رد على المواطن"); // history
    expect(page).toContain("الحالة: جديد ← قيد المعالجة");
  });

  it("a reply without the CSRF token, or with a wrong one, is refused with 403 and nothing is sent", async () => {
    const before = await world.db.message.count();
    for (const token of ["", "forged-token"]) {
      const res = await rania.post(`/staff/tickets/${refs.pothole}/reply`, { body: "should not go", _csrf: token });
      expect(res.status).toBe(403);
      expect(textOf(res.text)).toContain("انتهت صلاحية الصفحة");
    }
    expect(await world.db.message.count()).toBe(before);
    expect(await world.db.outbox.count({ where: { body: "should not go" } })).toBe(0);
  });

  it("an empty reply is refused with a message, not a crash", async () => {
    const res = await rania.post(`/staff/tickets/${refs.pothole}/reply`, { body: "   " });
    expect(res.status).toBe(303);
    expect(textOf((await rania.follow(res)).text)).toContain("الرد فارغ.");
  });

  it("a resident who opted out is not sent anything, and the page says why", async () => {
    const before = await rania.get(`/staff/tickets/${refs.stopped}`);
    expect(textOf(before.text)).toContain("ألغى هذا المواطن الاشتراك (أرسل STOP): لن يُرسل إليه أي شيء.");
    const res = await rania.post(`/staff/tickets/${refs.stopped}/reply`, { body: "Are you still there?" });
    const page = textOf((await rania.follow(res)).text);
    expect(page).toContain("لم يُرسل الرد: ألغى المواطن الاشتراك (أرسل STOP)، فلا يُرسل إليه شيء.");
    expect(page).toContain("لم تُرسل"); // the message's delivery state in the conversation
    const [message] = await outboundOf(refs.stopped);
    expect(message).toMatchObject({ status: "not_sent", errorCode: "opted_out", outbox: null });
  });

  it("on an SMS ticket the segment count and encoding are shown while typing, counted like Twilio does", async () => {
    const page = await rania.get(`/staff/tickets/${refs.pothole}`);
    expect(page.text).toContain('data-sms-cost-url="/staff/sms-cost"');
    expect(page.text).toContain('id="sms-cost"');

    const arabic = await rania.postJson("/staff/sms-cost", { text: "مرحبا، الفريق في طريقه اليوم." });
    expect(arabic.body).toMatchObject({ segments: 1, encoding: "UCS-2", label: "جزء واحد · UCS-2 · الأحرف: 29" });
    const long = await karim.postJson("/staff/sms-cost", { text: "a".repeat(161) });
    expect(long.body).toMatchObject({ segments: 2, encoding: "GSM-7", characters: 161, label: "2 SMS segments · GSM-7 · 161 characters" });
    const curly = await karim.postJson("/staff/sms-cost", { text: "We’re on it" });
    expect(curly.body).toMatchObject({ encoding: "UCS-2" });

    expect((await karim.postJson("/staff/sms-cost", { text: "x" }, { "X-CSRF-Token": "" })).status).toBe(403);
  });

  it("canned replies of the ticket's category and general ones are offered, in both languages", async () => {
    const roads = await world.db.category.findFirstOrThrow({ where: { code: "roads" } });
    const lighting = await world.db.category.findFirstOrThrow({ where: { code: "lighting" } });
    await world.db.cannedReply.createMany({
      data: [
        { municipalityId: MUNICIPALITY, categoryId: roads.id, locale: "ar", title: "فريق الطرقات", body: "سيزور فريق الأشغال الموقع خلال 48 ساعة." },
        { municipalityId: MUNICIPALITY, categoryId: null, locale: "en", title: "Thanks", body: 'Thank you for telling us "quickly".' },
        { municipalityId: MUNICIPALITY, categoryId: lighting.id, locale: "en", title: "Electrician", body: "An electrician is on the way." },
      ],
    });
    const page = await rania.get(`/staff/tickets/${refs.pothole}`);
    expect(page.text).toContain('data-canned="سيزور فريق الأشغال الموقع خلال 48 ساعة."');
    expect(page.text).toContain('data-canned="Thank you for telling us &quot;quickly&quot;."');
    expect(page.text).not.toContain("An electrician is on the way.");
  });
});

describe("WhatsApp's 24-hour window", () => {
  it("while the resident's last message is recent, the page says replies go out right away — above the reply box", async () => {
    const page = textOf((await hala.get(`/staff/tickets/${refs.whatsapp}`)).text);
    const notice = page.indexOf("واتساب: نافذة الـ24 ساعة مفتوحة حتى");
    expect(notice).toBeGreaterThan(0);
    expect(notice).toBeLessThan(page.indexOf('name="body"'));
    expect(page).not.toContain('id="sms-cost"');
  });

  it("after 24 hours of silence the reply is held and the approved template goes out instead", async () => {
    await world.db.channelIdentity.updateMany({ where: { address: phones.whatsapp, channel: "whatsapp" }, data: { lastInboundAt: new Date(Date.now() - 25 * 3600_000) } });
    const page = textOf((await hala.get(`/staff/tickets/${refs.whatsapp}`)).text);
    expect(page).toContain("واتساب: نافذة الـ24 ساعة مغلقة.");
    expect(page).toContain("سيُعلَّق ردك، ويُرسل بدلاً منه القالب المعتمد");
    expect(page.indexOf("نافذة الـ24 ساعة مغلقة")).toBeLessThan(page.indexOf('name="body"'));

    const res = await hala.post(`/staff/tickets/${refs.whatsapp}/reply`, { body: "We fixed it, can you confirm?" });
    const after = textOf((await hala.follow(res)).text);
    expect(after).toContain("الرد معلّق: أُرسل القالب المعتمد، ويُرسل ردك عندما يجيب المواطن.");
    expect(after).toContain("معلّقة حتى يكتب المواطن على واتساب (نافذة الـ24 ساعة مغلقة)");
    expect(after).toContain("قالب واتساب");
    const sent = await outboundOf(refs.whatsapp);
    expect(sent.map((m) => [m.kind, m.status])).toEqual([
      ["staff", "held"],
      ["template", "queued"],
    ]);
    expect(sent[1]!.outbox).toMatchObject({ contentSid: TEMPLATE_SID, status: "pending" });
  });

  it("a resident who writes to the town's own WhatsApp phone has no window: the reply goes out through it days later", async () => {
    await world.db.channelIdentity.updateMany({
      where: { address: phones.whatsapp, channel: "whatsapp" },
      data: { route: "whatsapp-web", lastInboundAt: new Date(Date.now() - 3 * 24 * 3600_000) },
    });
    const page = textOf((await hala.get(`/staff/tickets/${refs.whatsapp}`)).text);
    expect(page).toContain("واتساب، عبر هاتف البلدية (واتساب ويب): يُرسل ردّك فوراً");
    expect(page).not.toContain("واتساب: نافذة الـ24 ساعة مغلقة.");
    const res = await hala.post(`/staff/tickets/${refs.whatsapp}/reply`, { body: "The team passes tomorrow." });
    expect(res.status).toBe(303);
    const sent = await outboundOf(refs.whatsapp);
    expect(sent.at(-1)).toMatchObject({ kind: "staff", status: "queued", route: "whatsapp-web", outbox: expect.objectContaining({ route: "whatsapp-web", status: "pending", contentSid: null }) });
  });
});

describe("delivery states and failures, in words", () => {
  // The provider's own words (English, technical) are behind the "Details" toggle, never in the sentence.
  it.each([
    ["sent", null, null, "Sent", null],
    ["delivered", null, null, "Delivered", null],
    ["read", null, null, "Read", null],
    ["failed", "21211", "Invalid 'To' Phone Number", "Invalid phone number (Twilio 21211).", "21211: Invalid 'To' Phone Number"],
    ["failed", "21610", null, "The resident unsubscribed from this number (Twilio 21610).", "21610"],
    ["undelivered", "30003", "Unreachable destination handset", "The phone is switched off or out of coverage (Twilio 30003).", "30003: Unreachable destination handset"],
    ["failed", "63016", null, "Outside WhatsApp's 24-hour window", "63016"],
    ["failed", "99999", "Something new", "The provider reported error 99999.", "99999: Something new"],
    ["failed", "invalid_number", "the recipient is not an E.164 phone number", "The recipient's number is not a valid international phone number.", "invalid_number: the recipient is not an E.164 phone number"],
  ])("a message %s (%s) reads: %s", async (status, errorCode, errorMessage, expected, detail) => {
    const ticket = await ticketOf(refs.light);
    const residentId = ticket.residentId ?? expect.unreachable("a resident's request has a resident");
    const message = await world.db.message.create({
      data: { municipalityId: MUNICIPALITY, residentId, ticketId: ticket.id, direction: "outbound", channel: "sms", kind: "staff", staffId: ids.karim, body: `Update ${status} ${errorCode}`, status, errorCode, errorMessage },
    });
    const page = textOf((await karim.get(`/staff/tickets/${refs.light}`)).text);
    const item = page.slice(page.indexOf(`id="m${message.id}"`), page.indexOf("</li>", page.indexOf(`id="m${message.id}"`)));
    const [sentence = "", details = ""] = item.split('<details class="tech-details">');
    expect(sentence).toContain(expected);
    if (detail) {
      expect(details).toContain(`<pre class="sms-text" dir="ltr">${detail}</pre>`);
      if (errorMessage) expect(sentence).not.toContain(errorMessage);
    } else expect(details).toBe("");
    await world.db.message.delete({ where: { id: message.id } });
  });
});

describe("working the ticket", () => {
  it("an internal note joins the history and is never sent", async () => {
    const before = await world.db.message.count();
    const res = await rania.post(`/staff/tickets/${refs.pothole}/note`, { note: "الحفرة قرب المدرسة أيضاً — <b>urgent</b>" });
    const page = await rania.follow(res);
    expect(textOf(page.text)).toContain("أُضيفت الملاحظة.");
    expect(page.text).toContain("الحفرة قرب المدرسة أيضاً — &lt;b&gt;urgent&lt;/b&gt;");
    expect(await world.db.message.count()).toBe(before);
  });

  it("Rania takes the ticket, cannot hand it to a colleague of another department, then lets it go", async () => {
    const mine = await rania.post(`/staff/tickets/${refs.pothole}/assign`, { assignee: "me" });
    expect((await rania.follow(mine)).text).toContain("أُسند إلى <bdi>Rania</bdi>");
    expect((await ticketOf(refs.pothole)).assigneeId).toBe(ids.rania);

    const wrong = await rania.post(`/staff/tickets/${refs.pothole}/assign`, { assignee: String(ids.karim) });
    expect(textOf((await rania.follow(wrong)).text)).toContain("لا يستطيع هذا الشخص معالجة هذا الطلب.");
    expect((await ticketOf(refs.pothole)).assigneeId).toBe(ids.rania);

    const page = await rania.get(`/staff/tickets/${refs.pothole}`);
    expect(page.text).toContain(`<option value="${ids.hala}"`); // admins can work every ticket
    expect(page.text).not.toContain(`<option value="${ids.karim}"`);

    const none = await rania.post(`/staff/tickets/${refs.pothole}/assign`, { assignee: "none" });
    expect((await rania.follow(none)).text).toContain("أُلغي الإسناد (كان <bdi>Rania</bdi>)");
    expect((await ticketOf(refs.pothole)).assigneeId).toBeNull();
  });

  it("moving a ticket to another category of her department keeps it; to another department, it leaves her queue", async () => {
    const sewage = await rania.post(`/staff/tickets/${refs.pothole}/category`, { category: "sewage", department: "" });
    expect(textOf((await rania.follow(sewage)).text)).toContain("الفئة: طرقات وحفر ← صرف صحي");

    const away = await rania.post(`/staff/tickets/${refs.pothole}/category`, { category: "lighting", department: "" });
    expect(away.headers.location).toBe("/staff");
    expect(textOf((await rania.follow(away)).text)).toContain(`أصبح الطلب #${refs.pothole} تابعاً لدائرة لا تعمل فيها`);
    expect(await ticketOf(refs.pothole)).toMatchObject({ department: "electricity" });

    // Karim now sees it; he sends it back to public works, with roads as the category.
    const back = await karim.post(`/staff/tickets/${refs.pothole}/category`, { category: "roads", department: "public_works" });
    expect(back.headers.location).toBe("/staff");
    expect(await ticketOf(refs.pothole)).toMatchObject({ department: "public_works" });

    const unknown = await rania.post(`/staff/tickets/${refs.pothole}/category`, { category: "no_such_thing" });
    expect(textOf((await rania.follow(unknown)).text)).toContain("فئة أو دائرة غير معروفة.");
  });

  it("resolving tells the resident in their language, with the reference and how to reopen", async () => {
    const res = await rania.post(`/staff/tickets/${refs.pothole}/status`, { status: "resolved", confirm: "yes" });
    const page = textOf((await rania.follow(res)).text);
    expect(page).toContain("تغيّرت الحالة إلى «تمت المعالجة».");
    expect(page).toContain("يجري إبلاغ المواطن بلغته.");
    const notice = (await outboundOf(refs.pothole)).find((m) => m.kind === "notification");
    expect(notice).toMatchObject({ status: "queued", body: `تمت معالجة طلبك #${refs.pothole}. إن بقيت المشكلة، أرسل 1.` });
    expect(notice!.outbox).toMatchObject({ status: "pending", toAddress: phones.pothole });

    const english = await karim.post(`/staff/tickets/${refs.light}/status`, { status: "closed", confirm: "yes" });
    expect(textOf((await karim.follow(english)).text)).toContain("The resident is being notified in their language.");
    expect((await outboundOf(refs.light)).find((m) => m.kind === "notification")?.body).toBe(`Your request #${refs.light} has been closed. If the problem is still there, reply 1.`);
  });

  it("closing an opted-out resident's ticket says they were not notified, and why", async () => {
    // The confirmation says nobody will be told; confirming closes it.
    const asked = textOf((await rania.post(`/staff/tickets/${refs.stopped}/status`, { status: "closed" })).text);
    expect(asked).toContain("ألغى المواطن الاشتراك (أرسل STOP): لن يُبلَّغ بشيء.");
    expect((await ticketOf(refs.stopped)).status).not.toBe("closed");
    const res = await rania.post(`/staff/tickets/${refs.stopped}/status`, { status: "closed", confirm: "yes" });
    expect(textOf((await rania.follow(res)).text)).toContain("لم يُبلَّغ المواطن: ألغى المواطن الاشتراك (أرسل STOP)، فلا يُرسل إليه شيء.");
  });

  it("an unknown status is refused with a message", async () => {
    const res = await rania.post(`/staff/tickets/${refs.stopped}/status`, { status: "vanished" });
    expect(textOf((await rania.follow(res)).text)).toContain("حالة غير معروفة.");
  });
});
