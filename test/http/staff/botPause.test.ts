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
