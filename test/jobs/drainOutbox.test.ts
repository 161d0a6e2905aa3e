import nock from "nock";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { twilioSender } from "../../src/channels/twilio/twilioSender.js";
import { backoffMs, drainOutbox, type DrainOutboxDeps } from "../../src/jobs/drainOutbox.js";
import { changeStatus, replyToTicket } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { inbound } from "../support/builders.js";
import { residentFiles, staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";
import { PUBLIC_BASE_URL } from "../support/twilio.js";

const ACCOUNT = "AC0123456789abcdef0123456789abcdef";
const TEMPLATE = "HX0123456789abcdef0123456789abcdef";
const MESSAGES = `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`;
const twilioApi = () => nock("https://api.twilio.com");
const emptyPage = { messages: [], page: 0, page_size: 50, uri: MESSAGES, next_page_uri: null, first_page_uri: MESSAGES, previous_page_uri: null, start: 0, end: 0 };

let world: World;
let rania: Actor;
let worker: DrainOutboxDeps;
beforeAll(async () => {
  world = await createTestWorld({ whatsappTemplateSid: TEMPLATE });
  rania = await staffMember(world, { username: "rania", departments: ["public_works"] });
  worker = {
    db: world.db,
    logger: pino({ level: "silent" }),
    outbox: world.deps.outbox,
    senders: { twilio: twilioSender({ accountSid: ACCOUNT, authToken: "0123456789abcdef0123456789abcdef", smsFrom: "+9611555000", whatsappFrom: "whatsapp:+9611555001", publicBaseUrl: PUBLIC_BASE_URL, keepAlive: false, timeoutMs: 1000 }) },
  };
});
afterAll(async () => {
  await world.drop();
});
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

let sid = 0;
const twilioMessage = (fields: Record<string, string>) => ({ sid: `SM${String(++sid).padStart(32, "0")}`, status: "queued", direction: "outbound-api", date_created: new Date().toUTCString(), ...fields });

async function staffReply(reference: number, body: string, now = new Date()) {
  const result = await world.db.$transaction((tx) => replyToTicket(tx, { ...world.deps.outbox, now }, rania, reference, body));
  if (!result.ok) throw new Error(result.message);
  return result.delivery;
}
const messageRow = (id: number) => world.db.message.findUniqueOrThrow({ where: { id }, include: { outbox: true } });

describe("the outbox worker", () => {
  it("sends a staff reply through Twilio with a status callback and records the message SID", async () => {
    const { reference, from } = await residentFiles(world);
    const delivery = await staffReply(reference, "مرحبا، فريق الأشغال سيصلح الحفرة غداً.");
    expect(delivery.status).toBe("queued");
    let sent: Record<string, string> = {};
    twilioApi()
      .post(MESSAGES, (body) => {
        sent = body;
        return true;
      })
      .reply(201, (_uri, body) => twilioMessage({ body: new URLSearchParams(String(body)).get("Body") ?? "" }));
    expect(await drainOutbox(worker, new Date())).toBe(1);
    expect(sent).toMatchObject({
      To: from,
      From: "+9611555000",
      Body: "مرحبا، فريق الأشغال سيصلح الحفرة غداً.",
    });
    // The row, and which try of it (when the try began, in ms): a late report about an earlier try cannot touch this one.
    const row = (await messageRow(delivery.messageId)).outbox!;
    expect(sent.StatusCallback).toBe(`${PUBLIC_BASE_URL}/webhooks/twilio/status?outbox=${row.id}&try=${row.attemptStartedAt!.getTime()}`);
    const message = await messageRow(delivery.messageId);
    expect(message).toMatchObject({ status: "sent", providerMessageId: expect.stringMatching(/^SM/) });
    expect(message.outbox).toMatchObject({ status: "sent", attempts: 1 });
    // nothing left to send
    expect(await drainOutbox(worker, new Date())).toBe(0);
  });

  it("retries timeouts, 5xx and 429 with growing waits, checking Twilio's list after every unclear answer", async () => {
    const { reference } = await residentFiles(world);
    // The worker's clock, moved forward by the test instead of waiting minutes.
    let offset = 0;
    const clocked: DrainOutboxDeps = { ...worker, clock: () => new Date(Date.now() + offset) };
    const { messageId } = await staffReply(reference, "We are on it.");
    // Twilio does not answer in time: it may or may not have the message
    twilioApi().post(MESSAGES).delay(3000).reply(201, twilioMessage({}));
    const before = Date.now();
    await drainOutbox(clocked, new Date());
    let row = (await messageRow(messageId)).outbox!;
    expect(row).toMatchObject({ status: "sending", attempts: 1 });
    // The wait counts from when the answer did not come, not from when the run started.
    expect(row.leaseUntil!.getTime()).toBeGreaterThanOrEqual(before + 1000 + backoffMs(1));
    expect(row.lastError).toMatch(/ECONNABORTED: timeout/);

    // not due yet: Twilio is not called
    offset = 10_000;
    expect(await drainOutbox(clocked, new Date())).toBe(0);

    // once due, the worker first asks Twilio whether it got the message (it did not), then sends again;
    // a 503 is as unclear as a timeout (a gateway may answer it after Twilio accepted)
    offset = backoffMs(1) + 1000;
    twilioApi().get(MESSAGES).query(true).reply(200, emptyPage);
    twilioApi().post(MESSAGES).reply(503, { code: 20500, message: "Service unavailable", status: 503 });
    await drainOutbox(clocked, new Date());
    row = (await messageRow(messageId)).outbox!;
    expect(row).toMatchObject({ status: "sending", attempts: 2 });

    // a 429 is a clear "not now": queued again with a longer wait, no list needed next time
    offset += backoffMs(2) + 1000;
    twilioApi().get(MESSAGES).query(true).reply(200, emptyPage);
    twilioApi().post(MESSAGES).reply(429, { code: 20429, message: "Too many requests", status: 429 });
    const third = Date.now() + offset;
    await drainOutbox(clocked, new Date());
    row = (await messageRow(messageId)).outbox!;
    expect(row).toMatchObject({ status: "pending", attempts: 3 });
    expect(row.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(third + backoffMs(3));

    offset += backoffMs(3) + 1000;
    twilioApi().post(MESSAGES).reply(201, twilioMessage({ body: "We are on it." }));
    await drainOutbox(clocked, new Date());
    expect(await messageRow(messageId)).toMatchObject({ status: "sent", outbox: { status: "sent", attempts: 4 } });
  });

  it("marks a permanent error failed with Twilio's code and reason, for staff to see", async () => {
    const { reference } = await residentFiles(world);
    const { messageId } = await staffReply(reference, "Hello");
    twilioApi().post(MESSAGES).reply(400, { code: 21211, message: "The 'To' number +96170000000 is not a valid phone number.", status: 400 });
    await drainOutbox(worker, new Date());
    expect(await messageRow(messageId)).toMatchObject({
      status: "failed",
      errorCode: "21211",
      errorMessage: "The 'To' number +96170000000 is not a valid phone number.",
      outbox: { status: "failed" },
    });
  });

  it("a resident who unsubscribed with Twilio (21610) is marked opted out", async () => {
    const { reference, from } = await residentFiles(world);
    const { messageId } = await staffReply(reference, "Hello");
    twilioApi().post(MESSAGES).reply(400, { code: 21610, message: "Attempt to send to unsubscribed recipient", status: 400 });
    await drainOutbox(worker, new Date());
    expect(await messageRow(messageId)).toMatchObject({ status: "failed", errorCode: "21610" });
    expect(await world.db.resident.findFirst({ where: { phone: from } })).toMatchObject({ optedOut: true });
  });

  it("a resident who opted out after the reply was queued receives nothing", async () => {
    const { reference, from } = await residentFiles(world);
    const { messageId } = await staffReply(reference, "Hello");
    await world.inbox(inbound({ from, text: "STOP" }));
    await drainOutbox(worker, new Date());
    expect(await messageRow(messageId)).toMatchObject({ status: "not_sent", errorCode: "opted_out", outbox: { status: "cancelled" } });
  });

  it("replies to an opted-out resident are recorded as not sent, and never queued", async () => {
    const { reference, from } = await residentFiles(world);
    await world.inbox(inbound({ from, text: "توقف" }));
    const delivery = await staffReply(reference, "Hello");
    expect(delivery).toMatchObject({ status: "not_sent", reason: "opted_out" });
    expect((await messageRow(delivery.messageId)).outbox).toBeNull();
  });

  it("two workers at once send each message exactly once", async () => {
    const { reference } = await residentFiles(world);
    await staffReply(reference, "one");
    await staffReply(reference, "two");
    twilioApi().post(MESSAGES).times(2).reply(201, () => twilioMessage({}));
    const now = new Date();
    const [a, b] = await Promise.all([drainOutbox(worker, now), drainOutbox(worker, now)]);
    expect(a + b).toBe(2);
  });
});

describe("a worker that crashed between sending and recording", () => {
  async function abandonedRow(body: string) {
    const { reference } = await residentFiles(world);
    const { messageId } = await staffReply(reference, body);
    const crashedAt = new Date(Date.now() - 10 * 60_000);
    const outbox = (await messageRow(messageId)).outbox!;
    await world.db.outbox.update({ where: { id: outbox.id }, data: { status: "sending", attempts: 1, attemptStartedAt: crashedAt, leaseUntil: new Date(crashedAt.getTime() + 120_000) } });
    return { messageId, crashedAt };
  }

  it("finds the message Twilio already accepted and records it instead of sending it again", async () => {
    const { messageId } = await abandonedRow("The crew comes at 9.");
    const accepted = twilioMessage({ body: "The crew comes at 9.", date_created: new Date(Date.now() - 9 * 60_000).toUTCString() });
    twilioApi()
      .get(MESSAGES)
      .query(true)
      .reply(200, { messages: [accepted], page: 0, page_size: 50, uri: MESSAGES, next_page_uri: null, first_page_uri: MESSAGES, previous_page_uri: null, start: 0, end: 0 });
    await drainOutbox(worker, new Date());
    expect(await messageRow(messageId)).toMatchObject({ status: "sent", providerMessageId: accepted.sid, outbox: { status: "sent", attempts: 1 } });
  });

  it("does not mistake the bot's own TwiML replies or another row's message for it", async () => {
    const { messageId } = await abandonedRow("Same words.");
    const otherSid = "SM" + "9".repeat(32);
    const other = await world.db.message.findFirstOrThrow({ where: { kind: "bot" } });
    await world.db.outbox.create({
      data: { municipalityId: MUNICIPALITY, messageId: other.id, residentId: other.residentId, channel: "sms", toAddress: (await messageRow(messageId)).outbox!.toAddress, body: "Same words.", status: "sent", providerMessageId: otherSid, nextAttemptAt: new Date() },
    });
    const recent = new Date(Date.now() - 9 * 60_000).toUTCString();
    twilioApi()
      .get(MESSAGES)
      .query(true)
      .reply(200, {
        ...emptyPage,
        messages: [twilioMessage({ body: "Same words.", direction: "outbound-reply", date_created: recent }), { ...twilioMessage({ body: "Same words.", date_created: recent }), sid: otherSid }],
      });
    twilioApi().post(MESSAGES).reply(201, twilioMessage({ body: "Same words." }));
    await drainOutbox(worker, new Date());
    expect(await messageRow(messageId)).toMatchObject({ status: "sent", outbox: { status: "sent", attempts: 2 } });
  });

  it("sends it again when Twilio never got it", async () => {
    const { messageId } = await abandonedRow("Second try.");
    twilioApi().get(MESSAGES).query(true).reply(200, emptyPage);
    twilioApi().post(MESSAGES).reply(201, twilioMessage({ body: "Second try." }));
    await drainOutbox(worker, new Date());
    expect(await messageRow(messageId)).toMatchObject({ status: "sent", outbox: { status: "sent", attempts: 2 } });
  });
});

describe("WhatsApp's 24-hour window", () => {
  async function quietWhatsappResident() {
    const filed = await residentFiles(world, { channel: "whatsapp" });
    // The resident last wrote two days ago.
    await world.db.channelIdentity.updateMany({
      where: { address: filed.from, channel: "whatsapp" },
      data: { lastInboundAt: new Date(Date.now() - 48 * 3600_000) },
    });
    return filed;
  }

  it("holds the reply, sends the approved template once, and delivers the reply when the resident answers", async () => {
    const { reference, from } = await quietWhatsappResident();
    const first = await staffReply(reference, "The pothole was filled this morning.");
    const second = await staffReply(reference, "Photo attached in our records.");
    expect(first).toMatchObject({ status: "held", templateQueued: true });
    expect(second).toMatchObject({ status: "held", templateQueued: false });

    let template: Record<string, string> = {};
    twilioApi()
      .post(MESSAGES, (body) => {
        template = body;
        return true;
      })
      .reply(201, twilioMessage({}));
    await drainOutbox(worker, new Date());
    expect(template).toMatchObject({ To: `whatsapp:${from}`, From: "whatsapp:+9611555001", ContentSid: TEMPLATE, ContentVariables: JSON.stringify({ 1: String(reference) }) });
    expect(template.Body).toBeUndefined();
    expect((await messageRow(first.messageId)).status).toBe("held");

    // The resident answers the nudge: the window opens and both replies go out, in order.
    await world.inbox(inbound({ from, channel: "whatsapp", text: "شو في؟" }));
    const bodies: string[] = [];
    twilioApi()
      .post(MESSAGES, (body) => {
        bodies.push(body.Body);
        return true;
      })
      .times(2)
      .reply(201, () => twilioMessage({}));
    await drainOutbox(worker, new Date());
    expect(bodies).toEqual(["The pothole was filled this morning.", "Photo attached in our records."]);
    expect((await messageRow(first.messageId)).status).toBe("sent");
  });

  it("Twilio's 63016 (outside the window) holds the message instead of failing it", async () => {
    const { reference } = await residentFiles(world, { channel: "whatsapp" });
    const { messageId } = await staffReply(reference, "Update for you");
    twilioApi().post(MESSAGES).reply(400, { code: 63016, message: "Failed to send freeform message because you are outside the allowed window.", status: 400 });
    await drainOutbox(worker, new Date());
    expect(await messageRow(messageId)).toMatchObject({ status: "held", errorCode: "window_closed", outbox: { status: "held" } });
    expect(await world.db.outbox.count({ where: { contentSid: TEMPLATE, status: "pending" } })).toBe(1);
    twilioApi().post(MESSAGES).reply(201, twilioMessage({}));
    await drainOutbox(worker, new Date());
  });
});

describe("resolving a request", () => {
  it("tells the resident in their language, with the reference and how to reopen; '1' reopens it", async () => {
    const { reference, from } = await residentFiles(world);
    const result = await world.db.$transaction((tx) => changeStatus(tx, { ...world.deps.outbox, now: new Date() }, rania, reference, "resolved"));
    expect(result).toMatchObject({ ok: true, delivery: { status: "queued" } });
    let body = "";
    twilioApi()
      .post(MESSAGES, (b) => {
        body = b.Body;
        return true;
      })
      .reply(201, twilioMessage({}));
    await drainOutbox(worker, new Date());
    expect(body).toBe(`تمت معالجة طلبك #${reference}. إن بقيت المشكلة، أرسل 1.`);

    const reply = await world.inbox(inbound({ from, text: "1" }));
    expect(reply.replies[0]).toBe(`أعدنا فتح طلبك #${reference}. سيتابعه الموظفون.`);
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference, municipalityId: MUNICIPALITY }, include: { events: true } });
    expect(ticket.status).toBe("new");
    expect(ticket.events.map((e) => e.kind)).toEqual(["created", "status_changed", "reopened"]);
  });
});
