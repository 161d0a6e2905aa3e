import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createI18n } from "../../../src/i18n/createI18n.js";
import { maskPhone } from "../../../src/lib/maskPhone.js";
import { translator } from "../../../src/http/staff/staffContext.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { freshPhone, hire, residentFiles, residentSays, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let hala: StaffBrowser;
let rania: StaffBrowser;
let karim: StaffBrowser;
const phones = { pothole: freshPhone(), light: freshPhone(), stranger: freshPhone(), calm: freshPhone() };
const refs = { pothole: 0, light: 0, calm: 0 };
const ar = translator(createI18n(), "ar");
const en = translator(createI18n(), "en");

/** A phone sending `count` short messages as fast as the webhook takes them (none of them files a request). */
async function flood(from: string, count: number, text = (i: number) => ["hello", "ok", "?", "test", "hi", "thanks"][i % 6]!) {
  for (let i = 0; i < count; i++) await residentSays(world.app, from, text(i));
}

beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "rania", "karim");
  refs.pothole = await residentFiles(world.app, phones.pothole, "في جورة كبيرة بالطريق العام", "قرب الجامع");
  refs.light = await residentFiles(world.app, phones.light, "The street light is broken on our street");
  refs.calm = await residentFiles(world.app, phones.calm, "في حفرة عميقة قدام البيت");
  await flood(phones.pothole, 30);
  await flood(phones.light, 30);
  // A phone with no request at all floods too; its last words carry markup.
  await flood(phones.stranger, 25, (i) => (i === 24 ? "<script>alert(1)</script>" : `spam ${"abcdefghijklmnopqrstuvwxyz"[i]}`));
  [hala, rania, karim] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania"), signedIn(world.app, "karim")]);
}, 120_000);
afterAll(async () => {
  await world.drop();
});

const residentOf = (phone: string) => world.db.resident.findUniqueOrThrow({ where: { municipalityId_phone: { municipalityId: MUNICIPALITY, phone } } });
/** The queue row of a ticket. */
const rowOf = (html: string, reference: number) => new RegExp(`<tr data-reference="${reference}"[\\s\\S]*?</tr>`).exec(html)?.[0] ?? "";

describe("a paused resident, seen by staff", () => {
  it("the queue marks the flooding resident's ticket, and not the others", async () => {
    const page = await hala.get("/staff");
    expect(page.status).toBe(200);
    expect(textOf(rowOf(page.text, refs.pothole))).toContain(ar("botPause.badge.rate"));
    expect(textOf(rowOf(page.text, refs.calm))).not.toContain(ar("botPause.badge.rate"));
    expect(textOf((await karim.get("/staff")).text)).toContain(en("botPause.badge.rate"));
  });

  it("the queue lists the paused residents, a resident with no request among them, their words escaped", async () => {
    const page = await hala.get("/staff");
    const text = textOf(page.text);
    expect(text).toContain(ar("botPause.panel.title"));
    expect(text).toContain(maskPhone(phones.stranger));
    expect(text).not.toContain(phones.stranger);
    expect(page.text).not.toContain("<script>alert(1)</script>");
    expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    // An agent sees the residents whose requests they work, and those with none; not the others'.
    const agent = textOf((await rania.get("/staff")).text);
    expect(agent).toContain(maskPhone(phones.pothole));
    expect(agent).toContain(maskPhone(phones.stranger));
    expect(agent).not.toContain(maskPhone(phones.light));
  });

  it("the ticket page shows why and since when, the messages stored while paused, and a resume button", async () => {
    const page = await rania.get(`/staff/tickets/${refs.pothole}`);
    const text = textOf(page.text);
    expect(text).toContain(ar("botPause.badge.rate"));
    expect(text).toContain(ar("botPause.explain.rate"));
    expect(page.text).toMatch(/<form method="post" action="\/staff\/residents\/\d+\/resume-bot"/);
    // The conversation still shows what the resident wrote after the bot fell silent.
    expect((page.text.match(/msg-in/g) ?? []).length).toBeGreaterThanOrEqual(30);
    const calm = await rania.get(`/staff/tickets/${refs.calm}`);
    expect(calm.text).not.toContain("resume-bot");
  });
});

describe("resuming the bot", () => {
  it("needs the CSRF token", async () => {
    const resident = await residentOf(phones.pothole);
    const forged = await rania.post(`/staff/residents/${resident.id}/resume-bot`, { _csrf: "forged" });
    expect(forged.status).toBe(403);
    expect((await residentOf(phones.pothole)).botPausedAt).not.toBeNull();
  });

  it("an agent cannot resume a resident whose requests belong to another department", async () => {
    const resident = await residentOf(phones.pothole);
    await karim.get("/staff");
    const res = await karim.post(`/staff/residents/${resident.id}/resume-bot`, { back: `/staff/tickets/${refs.pothole}` });
    expect(res.status).toBe(404);
    expect((await residentOf(phones.pothole)).botPausedAt).not.toBeNull();
    expect((await karim.post("/staff/residents/999999/resume-bot")).status).toBe(404);
    expect((await karim.post("/staff/residents/abc/resume-bot")).status).toBe(404);
  });

  it("Rania resumes it from the ticket: back to the ticket, the resident answered again, the audit log records who", async () => {
    const resident = await residentOf(phones.pothole);
    await rania.get(`/staff/tickets/${refs.pothole}`);
    const res = await rania.post(`/staff/residents/${resident.id}/resume-bot`, { back: `/staff/tickets/${refs.pothole}` });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/staff/tickets/${refs.pothole}`);
    const after = await rania.follow(res);
    expect(textOf(after.text)).toContain(ar("botPause.resumed"));
    expect(after.text).not.toContain("resume-bot");
    expect(await residentOf(phones.pothole)).toMatchObject({ botPausedAt: null, botPauseReason: null });
    const audit = await world.db.auditEvent.findFirstOrThrow({ where: { residentId: resident.id, kind: "bot_resumed" } });
    expect(audit).toMatchObject({ actorType: "staff", actorId: ids.rania });
    expect(JSON.parse(audit.data)).toMatchObject({ reason: "rate" });
  });

  it("an off-site `back` is ignored; resuming a resident who is not paused says so", async () => {
    const resident = await residentOf(phones.stranger);
    await hala.get("/staff");
    const res = await hala.post(`/staff/residents/${resident.id}/resume-bot`, { back: "https://evil.example/" });
    expect(res.headers.location).toBe("/staff");
    const again = await hala.post(`/staff/residents/${resident.id}/resume-bot`, { back: "/staff" });
    const page = await hala.follow(again);
    expect(textOf(page.text)).toContain(ar("botPause.notPaused"));
  });
});

describe("an agent of another department", () => {
  const more = { both: freshPhone(), unlinked: freshPhone(), closed: freshPhone(), closedMine: freshPhone(), banner: freshPhone() };
  const refsOf: Record<keyof typeof more, { pothole?: number; light?: number }> = { both: {}, unlinked: {}, closed: {}, closedMine: {}, banner: {} };
  const SECRET = { linked: "ELECTRIC-SECRET the meter box of flat 4 is open", unlinked: "UNLINKED-SECRET my neighbour steals power" };

  /** Pauses the resident as the inbox does (a flood), without the flood. */
  const pause = async (phone: string) => {
    const r = await residentOf(phone);
    await world.db.resident.update({ where: { id: r.id }, data: { botPausedAt: new Date(), botPauseReason: "rate" } });
    return r.id;
  };
  const ticketOf = (reference: number) => world.db.ticket.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, reference } });
  const said = async (phone: string, body: string, ticketId: number | null) => {
    const r = await residentOf(phone);
    await world.db.message.create({
      data: { municipalityId: MUNICIPALITY, residentId: r.id, ticketId, direction: "inbound", kind: "resident", channel: "sms", body, status: "received", createdAt: new Date(Date.now() + 60_000) },
    });
  };
  /** The paused-residents panel's row of a resident ("" when not listed). */
  const panelRow = (html: string, residentId: number) => new RegExp(`<li data-resident="${residentId}"[\\s\\S]*?</li>`).exec(html)?.[0] ?? "";

  beforeAll(async () => {
    // Requests in two departments: public works (Rania) and electricity (Karim).
    refsOf.both = { pothole: await residentFiles(world.app, more.both, "في جورة كبيرة بالطريق العام", "قرب الجامع"), light: await residentFiles(world.app, more.both, "The street light is broken on our street") };
    await said(more.both, SECRET.linked, (await ticketOf(refsOf.both.light!)).id);
    refsOf.unlinked = { pothole: await residentFiles(world.app, more.unlinked, "في جورة كبيرة بالطريق العام", "قرب الجامع"), light: await residentFiles(world.app, more.unlinked, "The street light is broken on our street") };
    await said(more.unlinked, SECRET.unlinked, null);
    // Only a closed electricity request.
    refsOf.closed = { light: await residentFiles(world.app, more.closed, "The street light is broken on our street") };
    await world.db.ticket.update({ where: { id: (await ticketOf(refsOf.closed.light!)).id }, data: { status: "closed" } });
    // A closed electricity request, then a later closed public-works one: the latest decides.
    refsOf.closedMine = { light: await residentFiles(world.app, more.closedMine, "The street light is broken on our street") };
    refsOf.closedMine.pothole = await residentFiles(world.app, more.closedMine, "في جورة كبيرة بالطريق العام", "قرب الجامع");
    await world.db.ticket.updateMany({ where: { resident: { phone: more.closedMine } }, data: { status: "closed" } });
    // A closed public-works request and an open electricity one.
    refsOf.banner = { pothole: await residentFiles(world.app, more.banner, "في جورة كبيرة بالطريق العام", "قرب الجامع"), light: await residentFiles(world.app, more.banner, "The street light is broken on our street") };
    await world.db.ticket.update({ where: { id: (await ticketOf(refsOf.banner.pothole!)).id }, data: { status: "closed" } });
    for (const phone of Object.values(more)) await pause(phone);
  }, 120_000);

  it("the panel shows an agent no words of a message that belongs to another department's request", async () => {
    const { id } = await residentOf(more.both);
    const own = panelRow((await rania.get("/staff")).text, id);
    expect(own).not.toBe("");
    expect(own).toContain(`/staff/tickets/${refsOf.both.pothole}`);
    expect(textOf(own)).not.toContain("ELECTRIC-SECRET");
    expect(textOf(panelRow((await karim.get("/staff")).text, id))).toContain(SECRET.linked);
    expect(textOf(panelRow((await hala.get("/staff")).text, id))).toContain(SECRET.linked);
  });

  it("nor an unlinked message, unless the agent sees all of the resident's open requests", async () => {
    const { id } = await residentOf(more.unlinked);
    for (const agent of [rania, karim]) {
      const row = panelRow((await agent.get("/staff")).text, id);
      expect(row).not.toBe("");
      expect(textOf(row)).not.toContain("UNLINKED-SECRET");
    }
    expect(textOf(panelRow((await hala.get("/staff")).text, id))).toContain(SECRET.unlinked);
  });

  it("a resident with only closed requests is seen (and resumed) by the department of the latest one", async () => {
    const closed = await residentOf(more.closed);
    const mine = await residentOf(more.closedMine);
    const raniaPage = (await rania.get("/staff")).text;
    expect(panelRow(raniaPage, closed.id)).toBe("");
    expect(panelRow(raniaPage, mine.id)).not.toBe("");
    const karimPage = (await karim.get("/staff")).text;
    expect(panelRow(karimPage, closed.id)).not.toBe("");
    expect(panelRow(karimPage, mine.id)).toBe("");
    expect((await rania.post(`/staff/residents/${closed.id}/resume-bot`, { back: "/staff" })).status).toBe(404);
    expect((await residentOf(more.closed)).botPausedAt).not.toBeNull();
    await karim.get("/staff");
    expect((await karim.post(`/staff/residents/${mine.id}/resume-bot`, { back: "/staff" })).status).toBe(404);
    const res = await karim.post(`/staff/residents/${closed.id}/resume-bot`, { back: "/staff" });
    expect(res.status).toBe(303);
    expect((await residentOf(more.closed)).botPausedAt).toBeNull();
  });

  it("the ticket page shows the pause but no Resume button to an agent who could not resume", async () => {
    const page = await rania.get(`/staff/tickets/${refsOf.banner.pothole}`);
    expect(page.status).toBe(200);
    expect(textOf(page.text)).toContain(ar("botPause.explain.rate"));
    expect(page.text).not.toContain("resume-bot");
    expect(textOf(page.text)).toContain(ar("botPause.resumeByOthers"));
    const { id } = await residentOf(more.banner);
    expect((await rania.post(`/staff/residents/${id}/resume-bot`, { back: "/staff" })).status).toBe(404);
    expect((await karim.get(`/staff/tickets/${refsOf.banner.light}`)).text).toContain("resume-bot");
  });
});
