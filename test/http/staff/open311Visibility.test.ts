import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publicRequest } from "../../../src/services/open311/requests.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { freshPhone, hire, residentAsksForPerson, residentFiles, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let hala: StaffBrowser; // admin, Arabic
let rania: StaffBrowser; // public works, Arabic
let karim: StaffBrowser; // electricity and water, English
let nadim: StaffBrowser; // finance, English
const refs = { pothole: 0, person: 0, certificate: 0, finance: 0, payment: 0 };

beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "rania", "karim", "nadim");
  refs.pothole = await residentFiles(world.app, freshPhone(), "في جورة كبيرة بالطريق العام", "قرب الجامع");
  refs.person = await residentAsksForPerson(world.app, freshPhone());
  refs.certificate = await residentFiles(world.app, freshPhone(), "في جورة كبيرة بالطريق العام", "قرب المدرسة");
  refs.finance = await residentFiles(world.app, freshPhone(), "في حفرة عميقة قدام البيت");
  refs.payment = await residentFiles(world.app, freshPhone(), "في جورة كبيرة بالطريق العام", "قرب الساحة");
  const certificates = await world.db.category.update({ where: { municipalityId_code: { municipalityId: MUNICIPALITY, code: "certificates" } }, data: { isPrivate: true } });
  await world.db.ticket.update({ where: ticketWhere(refs.certificate), data: { categoryId: certificates.id, department: "administration" } });
  await world.db.ticket.update({ where: ticketWhere(refs.finance), data: { department: "finance" } });
  const account = await world.db.account.create({ data: { municipalityId: MUNICIPALITY, number: "QE-104270", holderName: "Holder", accountType: "property", verificationCodeHash: "x" } });
  await world.db.paymentReport.create({ data: { municipalityId: MUNICIPALITY, ticketId: (await ticketOf(refs.payment)).id, accountId: account.id, amount: "100", currency: "USD", paidAt: "OMT" } });
  [hala, rania, karim, nadim] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania"), signedIn(world.app, "karim"), signedIn(world.app, "nadim")]);
}, 120_000);
afterAll(async () => {
  await world.drop();
});

function ticketWhere(reference: number) {
  return { municipalityId_reference: { municipalityId: MUNICIPALITY, reference } };
}
const ticketOf = (reference: number) => world.db.ticket.findUniqueOrThrow({ where: ticketWhere(reference) });
const visibilityEvents = async (reference: number) =>
  (await world.db.ticketEvent.findMany({ where: { ticket: { reference }, kind: { in: ["open311_hidden", "open311_shown"] } }, orderBy: { id: "asc" } })).map((e) => [e.kind, e.actorId]);
const served = (reference: number) => publicRequest(world.db, MUNICIPALITY, reference, "ar");
const action = (reference: number) => `/staff/tickets/${reference}/open311-visibility`;

describe("hiding one request from Open311", () => {
  it("the ticket page says a request is public; Rania hides it, and Open311 no longer serves it", async () => {
    const page = await rania.get(`/staff/tickets/${refs.pothole}`);
    expect(textOf(page.text)).toContain("منشور على Open311: يمكن للتطبيقات الأخرى ولموقع البلدية قراءة هذا الطلب");
    expect(page.text).toContain(`action="${action(refs.pothole)}"`);
    expect(page.text).toContain('name="hidden" value="true"');
    expect(await served(refs.pothole)).not.toBeNull();

    const res = await rania.post(action(refs.pothole), { hidden: "true" });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/staff/tickets/${refs.pothole}`);
    const after = textOf((await rania.follow(res)).text);
    expect(after).toContain(`أُخفي الطلب #${refs.pothole} عن Open311.`);
    expect(after).toContain("غير منشور على Open311:");
    expect(after).toContain("أخفاه الموظفون");
    expect(after).toContain("إلغاء الإخفاء عن Open311");
    expect(after).toContain("أخفى الطلب عن Open311"); // the history
    expect((await ticketOf(refs.pothole)).open311Hidden).toBe(true);
    expect(await visibilityEvents(refs.pothole)).toEqual([["open311_hidden", ids.rania]]);
    expect(await served(refs.pothole)).toBeNull();
  });

  it("sending the same form again changes nothing and says so", async () => {
    const res = await rania.post(action(refs.pothole), { hidden: "true" });
    expect(textOf((await rania.follow(res)).text)).toContain(`الطلب #${refs.pothole} مخفي عن Open311 أصلاً.`);
    expect(await visibilityEvents(refs.pothole)).toEqual([["open311_hidden", ids.rania]]);
  });

  it("stopping hiding it serves it again, and the history says who did", async () => {
    const res = await hala.post(action(refs.pothole), { hidden: "false" });
    const page = textOf((await hala.follow(res)).text);
    expect(page).toContain(`لم يعد الطلب #${refs.pothole} مخفياً عن Open311.`);
    expect(page).toContain("ألغى إخفاء الطلب عن Open311");
    expect(page).toContain("منشور على Open311");
    expect(await visibilityEvents(refs.pothole)).toEqual([
      ["open311_hidden", ids.rania],
      ["open311_shown", ids.hala],
    ]);
    expect(await served(refs.pothole)).not.toBeNull();
  });

  it("needs the page's CSRF token", async () => {
    const res = await rania.post(action(refs.pothole), { hidden: "true", _csrf: "" });
    expect(res.status).toBe(403);
    expect((await ticketOf(refs.pothole)).open311Hidden).toBe(false);
  });

  it("an agent of another department gets a 404, as for a ticket that does not exist, whatever the form", async () => {
    const forms: Array<Record<string, string>> = [{ hidden: "true" }, { hidden: "maybe" }, {}];
    for (const form of forms) {
      expect((await karim.post(action(refs.pothole), form)).status).toBe(404);
    }
    expect((await rania.post(action(99_999), { hidden: "true" })).status).toBe(404);
    expect((await ticketOf(refs.pothole)).open311Hidden).toBe(false);
    expect(await visibilityEvents(refs.pothole)).toHaveLength(2);
  });

  it("a form that says neither is refused with a message", async () => {
    const res = await rania.post(action(refs.pothole), { hidden: "maybe" });
    expect(textOf((await rania.follow(res)).text)).toContain("اختر إخفاء الطلب أو إلغاء إخفائه.");
    expect(await visibilityEvents(refs.pothole)).toHaveLength(2);
  });
});

describe("why a request is not on Open311", () => {
  const reasonsOn = async (browser: StaffBrowser, reference: number) => textOf((await browser.get(`/staff/tickets/${reference}`)).text);

  it.each([
    ["person", "لا فئة له"],
    ["certificate", "فئته خاصة"],
    ["payment", "هو بلاغ عن دفعة"],
  ] as const)("%s: %s", async (which, reason) => {
    const page = await reasonsOn(hala, refs[which]);
    expect(page).toContain("غير منشور على Open311:");
    expect(page).toContain(reason);
    expect(await served(refs[which])).toBeNull();
  });

  it("a finance agent reads it in English", async () => {
    const page = await reasonsOn(nadim, refs.finance);
    expect(page).toContain("Not public on Open311:");
    expect(page).toContain("it belongs to the finance department");
    expect(page).toContain("Hide from Open311");
    expect(await served(refs.finance)).toBeNull();
  });

  it("a hidden request in a private category gives both reasons", async () => {
    await hala.get(`/staff/tickets/${refs.certificate}`);
    await hala.post(action(refs.certificate), { hidden: "true" });
    const page = await reasonsOn(hala, refs.certificate);
    expect(page).toContain("فئته خاصة");
    expect(page).toContain("أخفاه الموظفون");
  });
});
