import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routesIn, smsRouteIn, smsRoutesIn, whatsappRoutesIn } from "../../src/channels/configureRoutes.js";
import type { Route } from "../../src/channels/routes.js";
import type { ChannelSender, OutboundRequest } from "../../src/channels/sender.js";
import { loadConfig } from "../../src/config.js";
import { drainOutbox, type DrainOutboxDeps } from "../../src/jobs/drainOutbox.js";
import { enqueueOutbound, OUTBOX_FAILURES } from "../../src/services/outbox.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

// The outbox with several routes: a town that sends SMS through Twilio and through its own Android
// phone, changes its mind, or has a phone that is slow on purpose (25 SMS parts a minute).

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world.drop();
});

/** A provider that takes everything and gives each message an id of its own choosing. */
function recordingSender(ids: (n: number) => string = (n) => `id-${n}`): ChannelSender & { sent: OutboundRequest[] } {
  const sent: OutboundRequest[] = [];
  return {
    sent,
    async send(request) {
      sent.push(request);
      return { status: "sent", providerMessageId: ids(sent.length) };
    },
    async findAccepted() {
      return null;
    },
  };
}

/** A phone whose minute is used up: `pace` only ends when the worker gives up waiting. */
function exhaustedPhone() {
  const phone = Object.assign(recordingSender(), {
    waits: 0,
    pace: (_request: OutboundRequest, signal?: AbortSignal) =>
      new Promise<void>((_resolve, reject) => {
        phone.waits++;
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
  });
  return phone;
}

let counter = 0;
async function resident(route: Route = "twilio") {
  const phone = `+9617${String(3000000 + ++counter)}`;
  const row = await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone } });
  await world.db.channelIdentity.create({ data: { municipalityId: MUNICIPALITY, residentId: row.id, channel: "sms", address: phone, route, lastInboundAt: new Date() } });
  return row;
}

async function queue(residentId: number, body: string, ctx: Partial<Parameters<typeof enqueueOutbound>[1]> = {}) {
  return world.db.$transaction((tx) =>
    enqueueOutbound(tx, { ...world.deps.outbox, now: new Date(), ...ctx }, { residentId, ticketId: null, reference: null, channel: "sms", kind: "staff", body }),
  );
}

const worker = (senders: DrainOutboxDeps["senders"], extra: Partial<DrainOutboxDeps> = {}): DrainOutboxDeps => ({
  db: world.db,
  senders,
  logger: pino({ level: "silent" }),
  outbox: world.deps.outbox,
  ...extra,
});

describe("each row goes out through its own route", () => {
  it("a staff reply goes the way the resident last wrote", async () => {
    const [byPhone, byTwilio] = [await resident("android"), await resident("twilio")];
    await queue(byPhone.id, "via the phone");
    await queue(byTwilio.id, "via Twilio");
    const [android, twilio] = [recordingSender(), recordingSender()];
    await drainOutbox(worker({ android, twilio }));
    expect(android.sent.map((r) => r.body)).toContain("via the phone");
    expect(twilio.sent.map((r) => r.body)).toContain("via Twilio");
    expect(android.sent.map((r) => r.body)).not.toContain("via Twilio");
  });

  it("a town that dropped Twilio for its own phone still reaches residents who last wrote through Twilio", async () => {
    const r = await resident("twilio");
    const queued = await queue(r.id, "we moved to the town's own number", { smsRoutes: ["android"], smsRoute: "android" });
    expect(await world.db.outbox.findFirstOrThrow({ where: { messageId: queued.messageId } })).toMatchObject({ route: "android" });
  });

  it("Twilio with only a WhatsApp sender is not where SMS to new residents go", () => {
    const config = loadConfig({
      TWILIO_ACCOUNT_SID: "AC0123456789abcdef0123456789abcdef",
      TWILIO_AUTH_TOKEN: "0123456789abcdef0123456789abcdef",
      TWILIO_WHATSAPP_FROM: "+9611555001",
      ANDROID_SMS_URL: "http://192.168.1.50:8080",
      ANDROID_SMS_USERNAME: "sms",
      ANDROID_SMS_PASSWORD: "pw",
    });
    expect(routesIn(config)).toEqual(["twilio", "android"]);
    expect(smsRouteIn(config)).toBe("android");
    expect(smsRoutesIn(config)).toEqual(["android"]);
    expect(smsRouteIn({ ...config, twilio: { ...config.twilio, smsFrom: "+9611555000" } })).toBe("twilio");
  });

  it("the town's own WhatsApp phone is a route for WhatsApp, never for SMS", () => {
    const config = loadConfig({ WHATSAPP_WEB_ENABLED: "true", ANDROID_SMS_URL: "http://192.168.1.50:8080", ANDROID_SMS_USERNAME: "sms", ANDROID_SMS_PASSWORD: "pw" });
    expect(routesIn(config)).toEqual(["android", "whatsapp-web"]);
    expect(smsRoutesIn(config)).toEqual(["android"]);
    expect(whatsappRoutesIn(config)).toEqual(["whatsapp-web"]);
    expect(smsRouteIn(loadConfig({ WHATSAPP_WEB_ENABLED: "true" }))).toBeUndefined();
  });

  it("a resident who last texted Twilio's SMS number, in a town that kept Twilio for WhatsApp only, is reached by the phone", async () => {
    const r = await resident("twilio");
    const queued = await queue(r.id, "Twilio has no SMS number here", { smsRoutes: ["android"], smsRoute: "android" });
    expect(await world.db.outbox.findFirstOrThrow({ where: { messageId: queued.messageId } })).toMatchObject({ route: "android" });
  });
});

describe("opted out means silence, except the answer to STOP itself", () => {
  it("an answer still queued for a message sent before STOP is not sent after it", async () => {
    const r = await resident("android");
    const before = await world.db.message.create({ data: { municipalityId: MUNICIPALITY, residentId: r.id, direction: "inbound", channel: "sms", route: "android", body: "2", status: "received", createdAt: new Date(Date.now() - 60_000) } });
    const answer = await world.db.message.create({ data: { municipalityId: MUNICIPALITY, residentId: r.id, direction: "outbound", kind: "bot", channel: "sms", route: "android", inReplyToId: before.id, body: "your requests: …", status: "queued" } });
    await world.db.outbox.create({ data: { municipalityId: MUNICIPALITY, messageId: answer.id, residentId: r.id, channel: "sms", route: "android", toAddress: r.phone, body: answer.body, status: "pending", nextAttemptAt: new Date() } });
    await world.db.resident.update({ where: { id: r.id }, data: { optedOut: true, optedOutAt: new Date(Date.now() - 30_000) } });
    const android = recordingSender();
    await drainOutbox(worker({ android }));
    expect(android.sent.filter((m) => m.to === r.phone)).toEqual([]);
    expect(await world.db.message.findUniqueOrThrow({ where: { id: answer.id } })).toMatchObject({ status: "not_sent", errorCode: "opted_out" });
  });
});

describe("a slow route never holds the others", () => {
  it("thirty SMS waiting for the phone's next minute do not keep a Twilio reply out of the run, and the run does not wait a minute", async () => {
    const surveyed = [];
    for (let i = 0; i < 10; i++) surveyed.push(await resident("android"));
    for (let i = 0; i < 30; i++) await queue(surveyed[i % 10]!.id, `survey question ${i}`);
    const twilioResident = await resident("twilio");
    await queue(twilioResident.id, "your request is resolved");
    const [phone, twilio] = [exhaustedPhone(), recordingSender()];
    const started = Date.now();
    await drainOutbox(worker({ android: phone, twilio }, { paceWaitMs: 50 }));
    expect(twilio.sent.map((r) => r.body)).toContain("your request is resolved");
    // Once the phone's pace has run out, the run stops asking: at most the lanes already waiting (4 at once), not one per resident.
    expect(phone.waits).toBeLessThanOrEqual(4);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await world.db.outbox.count({ where: { residentId: { in: surveyed.map((r) => r.id) }, status: "pending" } })).toBe(30);
  });
});

describe("a route that is no longer configured", () => {
  it("an unconfirmed send on it is failed at its deadline, and the resident's later messages go out", async () => {
    const r = await resident("android");
    const stuck = await queue(r.id, "sent just before the phone died");
    const past = new Date(Date.now() - 60_000);
    await world.db.outbox.updateMany({
      where: { messageId: stuck.messageId },
      data: { status: "sending", leaseUntil: past, deadlineAt: past, attemptStartedAt: new Date(Date.now() - 3600_000), claimId: "old-claim" },
    });
    // Later the town removes the phone; the resident's next message goes by Twilio.
    const later = await queue(r.id, "a reply after the phone was removed", { smsRoutes: ["twilio"], smsRoute: "twilio" });
    const twilio = recordingSender();
    await drainOutbox(worker({ twilio }));
    expect(await world.db.message.findUniqueOrThrow({ where: { id: stuck.messageId } })).toMatchObject({ status: "failed", errorCode: OUTBOX_FAILURES.unconfirmed });
    await drainOutbox(worker({ twilio }));
    expect(twilio.sent.map((r) => r.body)).toContain("a reply after the phone was removed");
    expect(await world.db.message.findUniqueOrThrow({ where: { id: later.messageId } })).toMatchObject({ status: "sent", route: "twilio" });
  });

  it("a message queued on it before the change does not hold the resident's later messages until its deadline", async () => {
    const r = await resident("smpp");
    await queue(r.id, "queued while the short code was configured");
    const later = await queue(r.id, "after the short code was removed", { smsRoutes: ["twilio"], smsRoute: "twilio" });
    const twilio = recordingSender();
    await drainOutbox(worker({ twilio }));
    expect(twilio.sent.map((m) => m.body)).toEqual(["after the short code was removed"]);
    expect(await world.db.message.findUniqueOrThrow({ where: { id: later.messageId } })).toMatchObject({ status: "sent" });
  });

  it("a queued message on it is failed with the reason, not left pending forever", async () => {
    const r = await resident("smpp");
    const queued = await queue(r.id, "for the short code");
    await world.db.outbox.updateMany({ where: { messageId: queued.messageId }, data: { deadlineAt: null } });
    await drainOutbox(worker({ twilio: recordingSender() }));
    expect(await world.db.message.findUniqueOrThrow({ where: { id: queued.messageId } })).toMatchObject({ status: "failed", errorCode: OUTBOX_FAILURES.noRoute });
  });
});

describe("providers that reuse ids", () => {
  it("an SMSC giving two of our messages the same id: both are recorded as sent", async () => {
    const [a, b] = [await resident("smpp"), await resident("smpp")];
    const first = await queue(a.id, "first");
    const second = await queue(b.id, "second");
    await drainOutbox(worker({ smpp: recordingSender(() => "0000A1") }));
    for (const { messageId } of [first, second]) {
      expect(await world.db.message.findUniqueOrThrow({ where: { id: messageId } })).toMatchObject({ status: "sent", providerMessageId: "0000A1" });
    }
  });
});
