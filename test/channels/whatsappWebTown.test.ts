import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACK } from "../../src/channels/whatsappWeb/client.js";
import { configureRoutes, mediaDirOf, type ConfiguredRoutes } from "../../src/channels/configureRoutes.js";
import { diskMediaStore } from "../../src/channels/whatsappWeb/diskMediaStore.js";
import { localMediaKey } from "../../src/channels/whatsappWeb/mediaStore.js";
import { loadConfig } from "../../src/config.js";
import { drainOutbox } from "../../src/jobs/drainOutbox.js";
import { replyToTicket } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { whatsappWebControl } from "../../src/services/whatsappWebSession.js";
import { staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld } from "../support/testApp.js";
import { until } from "./smpp/fakeSmsc.js";
import { FakeClient, PNG_1x1, wwebMessage } from "./whatsappWeb/fakeClient.js";

// A town with nothing but a WhatsApp phone: the server links it (here a fake of whatsapp-web.js's
// client stands in for Chromium), residents write to the town's number, and every answer, staff
// reply and status notice goes back through the same phone. Everything else is the real wiring:
// configuration, routes, inbox, outbox worker, database.

let world: World;
let routes: ConfiguredRoutes;
let dataDir: string;
let rania: Actor;
/** One client per launch, as whatsapp-web.js needs after a disconnection. */
const clients: FakeClient[] = [];
/** What the next launch's client does (a test sets it before forcing a reconnection). */
let prepare: (client: FakeClient) => void = () => undefined;
const phone = () => clients.at(-1)!;

beforeAll(async () => {
  world = await createTestWorld();
  rania = await staffMember(world, { username: "rania", role: "admin" });
  dataDir = await mkdtemp(path.join(tmpdir(), "baladiya-wweb-"));
  const config = loadConfig({ WHATSAPP_WEB_ENABLED: "true", WHATSAPP_WEB_DATA_DIR: dataDir });
  routes = await configureRoutes(config, {
    logger: pino({ level: "silent" }),
    db: world.db,
    inbox: world.inbox,
    outbox: world.deps.outbox,
    whatsappWeb: {
      createClient: async () => {
        const client = new FakeClient();
        prepare(client);
        clients.push(client);
        return client;
      },
      gapMs: { min: 0, max: 0 },
      heartbeatMs: 20,
    },
  });
  routes.start();
  await until(() => routes.statuses().some((s) => s.route === "whatsapp-web" && s.state === "ready"), 3000, "WhatsApp Web ready");
}, 60_000);
afterAll(async () => {
  await routes.stop();
  await world.drop();
  await rm(dataDir, { recursive: true, force: true });
});

const worker = () => ({ db: world.db, senders: routes.senders, logger: pino({ level: "silent" }), outbox: world.deps.outbox, paceWaitMs: 200 });

let counter = 0;
const freshChat = () => `9617${String(1200000 + ++counter)}@c.us`;
const e164 = (chat: string) => `+${chat.split("@")[0]}`;

/** What the phone sent to a chat, oldest first. */
const sentTo = (chat: string) => clients.flatMap((c) => c.sent).filter((s) => s.chatId === chat);

/** The resident writes; the inbox handles it, and the outbox worker sends the answer through the phone. */
async function writes(chat: string, fields: Parameters<typeof wwebMessage>[0] = {}): Promise<string> {
  const before = sentTo(chat).length;
  const message = wwebMessage({ from: chat, type: "chat", ...fields });
  phone().receive(message);
  await waitForInbound(message.id._serialized);
  await drainOutbox(worker());
  await until(() => sentTo(chat).length > before, 2000, "the answer to go out");
  return sentTo(chat).at(-1)!.content;
}

async function waitForInbound(providerMessageId: string) {
  const deadline = Date.now() + 3000;
  while (!(await world.db.message.findFirst({ where: { providerMessageId, direction: "inbound" } }))) {
    if (Date.now() > deadline) throw new Error(`message ${providerMessageId} was not handled`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("a resident on the town's own WhatsApp number", () => {
  it("is answered through the phone, in their language, and the conversation is stored with the route", async () => {
    const chat = freshChat();
    const answer = await writes(chat, { body: "marhaba", _data: { notifyName: "Rami" } });
    expect(answer.length).toBeGreaterThan(10);
    const resident = await world.db.resident.findFirstOrThrow({ where: { phone: e164(chat) }, include: { identities: true } });
    expect(resident.profileName).toBe("Rami");
    expect(resident.identities).toEqual([expect.objectContaining({ channel: "whatsapp", route: "whatsapp-web", address: e164(chat) })]);
    const messages = await world.db.message.findMany({ where: { residentId: resident.id }, orderBy: { id: "asc" } });
    expect(messages.map((m) => [m.direction, m.route, m.status])).toEqual([
      ["inbound", "whatsapp-web", "received"],
      ["outbound", "whatsapp-web", "sent"],
    ]);
    expect(messages[1]?.providerMessageId).toBe(sentTo(chat)[0]?.id);
  });

  it("files a request with a photo and a location pin; the photo is kept in the data folder, for the staff media route", async () => {
    const chat = freshChat();
    const first = await writes(chat, { body: "في جورة كبيرة بالطريق قدام المدرسة", type: "image", media: { mimetype: "image/png", data: PNG_1x1, filename: null } });
    expect(first).toBeTruthy();
    expect(first).toContain("طرقات وحفر");
    expect(await writes(chat, { body: "١" })).toContain("📍");
    expect(await writes(chat, { type: "location", body: "/9j/4AAQSkZJRgABAQ", location: { latitude: "33.7910", longitude: "35.8280", name: "Qab Elias school" } })).toContain("Qab Elias school");
    const reply = await writes(chat, { body: "1" });
    const reference = Number(/#(\d{5,})/.exec(reply)?.[1]);
    expect(reference).toBeGreaterThan(0);
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference } });
    expect(ticket).toMatchObject({ channel: "whatsapp", route: "whatsapp-web" });
    const media = JSON.parse(ticket.media) as Array<{ url: string; contentType: string }>;
    expect(media).toEqual([expect.objectContaining({ contentType: "image/png", url: expect.stringMatching(/^local-media:[a-f0-9]{64}\.png$/) })]);
    const stored = await diskMediaStore(mediaDirOf(dataDir)).get(localMediaKey(media[0]!.url)!);
    expect(stored).toEqual({ bytes: Buffer.from(PNG_1x1, "base64"), contentType: "image/png" });
  });

  it("hears staff replies two days later: no 24-hour window and no template on this channel", async () => {
    const chat = freshChat();
    await writes(chat, { body: "الضو مقطوع بالحي من امبارح" });
    let reply = "";
    for (let turn = 0; turn < 6 && !/#\d{5}/.test(reply); turn++) reply = await writes(chat, { body: "1" });
    const reference = Number(/#(\d{5,})/.exec(reply)?.[1]);
    const identity = await world.db.channelIdentity.findFirstOrThrow({ where: { address: e164(chat) } });
    await world.db.channelIdentity.update({ where: { id: identity.id }, data: { lastInboundAt: new Date(Date.now() - 2 * 24 * 3600_000) } });

    const result = await world.db.$transaction((tx) => replyToTicket(tx, { ...world.deps.outbox, now: new Date() }, rania, reference, "The electrician comes tomorrow morning."));
    expect(result.ok).toBe(true);
    await drainOutbox(worker());
    expect(sentTo(chat).at(-1)?.content).toContain("The electrician comes tomorrow morning.");
    const staffMessage = await world.db.message.findFirstOrThrow({ where: { kind: "staff", body: { contains: "electrician" } } });
    expect(staffMessage).toMatchObject({ route: "whatsapp-web", status: "sent" });

    // The phone's acknowledgements move it on: delivered, then read.
    phone().ack(staffMessage.providerMessageId!, ACK.DEVICE);
      await expect.poll(async () => (await world.db.message.findUniqueOrThrow({ where: { id: staffMessage.id } })).status, { timeout: 2000 }).toBe("delivered");
    phone().ack(staffMessage.providerMessageId!, ACK.READ);
    await expect.poll(async () => (await world.db.message.findUniqueOrThrow({ where: { id: staffMessage.id } })).status, { timeout: 2000 }).toBe("read");
  });

  it("after a disconnection, a fresh client catches up on what came meanwhile: once each, in order", async () => {
    const chat = freshChat();
    await writes(chat, { body: "hello" });
    const now = Math.floor(Date.now() / 1000);
    const whileAway = [
      wwebMessage({ from: chat, body: "my street light is broken", timestamp: now + 1 }),
      wwebMessage({ from: chat, body: "near the church", timestamp: now + 2 }),
    ];
    const launches = clients.length;
    // The next client finds them unread (out of WhatsApp's order), plus a message the first one already handled.
    const handled = await world.db.message.findFirstOrThrow({ where: { resident: { phone: e164(chat) }, direction: "inbound" } });
    prepare = (client) => {
      client.chats = [{ id: chat, unread: [whileAway[1]!, whileAway[0]!, wwebMessage({ from: chat, body: "hello", id: { _serialized: handled.providerMessageId!, fromMe: false, remote: chat, id: "x" } })] }];
    };
    phone().disconnect("NAVIGATION");
    await until(() => clients.length > launches, 30_000, "a new client");
    await until(() => routes.statuses().some((s) => s.route === "whatsapp-web" && s.state === "ready"), 3000, "ready again");
    for (const message of whileAway) await waitForInbound(message.id._serialized);
    const inbound = await world.db.message.findMany({ where: { resident: { phone: e164(chat) }, direction: "inbound" }, orderBy: { id: "asc" } });
    expect(inbound.map((m) => m.body)).toEqual(["hello", "my street light is broken", "near the church"]);
    await expect.poll(() => phone().chats[0]?.seen, { timeout: 2000 }).toBe(true);
    prepare = () => undefined;
  }, 40_000);

  it("admins see the session on every instance through the database, and can log it out", async () => {
    const control = whatsappWebControl(world.db, "qab-elias");
    await expect.poll(async () => (await control.status())?.state, { timeout: 2000 }).toBe("ready");
    expect((await control.status())?.linkedNumber).toBe("+96181000000");
    const linked = phone();
    await control.requestLogout(rania.id);
    await expect.poll(async () => (await control.status())?.state, { timeout: 2000 }).toBe("logged_out");
    expect(linked.loggedOut).toBe(1);
    const audit = await world.db.auditEvent.findFirst({ where: { kind: "whatsapp_web_logged_out" } });
    expect(audit).toMatchObject({ actorType: "staff", actorId: rania.id });
    // Not retried on its own; an admin links it again and a QR code is waiting.
    const launches = clients.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(clients.length).toBe(launches);
    prepare = (client) => (client.onInitialize = "qr");
    await control.requestRelink(rania.id);
    await expect.poll(async () => (await control.status())?.state, { timeout: 2000 }).toBe("waiting_for_qr");
    expect((await control.status())?.qr).toMatch(/^2@fake-qr/);
    phone().becomeReady();
    await expect.poll(async () => (await control.status())?.state, { timeout: 2000 }).toBe("ready");
    prepare = () => undefined;
  });
});
