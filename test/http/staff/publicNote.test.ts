import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publicRequest } from "../../../src/services/open311/requests.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { freshPhone, hire, residentFiles, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

let world: World;
let rania: StaffBrowser; // public works, Arabic
let karim: StaffBrowser; // electricity and water, English
const phones = { pothole: freshPhone(), light: freshPhone() };
const refs = { pothole: 0, light: 0 };

beforeAll(async () => {
  world = await createTestWorld();
  await hire(world, "rania", "karim");
  refs.pothole = await residentFiles(world.app, phones.pothole, "في جورة كبيرة بالطريق العام", "قرب الجامع");
  refs.light = await residentFiles(world.app, phones.light, "The street light is broken on our street");
  [rania, karim] = await Promise.all([signedIn(world.app, "rania"), signedIn(world.app, "karim")]);
}, 120_000);
afterAll(async () => {
  await world.drop();
});

const ticketOf = (reference: number) => world.db.ticket.findUniqueOrThrow({ where: { municipalityId_reference: { municipalityId: MUNICIPALITY, reference } } });
const eventsOf = async (reference: number) =>
  (await world.db.ticketEvent.findMany({ where: { ticket: { reference }, kind: { in: ["status_changed", "public_note"] } }, orderBy: { id: "asc" } })).map((e) => ({
    kind: e.kind,
    data: JSON.parse(e.data) as unknown,
  }));
const notifications = async (reference: number) => world.db.message.findMany({ where: { ticket: { reference }, kind: "notification" }, orderBy: { id: "asc" } });
const statusForm = (reference: number) => `/staff/tickets/${reference}/status`;

describe("the public note on the status form", () => {
  it("is a textarea under the status, saying it is public and never sent to the resident", async () => {
    const page = await rania.get(`/staff/tickets/${refs.pothole}`);
    const form = /<form method="post" action="\/staff\/tickets\/\d+\/status"[\s\S]*?<\/form>/.exec(page.text)?.[0] ?? "";
    expect(form).toMatch(/<textarea name="publicNote" rows="2" maxlength="1000" dir="auto"><\/textarea>/);
    expect(textOf(form)).toContain("ملاحظة علنية (تظهر على Open311، ولا تُرسل إلى المواطن)");
  });

  it("resolving with a note stores it with the change; the resident's notice is the usual one, without it", async () => {
    const res = await rania.post(statusForm(refs.pothole), { status: "resolved", publicNote: "  تم ردم الحفرة <b>اليوم</b>  ", confirm: "yes" });
    const page = await rania.follow(res);
    const text = textOf(page.text);
    expect(text).toContain("تغيّرت الحالة إلى «تمت المعالجة».");
    expect(text).toContain("يجري إبلاغ المواطن بلغته.");
    // The history and the Open311 card show it, as text.
    expect(text).toContain("ملاحظة علنية:");
    expect(text).toContain("الملاحظة العلنية الآن:");
    expect(page.text).toContain("تم ردم الحفرة &lt;b&gt;اليوم&lt;/b&gt;");
    expect(page.text).not.toContain("<b>اليوم</b>");

    expect(await eventsOf(refs.pothole)).toEqual([{ kind: "status_changed", data: { from: "new", to: "resolved", publicNote: "تم ردم الحفرة <b>اليوم</b>" } }]);
    const sent = await notifications(refs.pothole);
    expect(sent.map((m) => m.body)).toEqual([`تمت معالجة طلبك #${refs.pothole}. إن بقيت المشكلة، أرسل 1.`]);
    expect((await publicRequest(world.db, MUNICIPALITY, refs.pothole, "ar"))?.status_notes).toBe("تم ردم الحفرة <b>اليوم</b>");
  });

  it("the same status with a note saves only the note, and nobody is notified", async () => {
    const res = await rania.post(statusForm(refs.pothole), { status: "resolved", publicNote: "سيُعاد تزفيت الطريق الأسبوع المقبل" });
    const text = textOf((await rania.follow(res)).text);
    expect(text).toContain("حُفظت الملاحظة العلنية، وبقيت الحالة «تمت المعالجة». لم يُبلَّغ أحد.");
    expect(text).toContain("ملاحظة علنية (لم تتغيّر الحالة):");
    expect((await eventsOf(refs.pothole)).at(-1)).toEqual({ kind: "public_note", data: { text: "سيُعاد تزفيت الطريق الأسبوع المقبل" } });
    expect(await notifications(refs.pothole)).toHaveLength(1);
    expect((await publicRequest(world.db, MUNICIPALITY, refs.pothole, "ar"))?.status_notes).toBe("سيُعاد تزفيت الطريق الأسبوع المقبل");
  });

  it("the same status without a note (or with a blank one) changes nothing and says so", async () => {
    const before = await eventsOf(refs.pothole);
    const forms: Array<Record<string, string>> = [{ status: "resolved" }, { status: "resolved", publicNote: "   \n  " }];
    for (const form of forms) {
      const res = await rania.post(statusForm(refs.pothole), form);
      expect(textOf((await rania.follow(res)).text)).toContain("الحالة «تمت المعالجة» أصلاً: لم يتغيّر شيء.");
    }
    expect(await eventsOf(refs.pothole)).toEqual(before);
    expect(await notifications(refs.pothole)).toHaveLength(1);
  });

  it.each([
    ["is too long", "ا".repeat(1001), "الملاحظة العلنية أطول من 1000 حرف."],
    ["holds a control character", "bell \u0007 here", "في الملاحظة العلنية رموز لا يمكن نشرها."],
    ["is only invisible characters", "\u200b\u200f", "لا نص ظاهراً في الملاحظة العلنية."],
  ])("a note that %s is refused with a message, and the status stays", async (_what, publicNote, message) => {
    const before = await eventsOf(refs.pothole);
    const res = await rania.post(statusForm(refs.pothole), { status: "closed", publicNote });
    expect(res.status).toBe(303);
    expect(textOf((await rania.follow(res)).text)).toContain(message);
    expect((await ticketOf(refs.pothole)).status).toBe("resolved");
    expect(await eventsOf(refs.pothole)).toEqual(before);
  });

  it("a change that is not a resolution, with a note, tells the resident nothing (in English too)", async () => {
    const res = await karim.post(statusForm(refs.light), { status: "in_progress", publicNote: "Electrician booked for Monday" });
    expect(textOf((await karim.follow(res)).text)).toContain("Status changed to “In progress”.");
    expect(await notifications(refs.light)).toHaveLength(0);
    expect(await eventsOf(refs.light)).toEqual([{ kind: "status_changed", data: { from: "new", to: "in_progress", publicNote: "Electrician booked for Monday" } }]);
    const again = await karim.post(statusForm(refs.light), { status: "in_progress" });
    expect(textOf((await karim.follow(again)).text)).toContain("The status already is “In progress”: nothing changed.");
  });
});

describe("reading a public note from the form", () => {
  it("counts a line break once, as the browser's maxlength does, and stores it as LF", async () => {
    const { readPublicNote } = await import("../../../src/services/staffActions.js");
    const note = `${"a".repeat(495)}\r\n${"b".repeat(504)}`; // 1,000 characters for the browser, 1,001 bytes of CRLF
    expect(readPublicNote(note)).toEqual({ ok: true, note: `${"a".repeat(495)}\n${"b".repeat(504)}` });
  });
});
