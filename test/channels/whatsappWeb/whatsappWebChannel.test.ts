import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Route } from "../../../src/channels/routes.js";
import type { ChannelSender, DeliveryReport, OutboundRequest } from "../../../src/channels/sender.js";
import { ACK } from "../../../src/channels/whatsappWeb/client.js";
import type { MediaStore } from "../../../src/channels/whatsappWeb/mediaStore.js";
import type { WhatsAppWebStatus } from "../../../src/channels/whatsappWeb/status.js";
import { whatsappWebChannel, type SessionStore, type WhatsAppWebChannel } from "../../../src/channels/whatsappWeb/whatsappWebChannel.js";
import type { InboundMessage } from "../../../src/inbox/inboundMessage.js";
import type { SessionRequests } from "../../../src/services/whatsappWebSession.js";
import { until } from "../smpp/fakeSmsc.js";
import { FakeClient, wwebMessage } from "./fakeClient.js";

/** The database's part, in memory: one lease, the published status, admins' requests, LIDs. Shared by "instances". */
class FakeDatabase {
  leaseHolder: string | null = null;
  leaseUntil = 0;
  published: Array<Omit<WhatsAppWebStatus, "updatedAt">> = [];
  requests: SessionRequests = { logout: null, relink: null };
  completed: string[] = [];
  lids = new Map<string, string>();
  down = false;
  /** The database stalls: hold() never answers. */
  stalled = false;

  storeFor(holder: string, leaseMs = 30_000): SessionStore {
    return {
      hold: async (now) => {
        if (this.stalled) return new Promise<boolean>(() => undefined);
        if (this.down) throw new Error("database unreachable");
        if (this.leaseHolder && this.leaseHolder !== holder && this.leaseUntil > now.getTime()) return false;
        this.leaseHolder = holder;
        this.leaseUntil = now.getTime() + leaseMs;
        return true;
      },
      release: async () => {
        if (this.leaseHolder === holder) this.leaseHolder = null;
      },
      publish: async (status) => {
        this.published.push(status);
        return this.requests;
      },
      complete: async (kind, _request, _now, acted) => {
        this.completed.push(acted ? kind : `${kind} (nothing to do)`);
        this.requests = { ...this.requests, [kind]: null };
      },
      lids: {
        phoneOf: async (lid) => this.lids.get(lid) ?? null,
        remember: async (lid, phone) => void this.lids.set(lid, phone),
      },
    };
  }

  get last() {
    return this.published.at(-1);
  }
}

const memoryMedia = (): MediaStore => {
  const files = new Map<string, { bytes: Buffer; contentType: string }>();
  return {
    async put(bytes, contentType) {
      const key = `${"0".repeat(63)}${files.size}.bin`;
      files.set(key, { bytes, contentType });
      return key;
    },
    async get(key) {
      return files.get(key) ?? null;
    },
  };
};

interface Instance {
  channel: WhatsAppWebChannel;
  clients: FakeClient[];
  senders: Partial<Record<Route, ChannelSender>>;
  received: InboundMessage[];
  receipts: DeliveryReport[];
  /** What the next client does when launched. */
  prepare: (client: FakeClient) => void;
  failNextMessages: number;
}

const instances: Instance[] = [];
afterEach(async () => {
  await Promise.all(instances.splice(0).map((i) => i.channel.stop()));
});

function instance(
  db: FakeDatabase,
  holder = "host-a:1",
  options: { leaseMs?: number; sendTimeoutMs?: number; launchTimeoutMs?: number; gapMs?: { min: number; max: number }; heartbeatMs?: number } = {},
): Instance {
  const self: Instance = {
    clients: [],
    senders: {},
    received: [],
    receipts: [],
    prepare: () => undefined,
    failNextMessages: 0,
    channel: undefined as unknown as WhatsAppWebChannel,
  };
  self.channel = whatsappWebChannel(
    { holder, perMinute: 60, gapMs: { min: 0, max: 0 }, backoff: { minMs: 10, maxMs: 40 }, heartbeatMs: 10_000, ...options },
    {
      onMessage: async (message) => {
        if (self.failNextMessages > 0) {
          self.failNextMessages--;
          throw new Error("database locked");
        }
        self.received.push(message);
      },
      onReceipt: async (report) => void self.receipts.push(report),
    },
    {
      createClient: async () => {
        const client = new FakeClient();
        self.prepare(client);
        self.clients.push(client);
        return client;
      },
      store: db.storeFor(holder, options.leaseMs),
      media: memoryMedia(),
      senders: self.senders,
      logger: pino({ level: "silent" }),
    },
  );
  instances.push(self);
  return self;
}

const request = (fields: Partial<OutboundRequest> = {}): OutboundRequest => ({ outboxId: 7, channel: "whatsapp", to: "whatsapp:+96171123456", body: "Your request #10427 is resolved.", attempt: 1, ...fields });
const stateOf = (i: Instance) => i.channel.state().status?.state;
const ready = (i: Instance) => until(() => stateOf(i) === "ready", 2000, "ready");

describe("linking the town's phone", () => {
  it("waits for the QR code to be scanned, then is ready with the linked number; the sender exists only while holding", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    town.prepare = (client) => (client.onInitialize = "qr");
    expect(town.senders["whatsapp-web"]).toBeUndefined();
    await town.channel.tick();
    await until(() => stateOf(town) === "waiting_for_qr", 1000, "the QR code");
    expect(town.senders["whatsapp-web"]).toBe(town.channel.sender);
    await town.channel.tick();
    expect(db.last).toMatchObject({ state: "waiting_for_qr", qr: expect.stringMatching(/^2@fake-qr/), holder: "host-a:1" });

    town.clients[0]!.becomeReady();
    await town.channel.tick();
    expect(db.last).toMatchObject({ state: "ready", linkedNumber: "+96181000000" });
    expect(db.last?.qr).toBeUndefined();
  });

  it("a launch that fails (no network, Chromium missing) is retried with a fresh client after a backoff", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    let failures = 2;
    town.prepare = (client) => {
      if (failures-- > 0) client.onInitialize = new Error("net::ERR_NAME_NOT_RESOLVED at https://web.whatsapp.com/");
    };
    await town.channel.tick();
    await until(() => stateOf(town) === "disconnected", 1000, "disconnected");
    expect(town.channel.state().status).toMatchObject({ detail: expect.stringContaining("ERR_NAME_NOT_RESOLVED"), retryAt: expect.any(Date) });
    await ready(town);
    expect(town.clients).toHaveLength(3);
    // Each failed client was closed before the next one started.
    expect(town.clients.slice(0, 2).map((c) => c.destroyed)).toEqual([1, 1]);
  });

  it("a launch that shows nothing within the time limit is started again", async () => {
    const db = new FakeDatabase();
    const town = instance(db, "host-a:1", { launchTimeoutMs: 30 });
    let first = true;
    town.prepare = (client) => {
      client.onInitialize = first ? "manual" : "ready";
      first = false;
    };
    await town.channel.tick();
    await ready(town);
    expect(town.clients).toHaveLength(2);
    expect(town.clients[0]!.destroyed).toBe(1);
  });

  it("logged out from the phone: said once, not retried until an admin asks to link again", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    await town.channel.tick();
    await ready(town);
    town.clients[0]!.disconnect("LOGOUT");
    await until(() => stateOf(town) === "logged_out", 1000, "logged out");
    await new Promise((resolve) => setTimeout(resolve, 100));
    await town.channel.tick();
    expect(town.clients).toHaveLength(1);
    expect(town.senders["whatsapp-web"]).toBeDefined();

    db.requests = { logout: null, relink: { at: new Date(), by: 3 } };
    await town.channel.tick();
    await ready(town);
    expect(town.clients).toHaveLength(2);
    expect(db.completed).toEqual(["relink"]);
  });

  it("an admin's logout unlinks the phone through the client and is recorded", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    await town.channel.tick();
    await ready(town);
    db.requests = { logout: { at: new Date(), by: 3 }, relink: null };
    await town.channel.tick();
    await until(() => db.completed.length === 1, 1000, "the logout recorded");
    expect(town.clients[0]!.loggedOut).toBe(1);
    expect(stateOf(town)).toBe("logged_out");
    expect(db.completed).toEqual(["logout"]);
    await until(() => db.last?.state === "logged_out", 1000, "published");
    // A second click after it is logged out changes nothing and is not audited as an action.
    db.requests = { logout: { at: new Date(), by: 4 }, relink: null };
    await town.channel.tick();
    await until(() => db.completed.length === 2, 1000, "the second request cleared");
    expect(db.completed[1]).toBe("logout (nothing to do)");
    expect(town.clients[0]!.loggedOut).toBe(1);
  });
});

describe("WhatsApp ending the session", () => {
  it("a number WhatsApp blocked is not relaunched in a loop: it waits for an admin, with the reason shown", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    await town.channel.tick();
    await ready(town);
    town.clients[0]!.disconnect("TOS_BLOCK");
    await until(() => stateOf(town) === "logged_out", 1000, "stopped");
    expect(town.channel.state().status?.detail).toContain("TOS_BLOCK");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(town.clients).toHaveLength(1);
  });

  it("a browser still starting when the session is logged out is closed once it has started (no Chromium left behind)", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    town.prepare = (client) => (client.onInitialize = "pending");
    await town.channel.tick();
    await until(() => town.clients.length === 1, 1000, "a client");
    db.requests = { logout: { at: new Date(), by: 3 }, relink: null };
    await town.channel.tick();
    await until(() => db.completed.length === 1, 1000, "the logout");
    const starting = town.clients[0]!;
    expect(starting.destroyed).toBe(1);
    starting.finishStart();
    await until(() => starting.destroyed === 2, 1000, "closed again once started");
  });
});

describe("several instances on one database", () => {
  it("a holder whose database stalls lets go before its lease can pass to another instance", async () => {
    const db = new FakeDatabase();
    const a = instance(db, "host-a:1", { leaseMs: 200, heartbeatMs: 10 });
    a.channel.start();
    await ready(a);
    db.stalled = true;
    // Before 200 ms are over (when another instance could take the lease), A has closed its browser.
    await until(() => !a.channel.state().holding, 180, "A letting go");
    expect(a.senders["whatsapp-web"]).toBeUndefined();
    expect(a.clients[0]!.destroyed).toBe(1);
  });

  it("only one holds the session: the other launches nothing and has no sender, and takes over when the lease runs out", async () => {
    const db = new FakeDatabase();
    const a = instance(db, "host-a:1", { leaseMs: 60 });
    const b = instance(db, "host-b:2", { leaseMs: 60 });
    await a.channel.tick();
    await b.channel.tick();
    await ready(a);
    expect(b.clients).toHaveLength(0);
    expect(b.senders["whatsapp-web"]).toBeUndefined();
    expect(b.channel.state()).toEqual({ holding: false, status: null });

    // A stops renewing (it died); after the lease, B takes the session.
    await new Promise((resolve) => setTimeout(resolve, 80));
    await b.channel.tick();
    await ready(b);
    expect(b.senders["whatsapp-web"]).toBeDefined();
    // A comes back: its lease is gone, so it lets go of its browser and its sender.
    await a.channel.tick();
    expect(a.channel.state().holding).toBe(false);
    expect(a.senders["whatsapp-web"]).toBeUndefined();
    expect(a.clients[0]!.destroyed).toBe(1);
  });

  it("stopping gives the lease back at once and says so", async () => {
    const db = new FakeDatabase();
    const a = instance(db);
    await a.channel.tick();
    await ready(a);
    await a.channel.stop();
    expect(db.leaseHolder).toBeNull();
    expect(db.last?.state).toBe("stopped");
    expect(a.clients[0]!.destroyed).toBe(1);
    expect(a.senders["whatsapp-web"]).toBeUndefined();
  });

  it("a database hiccup does not drop a session whose lease is still valid", async () => {
    const db = new FakeDatabase();
    const a = instance(db);
    await a.channel.tick();
    await ready(a);
    db.down = true;
    await a.channel.tick();
    expect(a.channel.state().holding).toBe(true);
    expect(a.clients[0]!.destroyed).toBe(0);
  });
});

describe("residents' messages", () => {
  it("a message arriving while the catch-up after a reconnection runs does not hide the older unread ones", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    const now = Math.floor(Date.now() / 1000);
    const whileAway = wwebMessage({ from: "96171123456@c.us", body: "the street light is out", timestamp: now - 60 });
    town.prepare = (client) => {
      client.chats = [{ id: "96171123456@c.us", unread: [whileAway] }];
      client.getChatsDelayMs = 50;
    };
    await town.channel.tick();
    await until(() => town.clients.length === 1, 1000, "a client");
    const phone = town.clients[0]!;
    // The resident writes again just as the session is back, before the chat list has been read.
    const live = wwebMessage({ from: "96171123456@c.us", body: "near the church", timestamp: now });
    phone.chats[0]!.unread.push(live);
    phone.receive(live);
    await until(() => town.received.length === 2, 2000, "both messages");
    expect(town.received.map((m) => m.text)).toEqual(["the street light is out", "near the church"]);
  });

  it("answering a resident does not mark their chat read: an unhandled message stays on the to-do list", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    await town.channel.tick();
    await ready(town);
    const phone = town.clients[0]!;
    phone.chats = [{ id: "96171123456@c.us", unread: [wwebMessage({ from: "96171123456@c.us", body: "stuck" })] }];
    expect(await town.channel.sender.send(request())).toMatchObject({ status: "sent" });
    expect(phone.markedSeenBySend).toEqual([]);
    expect(phone.chats[0]!.seen).toBeUndefined();
  });

  it("a phone number is the resident's E.164 number; a hidden number (LID) is resolved and remembered", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    await town.channel.tick();
    await ready(town);
    const phone = town.clients[0]!;
    phone.lids.set("123456789012345@lid", "96170555111@c.us");
    phone.receive(wwebMessage({ from: "96171123456@c.us", body: "marhaba" }));
    phone.receive(wwebMessage({ from: "123456789012345@lid", body: "salam" }));
    await until(() => town.received.length === 2, 1000, "two messages");
    expect(town.received.map((m) => [m.from, m.verifiedPhone, m.route])).toEqual([
      ["+96171123456", true, "whatsapp-web"],
      ["+96170555111", true, "whatsapp-web"],
    ]);
    expect(db.lids.get("123456789012345")).toBe("+96170555111");

    // WhatsApp forgets (or cannot be asked): the stored mapping still answers.
    phone.lids.clear();
    phone.receive(wwebMessage({ from: "123456789012345@lid", body: "kifak" }));
    await until(() => town.received.length === 3, 1000, "a third message");
    expect(town.received[2]).toMatchObject({ from: "+96170555111", verifiedPhone: true });
  });

  it("a LID nobody can resolve keys the resident by the LID, without a verified phone", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    await town.channel.tick();
    await ready(town);
    town.clients[0]!.receive(wwebMessage({ from: "987654321098765@lid", body: "shu raside?" }));
    await until(() => town.received.length === 1, 1000, "the message");
    expect(town.received[0]).toMatchObject({ from: "lid:987654321098765", verifiedPhone: false });
    expect(db.lids.size).toBe(0);
  });

  it("a message whose handling failed stays unread and is handed over again at the next sweep", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    await town.channel.tick();
    await ready(town);
    const phone = town.clients[0]!;
    const message = wwebMessage({ from: "96171123456@c.us", body: "fi mechkle bel kahraba" });
    phone.chats = [{ id: "96171123456@c.us", unread: [message] }];
    town.failNextMessages = 1;
    phone.receive(message);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(town.received).toHaveLength(0);
    expect(phone.chats[0]!.seen).toBeUndefined();
    // A reconnection (or the periodic sweep) reads the unread chat again.
    town.prepare = (client) => (client.chats = phone.chats);
    phone.disconnect("CONFLICT");
    await until(() => town.clients.length === 2, 2000, "a new client");
    await ready(town);
    await until(() => town.received.length === 1, 2000, "the message handled");
    expect(town.received[0]!.text).toBe("fi mechkle bel kahraba");
    // Handled at last: the chat is marked seen on the phone.
    await until(() => phone.chats[0]!.seen === true, 1000, "the chat seen");
  });
});

describe("sending", () => {
  it("waits while the session is not ready: a send then is refused as retryable, pace() holds rows back", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    town.prepare = (client) => (client.onInitialize = "qr");
    await town.channel.tick();
    await until(() => stateOf(town) === "waiting_for_qr", 1000, "QR");
    expect(await town.channel.sender.send(request())).toMatchObject({ status: "failed", retryable: true, code: "not_ready" });
    const paced = town.channel.sender.pace!(request(), AbortSignal.timeout(2000));
    town.clients[0]!.becomeReady();
    await paced;
    expect(await town.channel.sender.send(request())).toMatchObject({ status: "sent" });
    expect(town.clients[0]!.sent).toEqual([{ chatId: "96171123456@c.us", content: "Your request #10427 is resolved.", id: expect.any(String) }]);
  });

  it("refuses what this channel cannot carry, without retrying: SMS, Twilio templates, an address that is not WhatsApp", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    await town.channel.tick();
    await ready(town);
    const send = town.channel.sender.send;
    expect(await send(request({ channel: "sms", to: "+96171123456" }))).toMatchObject({ status: "failed", retryable: false, code: "unsupported_channel" });
    expect(await send(request({ contentSid: "HX0123456789abcdef0123456789abcdef" }))).toMatchObject({ status: "failed", retryable: false, code: "template_unsupported" });
    expect(await send(request({ to: "whatsapp:not-a-number" }))).toMatchObject({ status: "failed", retryable: false, code: "invalid_address" });
    // A resident known only by a LID is written to at the LID.
    expect(await send(request({ to: "whatsapp:lid:987654321098765" }))).toMatchObject({ status: "sent" });
    expect(town.clients[0]!.sent.at(-1)?.chatId).toBe("987654321098765@lid");
  });

  it("a send with no answer is unconfirmed (ambiguous); the chat's history then tells whether it left", async () => {
    const db = new FakeDatabase();
    const town = instance(db, "host-a:1", { sendTimeoutMs: 30 });
    await town.channel.tick();
    await ready(town);
    const phone = town.clients[0]!;
    phone.sendBehaviour = ["hang"];
    const since = new Date(Date.now() - 1000);
    expect(await town.channel.sender.send(request())).toMatchObject({ status: "failed", retryable: true, ambiguous: true, code: "timeout" });
    // While the browser is still at it, nobody can tell yet: the outbox asks again later.
    await expect(town.channel.sender.findAccepted(request(), since, new Set())).rejects.toThrow(/earlier send/);
    // Once it is over (here: after a restart, a row whose send was lost with the process):
    const later = request({ outboxId: 8 });
    // It did not leave: nothing in the chat, so sending again is right.
    phone.chats = [{ id: "96171123456@c.us", unread: [] }];
    expect(await town.channel.sender.findAccepted(later, since, new Set())).toBeNull();
    // It did leave: the chat has our message with that text since the try started.
    const left = wwebMessage({ from: "96171123456@c.us", fromMe: true, body: "Your request #10427 is resolved.", timestamp: Math.floor(Date.now() / 1000) });
    phone.chats = [{ id: "96171123456@c.us", unread: [], history: [left] }];
    expect(await town.channel.sender.findAccepted(later, since, new Set())).toBe(left.id._serialized);
    // Unless that message is another row's send, recorded already.
    expect(await town.channel.sender.findAccepted(later, since, new Set([left.id._serialized]))).toBeNull();
  });

  it("the browser dying mid-send is ambiguous; an unknown number is final", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    await town.channel.tick();
    await ready(town);
    const phone = town.clients[0]!;
    phone.sendBehaviour = [new Error("Protocol error (Runtime.callFunctionOn): Session closed. Most likely the page has been closed."), new Error("No LID for user")];
    expect(await town.channel.sender.send(request())).toMatchObject({ status: "failed", retryable: true, ambiguous: true });
    expect(await town.channel.sender.send(request())).toMatchObject({ status: "failed", retryable: false, code: "not_on_whatsapp" });
  });

  it("sends from several outbox workers at once still take their turns one by one, with the gap between them", async () => {
    const db = new FakeDatabase();
    const town = instance(db, "host-a:1", { gapMs: { min: 40, max: 40 } });
    await town.channel.tick();
    await ready(town);
    const at: number[] = [];
    const phone = town.clients[0]!;
    const original = phone.sendMessage.bind(phone);
    phone.sendMessage = async (chatId, content) => {
      at.push(Date.now());
      return original(chatId, content);
    };
    const passed: number[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        town.channel.sender.pace!(request({ outboxId: n })).then(() => {
          passed.push(Date.now());
          return town.channel.sender.send(request({ outboxId: n }));
        }),
      ),
    );
    expect(phone.sent).toHaveLength(3);
    // pace() itself takes the turn: the workers pass one by one, so none waits inside send() with its row claimed.
    expect(passed[2]! - passed[0]!).toBeGreaterThanOrEqual(70);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(35);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(35);
  });

  it("acknowledgements become delivery reports naming the outbox row and try", async () => {
    const db = new FakeDatabase();
    const town = instance(db);
    await town.channel.tick();
    await ready(town);
    const sent = await town.channel.sender.send(request({ outboxId: 41, attempt: 1700000000000 }));
    if (sent.status !== "sent") throw new Error("not sent");
    const phone = town.clients[0]!;
    for (const ack of [ACK.PENDING, ACK.SERVER, ACK.DEVICE, ACK.READ, ACK.PLAYED, ACK.ERROR]) phone.ack(sent.providerMessageId, ack);
    await until(() => town.receipts.length === 5, 1000, "five reports");
    expect(town.receipts.map((r) => r.status)).toEqual(["sent", "delivered", "read", "read", "failed"]);
    expect(town.receipts[0]).toEqual({ providerMessageId: sent.providerMessageId, status: "sent", outboxId: 41, attempt: 1700000000000 });
  });
});
