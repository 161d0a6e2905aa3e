import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Route } from "../../src/channels/routes.js";
import type { ChannelSender, OutboundRequest } from "../../src/channels/sender.js";
import { drainOutbox, type DrainOutboxDeps } from "../../src/jobs/drainOutbox.js";
import { enqueueOutbound, OUTBOX_FAILURES, type OutboxContext } from "../../src/services/outbox.js";
import { replyToTicket } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { inbound } from "../support/builders.js";
import { newPhone, residentFiles, staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

// The town's own WhatsApp phone (whatsapp-web.js) beside Twilio: no 24-hour window and no templates
// there, and only the instance holding the WhatsApp Web session can send through it.

const TEMPLATE = "HX0123456789abcdef0123456789abcdef";
const HOUR = 3600_000;

let world: World;
let rania: Actor;
beforeAll(async () => {
  world = await createTestWorld({ whatsappTemplateSid: TEMPLATE });
  rania = await staffMember(world, { username: "rania", departments: ["public_works"] });
});
afterAll(async () => {
  await world.drop();
});

/** A provider that takes everything. */
function recordingSender(name: string): ChannelSender & { sent: OutboundRequest[] } {
  const sent: OutboundRequest[] = [];
  return {
    sent,
    async send(request) {
      sent.push(request);
      return { status: "sent", providerMessageId: `${name}-${sent.length}` };
    },
    async findAccepted() {
      return null;
    },
  };
}

const worker = (senders: DrainOutboxDeps["senders"]): DrainOutboxDeps => ({ db: world.db, senders, logger: pino({ level: "silent" }), outbox: world.deps.outbox });

/** A resident who filed a request on WhatsApp and last wrote `hoursAgo` hours ago, by `route`. */
async function whatsappResident(route: Route, hoursAgo: number) {
  const filed = await residentFiles(world, { channel: "whatsapp" });
  await world.db.channelIdentity.updateMany({
    where: { address: filed.from, channel: "whatsapp" },
    data: { route, lastInboundAt: new Date(Date.now() - hoursAgo * HOUR) },
  });
  return filed;
}

async function staffReply(reference: number, body: string, ctx: Partial<OutboxContext> = {}) {
  const result = await world.db.$transaction((tx) => replyToTicket(tx, { ...world.deps.outbox, now: new Date(), ...ctx }, rania, reference, body));
  if (!result.ok) throw new Error(result.message);
  return result.delivery;
}
const messageRow = (id: number) => world.db.message.findUniqueOrThrow({ where: { id }, include: { outbox: true } });
const templatesTo = (from: string) => world.db.outbox.findMany({ where: { toAddress: `whatsapp:${from}`, contentSid: { not: null } } });

describe("a staff reply on WhatsApp", () => {
  it("to a resident who last wrote to the town's own phone two days ago: queued for that phone, not held, no template", async () => {
    const { reference, from } = await whatsappResident("whatsapp-web", 48);
    const delivery = await staffReply(reference, "The pothole was filled this morning.");
    expect(delivery.status).toBe("queued");
    expect(await messageRow(delivery.messageId)).toMatchObject({ status: "queued", route: "whatsapp-web", outbox: { status: "pending", route: "whatsapp-web", toAddress: `whatsapp:${from}`, contentSid: null } });
    expect(await templatesTo(from)).toEqual([]);

    // The worker does not hold it for the closed window either: the phone sends it.
    const [twilio, phone] = [recordingSender("twilio"), recordingSender("wa")];
    await drainOutbox(worker({ twilio, "whatsapp-web": phone }));
    expect(phone.sent.map((r) => [r.to, r.body, r.contentSid])).toEqual([[`whatsapp:${from}`, "The pothole was filled this morning.", undefined]]);
    expect(twilio.sent.filter((r) => r.to === `whatsapp:${from}`)).toEqual([]);
    expect(await messageRow(delivery.messageId)).toMatchObject({ status: "sent", providerMessageId: "wa-1" });
  });

  it("to the same resident had they last written to Twilio: held, and the template goes by Twilio, as before", async () => {
    const { reference, from } = await whatsappResident("twilio", 48);
    const delivery = await staffReply(reference, "The pothole was filled this morning.");
    expect(delivery).toMatchObject({ status: "held", templateQueued: true });
    expect(await messageRow(delivery.messageId)).toMatchObject({ status: "held", route: "twilio", outbox: { status: "held", route: "twilio" } });
    expect(await templatesTo(from)).toEqual([expect.objectContaining({ route: "twilio", contentSid: TEMPLATE, status: "pending" })]);
  });

  it("in a town where the town's own phone is not enabled (any more): Twilio's rules", async () => {
    const { reference } = await whatsappResident("whatsapp-web", 48);
    const delivery = await staffReply(reference, "Update for you", { whatsappRoutes: ["twilio"] });
    expect(delivery).toMatchObject({ status: "held", templateQueued: true });
    expect(await messageRow(delivery.messageId)).toMatchObject({ route: "twilio" });
  });

  it.each([
    { lastRoute: "twilio", whatsappRoutes: undefined, route: "twilio" },
    { lastRoute: "android", whatsappRoutes: ["twilio", "whatsapp-web"], route: "android" },
    { lastRoute: "smpp", whatsappRoutes: ["whatsapp-web"], route: "smpp" },
  ] as const)("by SMS nothing changes: last wrote by $lastRoute → $route", async ({ lastRoute, whatsappRoutes, route }) => {
    const phone = newPhone();
    const resident = await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone } });
    await world.db.channelIdentity.create({ data: { municipalityId: MUNICIPALITY, residentId: resident.id, channel: "sms", address: phone, route: lastRoute, lastInboundAt: new Date(Date.now() - 48 * HOUR) } });
    const delivery = await world.db.$transaction((tx) =>
      enqueueOutbound(tx, { ...world.deps.outbox, now: new Date(), whatsappRoutes }, { residentId: resident.id, ticketId: null, reference: null, channel: "sms", kind: "staff", body: "hello" }),
    );
    expect(delivery.status).toBe("queued");
    expect(await messageRow(delivery.messageId)).toMatchObject({ route, outbox: { route, toAddress: phone, status: "pending" } });
  });
});

describe("replies held while the resident wrote to Twilio", () => {
  it("go out through the town's own phone when the resident writes to it: they are reachable there, Twilio's window is still closed", async () => {
    const { reference, from } = await whatsappResident("twilio", 48);
    const first = await staffReply(reference, "The pothole was filled this morning.");
    const second = await staffReply(reference, "Photo attached in our records.");
    expect([first.status, second.status]).toEqual(["held", "held"]);

    await world.inbox(inbound({ from, channel: "whatsapp", route: "whatsapp-web", text: "شو في؟" }));
    for (const { messageId } of [first, second]) {
      expect(await messageRow(messageId)).toMatchObject({ status: "queued", route: "whatsapp-web", outbox: { status: "pending", route: "whatsapp-web", deadlineAt: expect.any(Date) } });
    }
    // The template (the nudge) stays Twilio's: templates never go through the town's phone.
    expect(await templatesTo(from)).toEqual([expect.objectContaining({ route: "twilio" })]);

    const [twilio, phone] = [recordingSender("twilio"), recordingSender("wa")];
    // (The template, queued between the two replies, goes first: one address's messages go in order, whatever the route.)
    for (let run = 0; run < 3; run++) await drainOutbox(worker({ twilio, "whatsapp-web": phone }));
    // In order, then the bot's answer to the resident's message (queued after them).
    const toResident = phone.sent.filter((r) => r.to === `whatsapp:${from}`);
    expect(toResident.map((r) => r.body).slice(0, 2)).toEqual(["The pothole was filled this morning.", "Photo attached in our records."]);
    expect(toResident).toHaveLength(3);
    expect(toResident.every((r) => r.contentSid === undefined)).toBe(true);
    expect(twilio.sent.filter((r) => r.to === `whatsapp:${from}`).map((r) => r.contentSid)).toEqual([TEMPLATE]);
    expect(await messageRow(first.messageId)).toMatchObject({ status: "sent" });
  });

  it("stay Twilio's when the resident writes to Twilio", async () => {
    const { reference, from } = await whatsappResident("twilio", 48);
    const held = await staffReply(reference, "Update for you");
    await world.inbox(inbound({ from, channel: "whatsapp", text: "ok" }));
    expect(await messageRow(held.messageId)).toMatchObject({ status: "queued", route: "twilio", outbox: { status: "pending", route: "twilio" } });
  });
});

describe("only the instance holding the WhatsApp Web session sends through it", () => {
  /** A pending row for the town's phone, as enqueueOutbound writes it, with the deadline given. */
  async function phoneRow(deadlineAt: Date | null) {
    // Nothing else waiting: each scenario sees only its own row.
    await world.db.outbox.updateMany({ where: { status: { in: ["pending", "sending"] } }, data: { status: "cancelled" } });
    const { reference } = await whatsappResident("whatsapp-web", 1);
    const delivery = await staffReply(reference, "Your request is being handled.");
    await world.db.outbox.updateMany({ where: { messageId: delivery.messageId }, data: { deadlineAt } });
    return delivery.messageId;
  }

  it("a row before its deadline waits on the instance without the session, and the holder sends it", async () => {
    const messageId = await phoneRow(new Date(Date.now() + HOUR));
    const holder = { twilio: recordingSender("twilio"), "whatsapp-web": recordingSender("wa") };
    const other = { twilio: recordingSender("twilio") };
    await drainOutbox(worker(other));
    expect(await messageRow(messageId)).toMatchObject({ status: "queued", outbox: { status: "pending", attempts: 0 } });
    await drainOutbox(worker(holder));
    expect(holder["whatsapp-web"].sent.map((r) => r.body)).toEqual(["Your request is being handled."]);
    expect(await messageRow(messageId)).toMatchObject({ status: "sent" });
  });

  it("every instance keeps a resident's order alike: a row waits only for earlier rows of its own route (one chat on the phone)", async () => {
    const phoneRowId = await phoneRow(new Date(Date.now() + HOUR));
    const phoneOutbox = await world.db.outbox.findFirstOrThrow({ where: { messageId: phoneRowId } });
    // A later message to the same address through Twilio's number (a template, say): another chat.
    const message = await world.db.message.create({
      data: { municipalityId: "qab-elias", residentId: phoneOutbox.residentId, direction: "outbound", channel: "whatsapp", route: "twilio", kind: "staff", body: "Twilio's word", status: "queued" },
    });
    await world.db.outbox.create({
      data: { municipalityId: "qab-elias", messageId: message.id, residentId: phoneOutbox.residentId, channel: "whatsapp", route: "twilio", toAddress: phoneOutbox.toAddress, body: "Twilio's word", status: "pending", nextAttemptAt: new Date(), deadlineAt: new Date(Date.now() + HOUR) },
    });
    await world.db.channelIdentity.updateMany({ where: { residentId: phoneOutbox.residentId, channel: "whatsapp" }, data: { lastInboundAt: new Date() } });
    // The holder, its phone disconnected (its sender waits for the session), still sends Twilio's
    // row: it does not wait up to 24 hours behind the phone's; and neither does an instance without the session.
    const disconnected: ChannelSender = {
      ...recordingSender("whatsapp-web"),
      pace: (_request, signal) => new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason as Error))),
    };
    const holder = { twilio: recordingSender("twilio"), "whatsapp-web": disconnected };
    await drainOutbox({ ...worker(holder), paceWaitMs: 50 });
    expect(holder.twilio.sent.map((r) => r.body)).toEqual(["Twilio's word"]);
    expect(await messageRow(phoneRowId)).toMatchObject({ status: "queued" });
  });

  it("a row from before deadlines waits for the holder too (another instance may hold the session)", async () => {
    const messageId = await phoneRow(null);
    await drainOutbox(worker({ twilio: recordingSender("twilio") }));
    expect(await messageRow(messageId)).toMatchObject({ status: "queued", outbox: { status: "pending" } });
    await drainOutbox(worker({ "whatsapp-web": recordingSender("wa") }));
    expect(await messageRow(messageId)).toMatchObject({ status: "sent" });
  });

  it.each([
    { instance: "without the session", senders: () => ({ twilio: recordingSender("twilio") }) },
    { instance: "holding the session", senders: () => ({ twilio: recordingSender("twilio"), "whatsapp-web": recordingSender("wa") }) },
  ])("past its deadline, the instance $instance fails it for the deadline (not for a missing route)", async ({ senders }) => {
    const messageId = await phoneRow(new Date(Date.now() - 60_000));
    const used = senders();
    await drainOutbox(worker(used));
    expect(await messageRow(messageId)).toMatchObject({ status: "failed", errorCode: OUTBOX_FAILURES.deadline, outbox: { status: "failed" } });
    expect(Object.values(used).flatMap((s) => s.sent)).toEqual([]);
  });

  it("the session lost in the middle of a run: the resident's next row waits, it is not failed", async () => {
    await world.db.outbox.updateMany({ where: { status: { in: ["pending", "sending"] } }, data: { status: "cancelled" } });
    const { reference } = await whatsappResident("whatsapp-web", 1);
    const first = await staffReply(reference, "first");
    const second = await staffReply(reference, "second");
    const senders: DrainOutboxDeps["senders"] = {};
    const phone = recordingSender("wa");
    // The lease is lost while the first message is at WhatsApp: the sender leaves `senders`.
    senders["whatsapp-web"] = {
      ...phone,
      async send(request) {
        delete senders["whatsapp-web"];
        return phone.send(request);
      },
    };
    await drainOutbox(worker(senders));
    expect(await messageRow(first.messageId)).toMatchObject({ status: "sent" });
    expect(await messageRow(second.messageId)).toMatchObject({ status: "queued", outbox: { status: "pending", attempts: 0 } });
    // The session comes back (to this instance or another): the second goes.
    senders["whatsapp-web"] = phone;
    await drainOutbox(worker(senders));
    expect(phone.sent.map((r) => r.body)).toEqual(["first", "second"]);
  });

  it("an unconfirmed send is left to the holder to ask about, also just past its deadline; only a session nobody holds for half an hour is failed unasked", async () => {
    const messageId = await phoneRow(new Date(Date.now() + HOUR));
    const past = new Date(Date.now() - 60_000);
    await world.db.outbox.updateMany({ where: { messageId }, data: { status: "sending", claimId: "crashed-holder", leaseUntil: past, attemptStartedAt: new Date(Date.now() - 5 * 60_000), attempts: 1 } });
    await drainOutbox(worker({ twilio: recordingSender("twilio") }));
    expect(await world.db.outbox.findUniqueOrThrow({ where: { messageId } })).toMatchObject({ status: "sending", claimId: "crashed-holder" });

    // Just past the deadline: an instance without the session still leaves it to the holder, who can read the chat.
    await world.db.outbox.updateMany({ where: { messageId }, data: { deadlineAt: past } });
    await drainOutbox(worker({ twilio: recordingSender("twilio") }));
    expect(await world.db.outbox.findUniqueOrThrow({ where: { messageId } })).toMatchObject({ status: "sending", claimId: "crashed-holder" });
    // The holder finds it in the chat: recorded as sent, not failed.
    const holder = { ...recordingSender("whatsapp-web"), findAccepted: async () => "true_96171123456@c.us_3EB0FOUND" };
    await drainOutbox(worker({ "whatsapp-web": holder }));
    expect(await messageRow(messageId)).toMatchObject({ status: "sent", providerMessageId: "true_96171123456@c.us_3EB0FOUND" });
    expect(holder.sent).toEqual([]);

    // Another such row, and no instance holds the session for half an hour past its deadline: failed, saying it may have gone out.
    const orphan = await phoneRow(new Date(Date.now() + HOUR));
    await world.db.outbox.updateMany({
      where: { messageId: orphan },
      data: { status: "sending", claimId: "crashed-holder", leaseUntil: past, attemptStartedAt: new Date(Date.now() - 2 * HOUR), attempts: 1, deadlineAt: new Date(Date.now() - 31 * 60_000) },
    });
    await drainOutbox(worker({ twilio: recordingSender("twilio") }));
    expect(await messageRow(orphan)).toMatchObject({ status: "failed", errorCode: OUTBOX_FAILURES.unconfirmed });
  });
});
