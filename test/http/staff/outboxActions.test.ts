import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { twilioSender } from "../../../src/channels/twilio/twilioSender.js";
import { drainOutbox, type DrainOutboxDeps } from "../../../src/jobs/drainOutbox.js";
import { startFakeTwilio, type FakeTwilio } from "../../support/fakeTwilio.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { PUBLIC_BASE_URL, TWILIO_ACCOUNT_SID as ACCOUNT, TWILIO_AUTH_TOKEN as TOKEN } from "../../support/twilio.js";
import { freshPhone, hire, residentAsksForPerson, residentFiles, residentSays, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

const HOUR = 3600_000;

let world: World;
let fake: FakeTwilio;
let hala: StaffBrowser;
let rania: StaffBrowser;
let karim: StaffBrowser;
const phones = { light: freshPhone(), whatsapp: freshPhone() };
const refs = { light: 0, whatsapp: 0 };

beforeAll(async () => {
  world = await createTestWorld();
  await hire(world, "hala", "rania", "karim");
  fake = await startFakeTwilio({ accountSid: ACCOUNT, authToken: TOKEN });
  refs.light = await residentFiles(world.app, phones.light, "The street light is broken on our street");
  refs.whatsapp = await residentAsksForPerson(world.app, phones.whatsapp, "whatsapp");
  [hala, rania, karim] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania"), signedIn(world.app, "karim")]);
}, 120_000);
afterAll(async () => {
  await fake.close();
  await world.drop();
});

/** The outbox worker, `hoursLater` on its clock, talking to Twilio at `apiUrl`. */
function worker(apiUrl: string, hoursLater = 0): DrainOutboxDeps {
  return {
    db: world.db,
    logger: pino({ level: "silent" }),
    outbox: world.deps.outbox,
    clock: () => new Date(Date.now() + hoursLater * HOUR),
    senders: { twilio: twilioSender({ accountSid: ACCOUNT, authToken: TOKEN, smsFrom: "+9611555000", whatsappFrom: "whatsapp:+9611555001", publicBaseUrl: PUBLIC_BASE_URL, apiUrl, keepAlive: false, timeoutMs: 500 }) },
  };
}
// Nothing listens there: every send is refused before it reaches anyone.
const UNREACHABLE = "http://127.0.0.1:9";

const ticketId = async (reference: number) => (await world.db.ticket.findUniqueOrThrow({ where: { municipalityId_reference: { municipalityId: MUNICIPALITY, reference } } })).id;
const outbound = async (reference: number) =>
  world.db.message.findMany({ where: { ticketId: await ticketId(reference), direction: "outbound", kind: { not: "bot" } }, include: { outbox: true }, orderBy: { id: "asc" } });
const eventsOf = async (reference: number) => world.db.ticketEvent.findMany({ where: { ticketId: await ticketId(reference) }, orderBy: { id: "asc" } });

/** A staff reply that Twilio never gets: tried while Twilio is unreachable, then its deadline passes. */
async function replyThatNeverArrives(browser: StaffBrowser, reference: number, body: string) {
  await browser.get(`/staff/tickets/${reference}`);
  expect((await browser.post(`/staff/tickets/${reference}/reply`, { body })).status).toBe(303);
  await drainOutbox(worker(UNREACHABLE), new Date());
  const [message] = (await outbound(reference)).filter((m) => m.body === body);
  expect(message).toMatchObject({ status: "queued", outbox: { status: "pending", attempts: 1, lastError: expect.stringMatching(/ECONNREFUSED/) } });
  // A day later, still nothing: the worker gives up, visibly.
  await drainOutbox(worker(UNREACHABLE, 25), new Date());
  return message!.id;
}

describe("a reply that cannot be delivered before its deadline", () => {
  it("is failed, and the ticket page says why in the staff member's language and offers to try again", async () => {
    const messageId = await replyThatNeverArrives(karim, refs.light, "A technician comes on Monday.");
    expect(await world.db.message.findUniqueOrThrow({ where: { id: messageId }, include: { outbox: true } })).toMatchObject({
      status: "failed",
      errorCode: "outbox_deadline",
      outbox: { status: "failed" },
    });
    const page = textOf((await karim.get(`/staff/tickets/${refs.light}`)).text);
    expect(page).toContain("not delivered within 24 hours, so no more attempts are made");
    expect(page).toContain(`action="/staff/tickets/${refs.light}/messages/${messageId}/retry"`);
    // An SMS cannot be sent "by SMS instead".
    expect(page).not.toContain(`/messages/${messageId}/send-by-sms`);
    // Hala reads the same page in Arabic.
    expect(textOf((await hala.get(`/staff/tickets/${refs.light}`)).text)).toContain("لم تُسلَّم خلال 24 ساعة، فتوقفت المحاولات");
  });

  it("“Try again” queues the same message with a new deadline; Twilio then gets it once", async () => {
    const [failed] = (await outbound(refs.light)).filter((m) => m.status === "failed");
    await karim.get(`/staff/tickets/${refs.light}`);
    const res = await karim.post(`/staff/tickets/${refs.light}/messages/${failed!.id}/retry`);
    expect(textOf((await karim.follow(res)).text)).toContain("The message is queued again");
    const queued = await world.db.message.findUniqueOrThrow({ where: { id: failed!.id }, include: { outbox: true } });
    expect(queued).toMatchObject({ status: "queued", errorCode: null, outbox: { status: "pending", attempts: 0 } });
    expect(queued.outbox!.deadlineAt!.getTime()).toBeGreaterThan(Date.now() + 23 * HOUR);
    expect((await eventsOf(refs.light)).at(-1)).toMatchObject({ kind: "delivery_retried", actorType: "staff" });

    await drainOutbox(worker(fake.url), new Date());
    expect(await world.db.message.findUniqueOrThrow({ where: { id: failed!.id } })).toMatchObject({ status: "sent" });
    expect(fake.accepted.filter((m) => m.outboxId === queued.outbox!.id)).toHaveLength(1);
    expect(textOf((await karim.get(`/staff/tickets/${refs.light}`)).text)).toContain("Tried a failed message again");
  });

  it("“Try again” is refused, with a reason, for a message that did not fail", async () => {
    const [sent] = (await outbound(refs.light)).filter((m) => m.status === "sent");
    await karim.get(`/staff/tickets/${refs.light}`);
    const res = await karim.post(`/staff/tickets/${refs.light}/messages/${sent!.id}/retry`);
    expect(textOf((await karim.follow(res)).text)).toContain("Only a message that failed can be sent again.");
    expect(await world.db.message.findUniqueOrThrow({ where: { id: sent!.id } })).toMatchObject({ status: "sent" });
  });
});

describe("a WhatsApp reply that did not go out", () => {
  it("can be sent by SMS instead: a new SMS on the ticket, the WhatsApp message stays failed", async () => {
    const messageId = await replyThatNeverArrives(hala, refs.whatsapp, "نحن نتابع طلبك.");
    const page = textOf((await hala.get(`/staff/tickets/${refs.whatsapp}`)).text);
    expect(page).toContain(`/messages/${messageId}/send-by-sms`);
    expect(page).toContain("إرسالها برسالة نصية بدلاً من ذلك");

    const res = await hala.post(`/staff/tickets/${refs.whatsapp}/messages/${messageId}/send-by-sms`);
    expect(textOf((await hala.follow(res)).text)).toContain("يجري إرسال النص نفسه برسالة نصية إلى هاتف المواطن.");
    const messages = await outbound(refs.whatsapp);
    expect(messages.find((m) => m.id === messageId)).toMatchObject({ status: "failed", channel: "whatsapp" });
    const sms = messages.find((m) => m.channel === "sms" && m.body === "نحن نتابع طلبك.");
    expect(sms).toMatchObject({ status: "queued", kind: "staff", outbox: { status: "pending", toAddress: phones.whatsapp } });
    expect((await eventsOf(refs.whatsapp)).at(-1)).toMatchObject({ kind: "sent_by_sms", data: JSON.stringify({ fromMessageId: messageId, messageId: sms!.id, delivery: "queued" }) });

    await drainOutbox(worker(fake.url), new Date());
    expect(fake.accepted.filter((m) => m.outboxId === sms!.outbox!.id)).toMatchObject([{ to: phones.whatsapp, from: "+9611555000", body: "نحن نتابع طلبك." }]);

    // Pressing the button again does not send a second SMS.
    await hala.get(`/staff/tickets/${refs.whatsapp}`);
    const again = await hala.post(`/staff/tickets/${refs.whatsapp}/messages/${messageId}/send-by-sms`);
    expect(textOf((await hala.follow(again)).text)).toContain("لا يمكن إعادة إرسال إلا رسالة فشل إرسالها.");
    expect((await outbound(refs.whatsapp)).filter((m) => m.channel === "sms")).toHaveLength(1);
  });

  it("is refused for a resident who opted out since", async () => {
    const [failed] = (await outbound(refs.whatsapp)).filter((m) => m.status === "failed");
    await residentSays(world.app, phones.whatsapp, "STOP", "whatsapp");
    await hala.get(`/staff/tickets/${refs.whatsapp}`);
    const res = await hala.post(`/staff/tickets/${refs.whatsapp}/messages/${failed!.id}/retry`);
    expect(textOf((await hala.follow(res)).text)).toContain("ألغى المواطن الاشتراك (أرسل STOP): لا يُرسل إليه شيء.");
    expect(await world.db.message.findUniqueOrThrow({ where: { id: failed!.id } })).toMatchObject({ status: "failed" });
  });
});

describe("who may resend", () => {
  it("an agent of another department gets the same 404 as for a ticket that does not exist", async () => {
    const [message] = await outbound(refs.light);
    await rania.get("/staff");
    expect((await rania.post(`/staff/tickets/${refs.light}/messages/${message!.id}/retry`)).status).toBe(404);
    expect((await rania.post(`/staff/tickets/${refs.light}/messages/${message!.id}/send-by-sms`)).status).toBe(404);
  });

  it("a form without the page's CSRF token changes nothing", async () => {
    const [message] = await outbound(refs.light);
    const res = await karim.post(`/staff/tickets/${refs.light}/messages/${message!.id}/retry`, { _csrf: "forged" });
    expect(res.status).toBe(403);
  });
});
