import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TicketDetail, TicketList } from "../../../src/http/api/apiSchemas.js";
import { maskPhone } from "../../../src/lib/maskPhone.js";
import { createApiToken } from "../../../src/services/apiTokens.js";
import { open311Client, open311Ticket, roadsQuestions } from "../../support/open311Tickets.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { apiClient } from "../api/apiWorld.js";
import { freshPhone, hire, residentFiles, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

/**
 * Requests other civic tools filed through Open311, as staff work them: one without a phone number
 * (no resident: nobody to reply to), one with (a resident told by SMS), and one of a department
 * Rania does not work. The client's name, an answer and a media link are hostile.
 */

const HOSTILE_CLIENT = `FixMyStreet <script>alert("x")</script> Bekaa`;
const REF = { nobody: 20001, withPhone: 20002, water: 20003 };
const MEDIA = ["https://fixmystreet.example.org/photo/5521.jpeg", "javascript:alert(1)", 'http://example.org/a"onmouseover=alert(1)', "data:text/html,<b>x</b>"];

let world: World;
let hala: StaffBrowser;
let rania: StaffBrowser;
let smsReference = 0;
let phone = "";
let residentId = 0;
let token = "";

beforeAll(async () => {
  world = await createTestWorld();
  const ids = await hire(world, "hala", "rania");
  const roads = await roadsQuestions(world.db);
  const hostile = await open311Client(world.db, HOSTILE_CLIENT);
  const plain = await open311Client(world.db, "Bekaa Civic App", { revokedAt: new Date() });
  await open311Ticket(world.db, {
    reference: REF.nobody,
    clientId: hostile.id,
    categoryId: roads.id,
    description: "Deep pothole by the school gate",
    mediaUrls: MEDIA,
    attributes: {
      legacy_code: "<b>raw</b>",
      hazards: ["cars", "children"],
      hole_size: "large",
      details: "<img src=x onerror=alert(1)>",
      old_question: "yes",
    },
    person: { firstName: "Rima", lastName: "Haddad", email: "rima@example.org", deviceId: "device-77", accountId: "fms-5521" },
  });
  phone = freshPhone();
  residentId = (await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone } })).id;
  await open311Ticket(world.db, { reference: REF.withPhone, clientId: plain.id, categoryId: roads.id, residentId, attributes: { hole_size: "small" } });
  await open311Ticket(world.db, { reference: REF.water, clientId: plain.id, department: "water", description: "Water leak on the square" });
  smsReference = await residentFiles(world.app, freshPhone(), "في جورة كبيرة بالطريق العام");
  [hala, rania] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania")]);
  // Hala reads the pages in English, Rania in Arabic.
  expect((await hala.post("/staff/locale", { locale: "en", back: "/staff" })).status).toBe(303);
  token = (await world.db.$transaction((tx) => createApiToken(tx, { municipalityId: MUNICIPALITY, staffId: ids.hala, name: "test" }))).token;
}, 120_000);
afterAll(async () => {
  await world.drop();
});

const ticketOf = (reference: number) => world.db.ticket.findUniqueOrThrow({ where: { municipalityId_reference: { municipalityId: MUNICIPALITY, reference } } });
const referencesIn = (page: string) => [...page.matchAll(/<tr data-reference="(\d+)"/g)].map((m) => Number(m[1]));
const ticketPage = async (browser: StaffBrowser, reference: number) => {
  const page = await browser.get(`/staff/tickets/${reference}`);
  expect(page.status, page.text).toBe(200);
  return page.text;
};

describe("the queue", () => {
  it("shows the client's name where a request without a phone number has no resident, and a masked phone where it has one", async () => {
    const page = await rania.get("/staff");
    expect(page.status).toBe(200);
    expect(referencesIn(page.text)).toEqual(expect.arrayContaining([REF.nobody, REF.withPhone, smsReference]));
    // Rania works public works: the water department's Open311 request is not hers.
    expect(referencesIn(page.text)).not.toContain(REF.water);
    const row = (reference: number) => page.text.slice(page.text.indexOf(`data-reference="${reference}"`), page.text.indexOf("</tr>", page.text.indexOf(`data-reference="${reference}"`)));
    expect(row(REF.nobody)).toContain(`Open311 · <bdi>FixMyStreet &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Bekaa</bdi>`);
    expect(page.text).not.toContain("<script>alert");
    expect(row(REF.withPhone)).toContain(maskPhone(phone));
    expect(row(REF.withPhone)).not.toContain(phone);
    // With a phone too, the queue says which tool filed it.
    expect(row(REF.withPhone)).toContain("Open311 · <bdi>Bekaa Civic App</bdi>");
    expect(row(smsReference)).not.toContain("Open311");
    expect(row(REF.nobody)).toContain('class="badge channel channel-open311 route-open311">Open311<');
  });

  it("the channel filter offers Open311 and finds exactly the requests other tools filed", async () => {
    const page = await rania.get("/staff");
    expect(page.text).toMatch(/<select id="f-channel" name="channel"[^>]*>(?:(?!<\/select>).)*<option value="open311" >Open311<\/option>/s);
    const open311 = await rania.get("/staff?channel=open311");
    expect(open311.status).toBe(200);
    expect(referencesIn(open311.text).sort()).toEqual([REF.nobody, REF.withPhone]);
    expect(open311.text).toMatch(/<option value="open311" selected>/);
    const sms = await rania.get("/staff?channel=sms");
    expect(referencesIn(sms.text)).toEqual([smsReference]);
    // The live refresh reads the same filter.
    const rows = await rania.get("/staff/queue/rows?channel=open311");
    expect(referencesIn(rows.text).sort()).toEqual([REF.nobody, REF.withPhone]);
    // Validated like the others: a channel we do not know is a 400, not an empty page.
    expect((await rania.get("/staff?channel=fax")).status).toBe(400);
  });

  it("a phone search passes over a request without a phone, and finds one filed with that phone", async () => {
    const digits = await rania.get("/staff?q=71&status=all");
    expect(digits.status).toBe(200);
    expect(referencesIn(digits.text)).not.toContain(REF.nobody);
    const own = await rania.get(`/staff?q=${encodeURIComponent(phone.slice(-7))}`);
    expect(referencesIn(own.text)).toEqual([REF.withPhone]);
  });
});

describe("a request filed through Open311 without a phone number", () => {
  it("shows the Open311 card: the client, when, the person, the answers by their names, and unknown codes as sent", async () => {
    const page = await ticketPage(hala, REF.nobody);
    const card = page.slice(page.indexOf('class="card card-open311-submission"'), page.indexOf("</section>", page.indexOf('class="card card-open311-submission"')));
    const text = textOf(card);
    expect(text).toContain("Filed through Open311");
    expect(card).toContain(`<bdi class="open311-client">FixMyStreet &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Bekaa</bdi>`);
    expect(text).toContain("Received");
    for (const shown of ["Rima Haddad", "rima@example.org", "device-77", "fms-5521"]) expect(text).toContain(shown);
    // The category's questions in its order, in English, list values by their names; then codes it does not know.
    const answers = [...card.matchAll(/<div class="dl-row" data-code="([a-z_]+)">/g)].map((m) => m[1]);
    expect(answers).toEqual(["hole_size", "hazards", "details", "old_question", "legacy_code"]);
    expect(text).toContain("How big is the hole?");
    expect(card).toMatch(/How big is the hole\?<\/dt><dd dir="auto"><bdi>Large<\/bdi><\/dd>/);
    expect(card).toMatch(/What hazards\?<\/dt><dd dir="auto"><bdi>To cars<\/bdi>, <bdi>To children<\/bdi><\/dd>/);
    expect(text).toContain("A retired question");
    expect(card).toContain('<code dir="ltr">legacy_code</code>');
    // Hostile answers are text.
    expect(card).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(card).toContain("&lt;b&gt;raw&lt;/b&gt;");
    expect(page).not.toContain("<img src=x");
    expect(page).not.toContain("<b>raw</b>");
  });

  it("lists media as plain links: only http(s) ones are clickable, nothing is embedded or fetched", async () => {
    const page = await ticketPage(hala, REF.nobody);
    expect(page).toContain(
      `<a href="https://fixmystreet.example.org/photo/5521.jpeg" rel="noopener noreferrer nofollow" target="_blank" dir="ltr" class="external-link">https://fixmystreet.example.org/photo/5521.jpeg</a>`,
    );
    // Shown as the browser reads it: the quote percent-encoded, so it can end neither the attribute nor the text.
    expect(page).toContain(`<a href="http://example.org/a%22onmouseover=alert(1)" rel="noopener noreferrer nofollow" target="_blank" dir="ltr" class="external-link">http://example.org/a%22onmouseover=alert(1)</a>`);
    expect(page).not.toContain('"onmouseover');
    // javascript: and data: are shown as text, never as a link.
    expect(page).toContain('<span dir="ltr" class="external-link not-a-link">javascript:alert(1)</span>');
    expect(page).toContain('<span dir="ltr" class="external-link not-a-link">data:text/html,&lt;b&gt;x&lt;/b&gt;</span>');
    expect(page).not.toMatch(/<a\b[^>]*href="\s*(javascript|data):/i);
    expect(page).not.toMatch(/<(img|iframe|video|audio|source)\b[^>]*(fixmystreet|example\.org)/);
  });

  it("has no reply box, no resident, no conversation: a notice says to use a public note", async () => {
    const page = await ticketPage(hala, REF.nobody);
    const text = textOf(page);
    expect(page).not.toContain(`action="/staff/tickets/${REF.nobody}/reply"`);
    expect(page).not.toContain('id="reply-body"');
    expect(text).toContain(
      "This request came through Open311 without a phone number: there is nobody to reply to. Use a public note when you change its status — the client's users read it.",
    );
    expect(text).toContain("No resident: this request came through Open311 without a phone number.");
    expect(page).not.toContain("tel:");
    expect(page).not.toContain('id="conversation-title"');
    expect(page).not.toContain("bot-pause");
    expect(page).not.toContain('id="phone-accounts-title"');
    expect(text).toContain("Nobody is notified: this request has no resident.");
    // The internal note and the status form are still there.
    expect(page).toContain(`action="/staff/tickets/${REF.nobody}/note"`);
    expect(page).toContain(`action="/staff/tickets/${REF.nobody}/status"`);
    // The history names the client as the one who filed it.
    expect(text).toContain(`${HOSTILE_CLIENT} (Open311)`);
    expect(text).toContain("Filed on Open311");
  });

  it("a reply is refused with a message in the staff member's language, and nothing is recorded", async () => {
    await ticketPage(rania, REF.nobody);
    const res = await rania.post(`/staff/tickets/${REF.nobody}/reply`, { body: "Hello, the crew comes tomorrow" });
    expect(res.status).toBe(303);
    const page = textOf((await rania.follow(res)).text);
    expect(page).toContain("وصل هذا الطلب عبر Open311 من دون رقم هاتف: لا أحد يمكن الرد عليه.");
    const ticket = await ticketOf(REF.nobody);
    expect(await world.db.message.count({ where: { ticketId: ticket.id } })).toBe(0);
    expect(await world.db.ticketEvent.count({ where: { ticketId: ticket.id, kind: "reply" } })).toBe(0);
    expect(ticket.status).toBe("new");
  });

  it("resolving it with a public note records both and notifies nobody", async () => {
    const before = await world.db.outbox.count();
    await ticketPage(hala, REF.nobody);
    const res = await hala.post(`/staff/tickets/${REF.nobody}/status`, { status: "resolved", publicNote: "Filled on Tuesday." });
    expect(res.status).toBe(303);
    const page = textOf((await hala.follow(res)).text);
    expect(page).toContain("Status changed to “Resolved”.");
    const ticket = await ticketOf(REF.nobody);
    expect(ticket.status).toBe("resolved");
    const event = await world.db.ticketEvent.findFirstOrThrow({ where: { ticketId: ticket.id, kind: "status_changed" } });
    expect(JSON.parse(event.data)).toEqual({ from: "new", to: "resolved", publicNote: "Filled on Tuesday." });
    expect(await world.db.outbox.count()).toBe(before);
    expect(await world.db.message.count({ where: { ticketId: ticket.id } })).toBe(0);
    expect(page).toContain("Filled on Tuesday.");
  });

  it("reads in Arabic: the questions and the list values in Arabic, the notice in Arabic", async () => {
    const page = await ticketPage(rania, REF.nobody);
    expect(page).toContain('<html lang="ar" dir="rtl">');
    const text = textOf(page);
    expect(text).toContain("مُقدَّم عبر Open311");
    expect(page).toMatch(/ما حجم الحفرة؟<\/dt><dd dir="auto"><bdi>كبيرة<\/bdi><\/dd>/);
    expect(page).toMatch(/ما المخاطر؟<\/dt><dd dir="auto"><bdi>على السيارات<\/bdi>، <bdi>على الأطفال<\/bdi><\/dd>/);
    expect(text).toContain("وصل هذا الطلب عبر Open311 من دون رقم هاتف: لا أحد يمكن الرد عليه. اكتب ملاحظة علنية عند تغيير حالته");
    expect(text).toContain("لا مواطن: وصل هذا الطلب عبر Open311 من دون رقم هاتف");
    expect(text).toContain("قُدّم عبر Open311");
  });
});

describe("a request filed through Open311 with a phone number", () => {
  it("works as an SMS resident's, with the Open311 card besides", async () => {
    const page = await ticketPage(hala, REF.withPhone);
    const text = textOf(page);
    expect(page).toContain(`href="tel:${phone}"`);
    expect(page).toContain(`action="/staff/tickets/${REF.withPhone}/reply"`);
    expect(text).toContain("Filed through Open311");
    expect(text).toContain("Bekaa Civic App");
    expect(text).toContain("Key revoked");
    expect(text).toContain("The client sent no name or contact details.");
    expect(text).toContain("No media.");
    expect(text).toContain("SMS: your reply goes out right away.");
  });

  it("a reply and the resolution go to the resident's phone by SMS", async () => {
    await ticketPage(hala, REF.withPhone);
    const replied = await hala.post(`/staff/tickets/${REF.withPhone}/reply`, { body: "The crew comes tomorrow" });
    expect(replied.status).toBe(303);
    await hala.follow(replied);
    const resolved = await hala.post(`/staff/tickets/${REF.withPhone}/status`, { status: "resolved", confirm: "yes" });
    expect(resolved.status).toBe(303);
    await hala.follow(resolved);
    const outbox = await world.db.outbox.findMany({ where: { residentId }, orderBy: { id: "asc" } });
    expect(outbox.map((o) => [o.channel, o.toAddress, o.status])).toEqual([
      ["sms", phone, "pending"],
      ["sms", phone, "pending"],
    ]);
    expect(outbox[0]?.body).toBe("The crew comes tomorrow");
    expect(outbox[1]?.body).toContain(String(REF.withPhone));
    const messages = await world.db.message.findMany({ where: { ticketId: (await ticketOf(REF.withPhone)).id }, orderBy: { id: "asc" } });
    expect(messages.map((m) => [m.kind, m.channel])).toEqual([
      ["staff", "sms"],
      ["notification", "sms"],
    ]);
  });
});

describe("the API", () => {
  const api = () => apiClient(world.app);

  it("GET /tickets/{reference} of a request without a phone: resident null, and what the client sent", async () => {
    const res = await api().get(token, `/tickets/${REF.nobody}`);
    expect(res.status, res.text).toBe(200);
    const ticket = TicketDetail.parse(res.body);
    expect(ticket).toMatchObject({ reference: REF.nobody, channel: "open311", route: "open311", resident: null, messages: [], whatsappWindow: null });
    expect(ticket.open311).toEqual({
      client: { name: HOSTILE_CLIENT, revoked: false },
      submittedAt: expect.stringMatching(/Z$/),
      person: { firstName: "Rima", lastName: "Haddad", email: "rima@example.org", deviceId: "device-77", accountId: "fms-5521" },
      mediaUrls: MEDIA,
      attributes: [
        { code: "hole_size", question: { ar: "ما حجم الحفرة؟", en: "How big is the hole?" }, values: [{ key: "large", name: { ar: "كبيرة", en: "Large" } }] },
        {
          code: "hazards",
          question: { ar: "ما المخاطر؟", en: "What hazards?" },
          values: [
            { key: "cars", name: { ar: "على السيارات", en: "To cars" } },
            { key: "children", name: { ar: "على الأطفال", en: "To children" } },
          ],
        },
        { code: "details", question: { ar: "تفاصيل أخرى", en: "Other details" }, values: [{ key: "<img src=x onerror=alert(1)>", name: null }] },
        { code: "old_question", question: { ar: "سؤال قديم", en: "A retired question" }, values: [{ key: "yes", name: null }] },
        { code: "legacy_code", question: null, values: [{ key: "<b>raw</b>", name: null }] },
      ],
    });
  });

  it("GET /tickets?channel=open311 lists them with the client's name, and no phone where there is none", async () => {
    const res = await api().get(token, "/tickets?channel=open311&status=all");
    expect(res.status, res.text).toBe(200);
    const list = TicketList.parse(res.body);
    expect(list.tickets.map((t) => [t.reference, t.phoneMasked, t.open311Client])).toEqual([
      [REF.nobody, null, HOSTILE_CLIENT],
      [REF.withPhone, maskPhone(phone), "Bekaa Civic App"],
      [REF.water, null, "Bekaa Civic App"],
    ]);
  });

  it("a request with a phone has its resident; a reply to one without is a 409 and changes nothing", async () => {
    const withPhone = TicketDetail.parse((await api().get(token, `/tickets/${REF.withPhone}`)).body);
    expect(withPhone.resident).toMatchObject({ phone, optedOut: false });
    expect(withPhone.open311?.client).toEqual({ name: "Bekaa Civic App", revoked: true });
    const reply = await api().post(token, `/tickets/${REF.water}/replies`, { body: "Hello" });
    expect(reply.status).toBe(409);
    expect(reply.body.error).toMatch(/without a phone number/);
    expect(await world.db.message.count({ where: { ticketId: (await ticketOf(REF.water)).id } })).toBe(0);
  });

  it("closing one without a phone answers without a delivery", async () => {
    const res = await api().post(token, `/tickets/${REF.water}/status`, { status: "closed", publicNote: "Fixed by the water office." });
    expect(res.status, res.text).toBe(200);
    expect(res.body.delivery).toBeUndefined();
    expect(res.body.ticket).toMatchObject({ reference: REF.water, status: "closed", phoneMasked: null, open311Client: "Bekaa Civic App", channel: "open311" });
  });
});
