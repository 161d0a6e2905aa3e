import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChannelSender } from "../../src/channels/sender.js";
import { twilioSender } from "../../src/channels/twilio/twilioSender.js";
import { drainOutbox, type DrainOutboxDeps } from "../../src/jobs/drainOutbox.js";
import { createLogger } from "../../src/lib/logger.js";
import { applyDeliveryStatus } from "../../src/services/deliveryStatus.js";
import { isFailed } from "../../src/services/outbox.js";
import { replyToTicket, retryDelivery, sendBySmsInstead } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { type FakeTwilio } from "../support/fakeTwilio.js";
import { residentFiles, type World } from "../support/staffWorld.js";
import { startOutboxWorld } from "../support/outboxWorld.js";
import { PUBLIC_BASE_URL, TWILIO_ACCOUNT_SID as ACCOUNT, TWILIO_AUTH_TOKEN as TOKEN } from "../support/twilio.js";

// Nothing listens there: every request is refused before it reaches anyone.
const UNREACHABLE = "http://127.0.0.1:9";

let world: World;
let rania: Actor;
let fake: FakeTwilio;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ world, rania, fake, stop } = await startOutboxWorld());
}, 60_000);
afterAll(() => stop());
afterEach(() => {
  fake.set({ onSend: undefined, listDelayMs: 0, listFails: false });
});

function instance(overrides: Partial<DrainOutboxDeps> = {}, apiUrl = fake.url): DrainOutboxDeps {
  return {
    db: world.db,
    logger: pino({ level: process.env.OUTBOX_TEST_LOG ?? "silent" }),
    outbox: world.deps.outbox,
    senders: { twilio: twilioSender({ accountSid: ACCOUNT, authToken: TOKEN, smsFrom: "+9611555000", whatsappFrom: "whatsapp:+9611555001", publicBaseUrl: PUBLIC_BASE_URL, apiUrl, keepAlive: false, timeoutMs: 1000 }) },
    leaseMs: 2000,
    retryDelayMs: () => 300,
    ...overrides,
  };
}
const ctx = () => ({ ...world.deps.outbox, now: new Date() });

async function staffReply(reference: number, body: string) {
  const result = await world.db.$transaction((tx) => replyToTicket(tx, ctx(), rania, reference, body));
  if (!result.ok) throw new Error(result.message);
  const outbox = await world.db.outbox.findUniqueOrThrow({ where: { messageId: result.delivery.messageId } });
  return { messageId: result.delivery.messageId, outboxId: outbox.id };
}
const outboxRow = (id: number) => world.db.outbox.findUniqueOrThrow({ where: { id }, include: { message: true } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A log destination the test can read. */
function memoryLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { lines, stream, text: () => lines.join("") };
}

describe("logs never carry secrets", () => {
  it("Twilio's list failing without an answer logs neither the auth token nor the resident's number", async () => {
    const { reference, from } = await residentFiles(world);
    const { outboxId } = await staffReply(reference, "Log safety.");
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await world.db.outbox.update({ where: { id: outboxId }, data: { status: "sending", attempts: 1, claimId: "crashed", attemptStartedAt: longAgo, leaseUntil: new Date(longAgo.getTime() + 120_000) } });
    const log = memoryLog();
    await drainOutbox({ ...instance({}, UNREACHABLE), logger: createLogger("debug", log.stream) }, new Date());
    const text = log.text();
    expect(text).toContain("could not ask the provider");
    expect(text).toContain("ECONNREFUSED");
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(Buffer.from(`${ACCOUNT}:${TOKEN}`).toString("base64"));
    expect(text).not.toContain(from);
    expect(text).not.toContain(encodeURIComponent(from));
    expect(text).not.toContain(from.slice(1));
  });

  it("the logger drops request internals of any error it is given", () => {
    const log = memoryLog();
    const error = Object.assign(new Error("boom"), {
      config: { headers: { Authorization: "Basic c2VjcmV0" }, params: { To: "+96171000001" } },
      request: { _header: "GET /x?To=%2B96171000001\r\nAuthorization: Basic c2VjcmV0" },
      response: { headers: { authorization: "Basic c2VjcmV0" } },
    });
    createLogger("info", log.stream).warn({ err: error, call: { headers: { Authorization: "Basic c2VjcmV0", authorization: "Basic c2VjcmV0" } } }, "failed");
    expect(log.text()).toContain("boom");
    expect(log.text()).not.toContain("c2VjcmV0");
    expect(log.text()).not.toContain("96171000001");
  });
});

describe("a late failure report about an attempt before “try again”", () => {
  it("does not fail the message being sent again, and a second “try again” is refused while it is queued or sending", async () => {
    const { reference } = await residentFiles(world);
    const { messageId, outboxId } = await staffReply(reference, "Late callback.");
    await drainOutbox(instance(), new Date());
    const first = await outboxRow(outboxId);
    expect(first.status).toBe("sent");
    const firstSid = first.providerMessageId!;
    const firstTry = new URL(fake.accepted.find((m) => m.sid === firstSid)!.statusCallback!).searchParams.get("try");
    const attempt = firstTry ? Number(firstTry) : undefined;
    // Twilio reports the first attempt undelivered; staff try again.
    await world.db.$transaction((tx) => applyDeliveryStatus(tx, { providerMessageId: firstSid, status: "undelivered", outboxId, attempt, errorCode: "30003" }, new Date()));
    expect((await outboxRow(outboxId)).message.status).toBe("undelivered");
    expect(await world.db.$transaction((tx) => retryDelivery(tx, ctx(), rania, reference, messageId))).toEqual({ ok: true });

    // A repeated failure report about the first attempt arrives late, with and without the attempt token.
    await world.db.$transaction((tx) => applyDeliveryStatus(tx, { providerMessageId: firstSid, status: "failed", outboxId, attempt, errorCode: "30003" }, new Date()));
    await world.db.$transaction((tx) => applyDeliveryStatus(tx, { providerMessageId: firstSid, status: "failed", outboxId, errorCode: "30003" }, new Date()));
    let row = await outboxRow(outboxId);
    expect(row).toMatchObject({ status: "pending", message: { status: "queued" } });
    // A message that reads failed is not "failed" while its row is queued or being sent.
    for (const status of ["pending", "sending", "held"]) expect(isFailed({ status: "failed", outbox: { status } })).toBe(false);
    expect(await world.db.$transaction((tx) => retryDelivery(tx, ctx(), rania, reference, messageId))).toMatchObject({ ok: false, reason: "not_failed" });

    // Even if the message did read failed while another worker holds the row, "try again" leaves it alone.
    await world.db.outbox.update({ where: { id: outboxId }, data: { status: "sending", claimId: "other-worker", leaseUntil: new Date(Date.now() + 60_000) } });
    await world.db.message.update({ where: { id: messageId }, data: { status: "failed" } });
    expect(await world.db.$transaction((tx) => retryDelivery(tx, ctx(), rania, reference, messageId))).toMatchObject({ ok: false, reason: "not_failed" });
    expect(await outboxRow(outboxId)).toMatchObject({ status: "sending", claimId: "other-worker" });
    await world.db.message.update({ where: { id: messageId }, data: { status: "queued" } });
    await world.db.outbox.update({ where: { id: outboxId }, data: { status: "pending", claimId: null, leaseUntil: null } });

    await drainOutbox(instance(), new Date());
    row = await outboxRow(outboxId);
    expect(row).toMatchObject({ status: "sent", message: { status: "sent" } });
    expect(row.providerMessageId).not.toBe(firstSid);
    expect(fake.acceptedPerOutbox().get(outboxId)).toBe(2);
  });
});

describe("“send by SMS instead” pressed twice at once", () => {
  it("queues exactly one SMS, and “try again” on the WhatsApp original is refused afterwards", async () => {
    const { reference } = await residentFiles(world, { channel: "whatsapp" });
    const { messageId, outboxId } = await staffReply(reference, "Once by SMS.");
    await world.db.outbox.update({ where: { id: outboxId }, data: { status: "failed", lastError: "outbox_deadline" } });
    await world.db.message.update({ where: { id: messageId }, data: { status: "failed", errorCode: "outbox_deadline" } });
    const results = await Promise.all(Array.from({ length: 6 }, () => world.db.$transaction((tx) => sendBySmsInstead(tx, ctx(), rania, reference, messageId))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const resident = (await world.db.message.findUniqueOrThrow({ where: { id: messageId } })).residentId;
    expect(await world.db.outbox.count({ where: { residentId: resident, channel: "sms", body: "Once by SMS." } })).toBe(1);
    expect(await world.db.$transaction((tx) => retryDelivery(tx, ctx(), rania, reference, messageId))).toMatchObject({ ok: false, reason: "not_failed" });
    expect((await outboxRow(outboxId)).message).toMatchObject({ status: "failed", errorCode: "outbox_deadline" });
  });
});

describe("one resident's messages arrive in the order staff wrote them", () => {
  it("with two workers and a slow first send, the second is not sent before the first is recorded", async () => {
    const { reference } = await residentFiles(world);
    const one = await staffReply(reference, "Order: first.");
    const two = await staffReply(reference, "Order: second.");
    fake.set({ onSend: (_n, m) => (m.body === "Order: first." ? { kind: "accept", delayMs: 400 } : { kind: "accept" }) });
    const a = instance();
    const b = instance();
    const firstRun = drainOutbox(a, new Date());
    await sleep(100);
    await drainOutbox(b, new Date());
    await firstRun;
    for (let i = 0; i < 20 && (await world.db.outbox.count({ where: { id: { in: [one.outboxId, two.outboxId] }, status: "sent" } })) < 2; i++) {
      await Promise.all([drainOutbox(a, new Date()), drainOutbox(b, new Date())]);
    }
    const order = fake.accepted.filter((m) => m.outboxId === one.outboxId || m.outboxId === two.outboxId).map((m) => m.outboxId);
    expect(order).toEqual([one.outboxId, two.outboxId]);
  });

  it("a retryable failure of the first keeps the second waiting", async () => {
    const { reference } = await residentFiles(world);
    const one = await staffReply(reference, "Retry order: first.");
    const two = await staffReply(reference, "Retry order: second.");
    let refused = false;
    fake.set({
      onSend: (_n, m) => {
        if (m.body === "Retry order: first." && !refused) {
          refused = true;
          return { kind: "refuse", status: 429, code: 20429, message: "Too many requests" };
        }
        return { kind: "accept" };
      },
    });
    const worker = instance();
    await drainOutbox(worker, new Date());
    expect(await outboxRow(one.outboxId)).toMatchObject({ status: "pending", attempts: 1 });
    expect(await outboxRow(two.outboxId)).toMatchObject({ status: "pending", attempts: 0 });
    expect(fake.accepted.filter((m) => m.outboxId === two.outboxId)).toHaveLength(0);
    await sleep(350);
    await drainOutbox(worker, new Date());
    const order = fake.accepted.filter((m) => m.outboxId === one.outboxId || m.outboxId === two.outboxId).map((m) => m.outboxId);
    expect(order).toEqual([one.outboxId, two.outboxId]);
  });
});

describe("reconciling after “try again”", () => {
  it("does not take the earlier, undelivered attempt for the new one", async () => {
    fake.set({ listStatusCallback: false });
    try {
      const { reference } = await residentFiles(world);
      const { messageId, outboxId } = await staffReply(reference, "Reconcile after retry.");
      await drainOutbox(instance(), new Date());
      const firstSid = (await outboxRow(outboxId)).providerMessageId!;
      await world.db.$transaction((tx) => applyDeliveryStatus(tx, { providerMessageId: firstSid, status: "undelivered", outboxId, errorCode: "30003" }, new Date()));
      expect(await world.db.$transaction((tx) => retryDelivery(tx, ctx(), rania, reference, messageId))).toEqual({ ok: true });
      // The new attempt's connection drops before Twilio sees it: unclear, so the list is checked.
      fake.set({ onSend: () => ({ kind: "drop" }) });
      const worker = instance();
      await drainOutbox(worker, new Date());
      expect(await outboxRow(outboxId)).toMatchObject({ status: "sending" });
      fake.set({ onSend: undefined });
      for (let i = 0; i < 10 && (await outboxRow(outboxId)).status !== "sent"; i++) {
        await sleep(320);
        await drainOutbox(worker, new Date());
      }
      const row = await outboxRow(outboxId);
      expect(row.status).toBe("sent");
      expect(row.providerMessageId).not.toBe(firstSid);
      expect(fake.accepted.filter((m) => m.outboxId === outboxId)).toHaveLength(2);
    } finally {
      fake.set({ listStatusCallback: true });
    }
  });
});

describe("one row's fault", () => {
  it("does not stop the run from delivering the others", async () => {
    const broken = await staffReply((await residentFiles(world)).reference, "Broken row.");
    const fine = await staffReply((await residentFiles(world)).reference, "Fine row.");
    const real = instance().senders.twilio!;
    const sender: ChannelSender = {
      send: async (request) => {
        if (request.outboxId === broken.outboxId) throw new Error("sender fault for +96171999888");
        return real.send(request);
      },
      findAccepted: (request, since, recorded) => real.findAccepted(request, since, recorded),
    };
    const log = memoryLog();
    await expect(drainOutbox({ ...instance({ senders: { twilio: sender } }), logger: createLogger("debug", log.stream) }, new Date())).resolves.toBeGreaterThanOrEqual(1);
    expect(await outboxRow(fine.outboxId)).toMatchObject({ status: "sent" });
    expect(log.text()).toContain("sender fault");
    expect(log.text()).not.toContain("96171999888");
  });
});

describe("Twilio's message list, page after page", () => {
  it("finds an unconfirmed send that newer messages pushed past the first page", async () => {
    const { reference, from } = await residentFiles(world);
    const { outboxId } = await staffReply(reference, "Deep in the list.");
    fake.set({ onSend: () => ({ kind: "acceptThenDrop" }) });
    const worker = instance();
    await drainOutbox(worker, new Date());
    expect(await outboxRow(outboxId)).toMatchObject({ status: "sending" });
    // Other messages to the same number since (sent by other means): Twilio lists them first.
    for (let i = 0; i < 5; i++) {
      fake.accepted.push({ sid: `SM${String(i).padStart(32, "f")}`, to: from, from: "+9611555000", body: `Other ${i}`, contentSid: null, statusCallback: null, outboxId: null, dateCreated: new Date() });
    }
    fake.set({ onSend: undefined, listPageSize: 2 });
    try {
      for (let i = 0; i < 10 && (await outboxRow(outboxId)).status !== "sent"; i++) {
        await sleep(320);
        await drainOutbox(worker, new Date());
      }
    } finally {
      fake.set({ listPageSize: undefined });
    }
    expect(await outboxRow(outboxId)).toMatchObject({ status: "sent" });
    expect(fake.accepted.filter((m) => m.outboxId === outboxId)).toHaveLength(1);
  });
});

describe("rows claimed before deadlines existed", () => {
  it("get a deadline when they are reconciled", async () => {
    const { reference } = await residentFiles(world);
    const { outboxId } = await staffReply(reference, "Legacy row.");
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await world.db.outbox.update({ where: { id: outboxId }, data: { status: "sending", attempts: 1, claimId: null, deadlineAt: null, attemptStartedAt: longAgo, leaseUntil: new Date(longAgo.getTime() + 120_000) } });
    fake.set({ listFails: true });
    await drainOutbox(instance(), new Date());
    const row = await outboxRow(outboxId);
    expect(row.status).toBe("sending");
    expect(row.deadlineAt?.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
  });
});

