import { createHmac, randomUUID } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import request from "supertest";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { androidSender } from "../../src/channels/android/androidSender.js";
import { drainOutbox, type DrainOutboxDeps } from "../../src/jobs/drainOutbox.js";
import { enqueueOutbound } from "../../src/services/outbox.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

// A resident on a feature phone texts the municipality's own SIM, in an old Android phone running
// "SMS Gateway for Android". The phone posts each SMS to /webhooks/android-sms; the bot's answers go
// back through the outbox to the phone's API, which sends them as SMS from the same SIM.

const KEY = "signing-key-of-the-town-hall-phone";
type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;

/** The phone's local API: records what it was asked to send, answers 202 like the app does. */
let phone: http.Server;
let phoneUrl: string;
let sentByPhone: Array<{ id: string; message: string; phoneNumbers: string[]; simNumber?: number }> = [];

beforeAll(async () => {
  world = await createTestWorld({ androidSigningKey: KEY });
  phone = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    sentByPhone.push(body);
    res.writeHead(202, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ id: body.id, state: "Pending", recipients: body.phoneNumbers.map((n: string) => ({ phoneNumber: n, state: "Pending" })) }));
  });
  phone.listen(0, "127.0.0.1");
  await once(phone, "listening");
  phoneUrl = `http://127.0.0.1:${(phone.address() as AddressInfo).port}`;
});
afterAll(async () => {
  phone.closeAllConnections();
  await new Promise((resolve) => phone.close(resolve));
  await world.drop();
});
beforeEach(() => {
  sentByPhone = [];
});

const worker = (): DrainOutboxDeps => ({
  db: world.db,
  senders: { android: androidSender({ url: phoneUrl, username: "sms", password: "secret-pass", simNumber: 2, keepAlive: false, timeoutMs: 1000 }) },
  logger: pino({ level: "silent" }),
  outbox: world.deps.outbox,
});

const sign = (body: string, timestamp: string, key = KEY) => createHmac("sha256", key).update(body + timestamp).digest("hex");
const nowSeconds = () => String(Math.floor(Date.now() / 1000));

function post(event: object, options: { key?: string; timestamp?: string; signature?: string | null } = {}) {
  const body = JSON.stringify(event);
  const timestamp = options.timestamp ?? nowSeconds();
  const req = request(world.app).post("/webhooks/android-sms").set("Content-Type", "application/json").set("X-Timestamp", timestamp);
  if (options.signature !== null) req.set("X-Signature", options.signature ?? sign(body, timestamp, options.key));
  return req.send(body);
}

const received = (from: string, text: string, id = randomUUID().replace(/-/g, "").slice(0, 21)) => ({
  id,
  webhookId: "baladiya",
  deviceId: "townhall-phone-1",
  event: "sms:received",
  // The app's own messageId is a hash of the content: two residents sending "1" share it.
  payload: { messageId: `content-hash-of-${text}`, message: text, phoneNumber: from, simNumber: 2, receivedAt: new Date().toISOString() },
});

let phoneCounter = 0;
const freshLocal = () => `70 ${String(100000 + ++phoneCounter).padStart(6, "0")}`;
const e164 = (local: string) => `+961${local.replace(/\s/g, "")}`;

/** What the phone was asked to send to a number, in order. */
const textsTo = (number: string) => sentByPhone.filter((m) => m.phoneNumbers.includes(number)).map((m) => m.message);

describe("a resident files a request by SMS through the town hall's Android phone", () => {
  it("every answer goes back through the phone, from the configured SIM, and the ticket says Android", async () => {
    const local = freshLocal();
    const from = e164(local);
    const say = async (text: string) => {
      const res = await post(received(local, text));
      expect(res.status).toBe(200);
      // The answer cannot ride on the response: it is queued and the worker hands it to the phone.
      expect(res.body).toEqual({ status: "ok" });
      await drainOutbox(worker());
      return textsTo(from).at(-1) ?? "";
    };
    expect(await say("في جورة كبيرة بالطريق العام")).toContain("طرقات وحفر");
    await say("1");
    await say("قدام الجامع");
    const filed = await say("1");
    const reference = Number(/#(\d+)/.exec(filed)?.[1]);
    expect(reference).toBeGreaterThanOrEqual(10000);

    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference }, include: { resident: { include: { identities: true } } } });
    expect(ticket).toMatchObject({ channel: "sms", route: "android", description: "في جورة كبيرة بالطريق العام" });
    const residentId = ticket.residentId ?? expect.unreachable("a resident's request has a resident");
    expect(ticket.resident?.identities).toEqual([expect.objectContaining({ channel: "sms", route: "android", address: from })]);
    // Four messages, four answers, each sent once, from SIM 2, with our idempotency key as the id.
    expect(textsTo(from)).toHaveLength(4);
    expect(sentByPhone.every((m) => m.simNumber === 2 && /^bl-\d+-\d+$/.test(m.id))).toBe(true);
    const outbound = await world.db.message.findMany({ where: { residentId, direction: "outbound" } });
    expect(outbound.map((m) => [m.route, m.status])).toEqual(Array(4).fill(["android", "sent"]));
  });

  it("a staff reply later goes to the phone too: the resident's last route", async () => {
    const local = freshLocal();
    await post(received(local, "بدي احكي مع موظف"));
    await drainOutbox(worker());
    const resident = await world.db.resident.findFirstOrThrow({ where: { phone: e164(local) } });
    await world.db.$transaction((tx) =>
      enqueueOutbound(tx, { ...world.deps.outbox, now: new Date() }, { residentId: resident.id, ticketId: null, reference: null, channel: "sms", kind: "staff", body: "سنرسل فريقاً غداً" }),
    );
    await drainOutbox(worker());
    expect(textsTo(e164(local)).at(-1)).toBe("سنرسل فريقاً غداً");
  });

  it("STOP gets its confirmation by SMS, and then nothing more is sent", async () => {
    const local = freshLocal();
    await post(received(local, "STOP"));
    await drainOutbox(worker());
    expect(textsTo(e164(local))).toHaveLength(1);
    const resident = await world.db.resident.findFirstOrThrow({ where: { phone: e164(local) } });
    expect(resident.optedOut).toBe(true);
    await world.db.$transaction((tx) =>
      enqueueOutbound(tx, { ...world.deps.outbox, now: new Date() }, { residentId: resident.id, ticketId: null, reference: null, channel: "sms", kind: "staff", body: "are you still there?" }),
    );
    await drainOutbox(worker());
    expect(textsTo(e164(local))).toHaveLength(1);
  });

  it("the phone's delivery reports move the message to delivered, or failed with the reason", async () => {
    const local = freshLocal();
    await post(received(local, "marhaba"));
    await drainOutbox(worker());
    const [sent] = sentByPhone;
    const report = (event: string, payload: object) =>
      post({ id: randomUUID().slice(0, 21), webhookId: "w", deviceId: "townhall-phone-1", event, payload: { messageId: sent!.id, phoneNumber: e164(local), ...payload } });
    expect((await report("sms:sent", { sentAt: new Date().toISOString() })).status).toBe(200);
    expect((await report("sms:delivered", { deliveredAt: new Date().toISOString() })).status).toBe(200);
    const message = await world.db.message.findFirstOrThrow({ where: { providerMessageId: sent!.id } });
    expect(message).toMatchObject({ status: "delivered", route: "android" });
    // A late "sent" never moves it back.
    await report("sms:sent", { sentAt: new Date().toISOString() });
    expect(await world.db.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({ status: "delivered" });
  });

  it("a message the phone sends again (the app retries until it gets a 200) is handled once", async () => {
    const local = freshLocal();
    const event = received(local, "2");
    await post(event);
    const again = await post(event);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: "duplicate" });
    await drainOutbox(worker());
    expect(textsTo(e164(local))).toHaveLength(1);
    expect(await world.db.message.count({ where: { resident: { phone: e164(local) }, direction: "inbound" } })).toBe(1);
  });

  it('two residents sending "1" (the same content hash from the app) both count', async () => {
    const [a, b] = [freshLocal(), freshLocal()];
    await post(received(a, "1"));
    await post(received(b, "1"));
    for (const local of [a, b]) expect(await world.db.message.count({ where: { resident: { phone: e164(local) }, direction: "inbound" } })).toBe(1);
  });

  it("reads every local way of writing a Lebanese number", async () => {
    for (const [written, stored] of [
      ["03 123 456", "+9613123456"],
      ["71123457", "+96171123457"],
      ["+96171123458", "+96171123458"],
      ["0096171123459", "+96171123459"],
    ]) {
      expect((await post(received(written!, "hello"))).status).toBe(200);
      expect(await world.db.resident.findFirst({ where: { phone: stored } })).not.toBeNull();
    }
  });

  it("an operator's promotion from an alphanumeric sender is acknowledged and dropped", async () => {
    const before = await world.db.message.count();
    const res = await post(received("Alfa", "Recharge now and get 2GB"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ignored" });
    expect(await world.db.message.count()).toBe(before);
  });

  it("a ping marks the phone alive for the admin page", async () => {
    const res = await post({ id: "ping-1", webhookId: "w", deviceId: "townhall-phone-2", event: "system:ping", payload: { health: { status: "pass" } } });
    expect(res.status).toBe(200);
    const beat = await world.db.gatewayHeartbeat.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, route: "android", deviceId: "townhall-phone-2" } });
    expect(beat.lastEvent).toBe("system:ping");
    expect(Date.now() - beat.lastSeenAt.getTime()).toBeLessThan(60_000);
  });
});

describe("what is refused, and nothing is written", () => {
  const refused = async (res: request.Response, status: number, message: RegExp) => {
    expect(res.status).toBe(status);
    expect(JSON.stringify(res.body)).toMatch(message);
  };

  it("a missing, wrong or replayed signature is 403", async () => {
    const before = await world.db.message.count();
    const event = received(freshLocal(), "hi");
    await refused(await post(event, { signature: null }), 403, /Missing X-Signature/);
    await refused(await post(event, { key: "another-phone's-key-000" }), 403, /Invalid X-Signature/);
    await refused(await post(event, { timestamp: String(Math.floor(Date.now() / 1000) - 6 * 60) }), 403, /more than 5 minutes/);
    expect(await world.db.message.count()).toBe(before);
  });

  it("a body that is not the gateway's JSON is 400 with the reason", async () => {
    const timestamp = nowSeconds();
    const res = await request(world.app).post("/webhooks/android-sms").set("Content-Type", "application/json").set("X-Timestamp", timestamp).set("X-Signature", sign("{not json", timestamp)).send("{not json");
    await refused(res, 400, /not JSON/);
    await refused(await post({ id: "x1", webhookId: "w", deviceId: "d", event: "sms:received", payload: { message: "hi" } }), 400, /payload/);
  });

  it("without ANDROID_SMS_SIGNING_KEY the webhook answers 503", async () => {
    const unconfigured = await createTestWorld();
    try {
      const res = await request(unconfigured.app).post("/webhooks/android-sms").send({});
      expect(res.status).toBe(503);
      expect(JSON.stringify(res.body)).toMatch(/ANDROID_SMS_SIGNING_KEY/);
    } finally {
      await unconfigured.drop();
    }
  });
});
