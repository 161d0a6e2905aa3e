import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { androidSender, messageIdOf, type AndroidSenderOptions } from "../../../src/channels/android/androidSender.js";
import type { OutboundRequest } from "../../../src/channels/sender.js";

// A scripted stand-in for the phone's local server (or the cloud's API) on loopback: it records
// every request and answers as each test says.
const TIMEOUT_MS = 300;

interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let server: http.Server;
let phoneUrl: string;
let handler: Handler;
let seen: Seen[];

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    seen.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization, contentType: req.headers["content-type"], body: text ? JSON.parse(text) : undefined });
    handler(req, res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  phoneUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
  handler = (_req, res) => json(res, 500, { message: "no script" });
});

const json = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
};

const sender = (overrides: Partial<AndroidSenderOptions> = {}) => androidSender({ url: phoneUrl, username: "sms", password: "pässwörd:1", keepAlive: false, timeoutMs: TIMEOUT_MS, ...overrides });

const ATTEMPT = 1_718_000_000_000;
const ID = `bl-42-${ATTEMPT}`;
const LONG_ARABIC = "تم استلام طلبك رقم ١٢٣٤. سيتواصل معك موظف البلدية خلال يومي عمل. للاستعلام أرسل 2، وللعودة إلى القائمة أرسل 0.";
const sms: OutboundRequest = { outboxId: 42, channel: "sms", to: "+96170123456", body: LONG_ARABIC, attempt: ATTEMPT };

// What the phone answers to an accepted message (the local server's Message, abridged).
const accepted = (id = ID) => ({ id, deviceId: "ffffffffceb0b1db0000018e937c815b", state: "Pending", isHashed: false, isEncrypted: false, recipients: [{ phoneNumber: "+96170123456", state: "Pending" }] });

const BASIC = `Basic ${Buffer.from("sms:pässwörd:1", "latin1").toString("base64")}`;

describe("androidSender.send", () => {
  it("posts one message with our id, the number, the SIM and a delivery report, with Basic auth", async () => {
    handler = (_req, res) => json(res, 202, accepted());
    const result = await sender({ simNumber: 2 }).send(sms);
    expect(result).toEqual({ status: "sent", providerMessageId: ID });
    expect(seen).toEqual([
      {
        method: "POST",
        path: "/message?skipPhoneValidation=true",
        authorization: BASIC,
        contentType: "application/json; charset=utf-8",
        body: { id: ID, message: LONG_ARABIC, phoneNumbers: ["+96170123456"], simNumber: 2, withDeliveryReport: true },
      },
    ]);
  });

  it("leaves the SIM to the phone when none is configured, and sends under the cloud's path", async () => {
    handler = (_req, res) => json(res, 202, accepted());
    await sender({ url: `${phoneUrl}/3rdparty/v1/` }).send(sms);
    expect(seen[0]?.path).toBe("/3rdparty/v1/message?skipPhoneValidation=true");
    expect(seen[0]?.body).toEqual({ id: ID, message: LONG_ARABIC, phoneNumbers: ["+96170123456"], withDeliveryReport: true });
  });

  it("names a message without a try as try 0", async () => {
    handler = (_req, res) => json(res, 202, accepted("bl-7-0"));
    expect(await sender().send({ ...sms, outboxId: 7, attempt: undefined })).toEqual({ status: "sent", providerMessageId: "bl-7-0" });
    expect(seen[0]?.body).toMatchObject({ id: "bl-7-0" });
    expect(messageIdOf({ outboxId: 7 })).toBe("bl-7-0");
  });

  it("strips a stray whatsapp: prefix from an SMS address", async () => {
    handler = (_req, res) => json(res, 202, accepted());
    await sender().send({ ...sms, to: "whatsapp:+96170123456" });
    expect(seen[0]?.body).toMatchObject({ phoneNumbers: ["+96170123456"] });
  });

  it.each<[string, Handler, unknown]>([
    ["202 with the message", (_q, res) => json(res, 202, accepted()), { status: "sent", providerMessageId: ID }],
    ["201 with an empty body", (_q, res) => json(res, 201, ""), { status: "sent", providerMessageId: ID }],
    ["202 that is not JSON", (_q, res) => json(res, 202, "<ok/>", { "Content-Type": "text/xml" }), { status: "sent", providerMessageId: ID }],
    ["409: it has a message with this id already", (_q, res) => json(res, 409, { message: "Message with the same ID already exists" }), { status: "sent", providerMessageId: ID }],
    ["400 with the phone's reason", (_q, res) => json(res, 400, { message: "Text message is empty" }), { status: "failed", retryable: false, code: "400", message: "Text message is empty" }],
    ["422", (_q, res) => json(res, 422, { message: "invalid phone number" }), { status: "failed", retryable: false, code: "422", message: "invalid phone number" }],
    ["401 (credentials changed on the phone)", (_q, res) => json(res, 401, { message: "Unauthorized" }), { status: "failed", retryable: true, code: "401", message: "Unauthorized" }],
    ["403", (_q, res) => json(res, 403, ""), { status: "failed", retryable: true, code: "403", message: "HTTP 403" }],
    ["404 (the URL lacks /3rdparty/v1)", (_q, res) => json(res, 404, ""), { status: "failed", retryable: true, code: "404", message: "HTTP 404" }],
    ["429", (_q, res) => json(res, 429, { message: "Too many requests" }), { status: "failed", retryable: true, code: "429", message: "Too many requests" }],
    ["500", (_q, res) => json(res, 500, { message: "Internal Server Error" }), { status: "failed", retryable: true, ambiguous: true, code: "500", message: "Internal Server Error" }],
    ["502 from a proxy (HTML)", (_q, res) => json(res, 502, "<html>Bad Gateway</html>", { "Content-Type": "text/html" }), { status: "failed", retryable: true, ambiguous: true, code: "502", message: "HTTP 502" }],
    ["503: the cloud's queue is full", (_q, res) => json(res, 503, { message: "queue limit exceeded" }), { status: "failed", retryable: true, ambiguous: true, code: "503", message: "queue limit exceeded" }],
  ])("when the gateway answers %s", async (_label, script, expected) => {
    handler = script;
    expect(await sender().send(sms)).toEqual(expected);
    expect(seen).toHaveLength(1);
  });

  it("no answer in time: retryable and ambiguous (the phone may have taken it)", async () => {
    handler = (_q, res) => setTimeout(() => json(res, 202, accepted()), TIMEOUT_MS + 200);
    const started = Date.now();
    const result = await sender().send(sms);
    expect(result).toMatchObject({ status: "failed", retryable: true, ambiguous: true, code: "ETIMEDOUT" });
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 150);
  });

  it("the connection dropped after the request: retryable and ambiguous", async () => {
    handler = (req) => req.socket.destroy();
    expect(await sender().send(sms)).toMatchObject({ status: "failed", retryable: true, ambiguous: true, code: "ECONNRESET" });
  });

  it("an answer cut short: retryable and ambiguous", async () => {
    handler = (_q, res) => {
      res.writeHead(202, { "Content-Type": "application/json", "Content-Length": "500" });
      res.write('{"id":"bl-');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    expect(await sender().send(sms)).toMatchObject({ status: "failed", retryable: true, ambiguous: true, code: "ECONNRESET" });
  });

  it("the phone is off the LAN (connection refused): retryable, and certainly not sent", async () => {
    const closed = http.createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await sender({ url: `http://127.0.0.1:${port}` }).send(sms);
    expect(result).toMatchObject({ status: "failed", retryable: true, code: "ECONNREFUSED" });
    expect(result).not.toHaveProperty("ambiguous");
  });

  it.each<[string, OutboundRequest, string]>([
    ["a WhatsApp message", { ...sms, channel: "whatsapp", to: "whatsapp:+96170123456" }, "unsupported_channel"],
    ["a WhatsApp template", { ...sms, contentSid: "HX0123456789abcdef0123456789abcdef", contentVariables: '{"1":"42"}' }, "unsupported_channel"],
    ["a national number", { ...sms, to: "70123456" }, "invalid_number"],
    ["an address that is not a number", { ...sms, to: "+9617012abc" }, "invalid_number"],
  ])("refuses %s without asking the phone", async (_label, request, code) => {
    expect(await sender().send(request)).toMatchObject({ status: "failed", retryable: false, code });
    expect(seen).toEqual([]);
  });

  it("refuses options that cannot work, at once", () => {
    expect(() => sender({ perMinute: 0 })).toThrow(/perMinute/);
    expect(() => sender({ perMinute: 2.5 })).toThrow(/perMinute/);
    expect(() => sender({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => sender({ simNumber: 0 })).toThrow(/simNumber/);
    expect(() => sender({ url: "ftp://192.168.1.20" })).toThrow(/http/);
    expect(() => sender({ url: "192.168.1.20:8080" })).toThrow();
  });
});

describe("androidSender.findAccepted", () => {
  const since = new Date("2024-06-10T06:00:00Z");

  it("finds the message the phone took under this row's id and try", async () => {
    handler = (_q, res) => json(res, 200, { ...accepted(), state: "Sent" });
    expect(await sender().findAccepted(sms, since, new Set())).toBe(ID);
    expect(seen).toEqual([{ method: "GET", path: `/message/${ID}`, authorization: BASIC, contentType: undefined, body: undefined }]);
  });

  it("does not match a message already recorded for another row or try", async () => {
    handler = (_q, res) => json(res, 200, accepted());
    expect(await sender().findAccepted(sms, since, new Set([ID]))).toBeNull();
  });

  it("nothing under this id (404): null, so the message is sent again", async () => {
    handler = (_q, res) => json(res, 404, "");
    expect(await sender().findAccepted(sms, since, new Set())).toBeNull();
  });

  it.each<[string, Handler]>([
    ["answers 500", (_q, res) => json(res, 500, { message: "failed to get message state" })],
    ["answers 401", (_q, res) => json(res, 401, { message: "Unauthorized" })],
    ["does not answer in time", (_q, res) => setTimeout(() => json(res, 200, accepted()), TIMEOUT_MS + 200)],
  ])("throws when the gateway %s: the worker could not ask", async (_label, script) => {
    handler = script;
    await expect(sender().findAccepted(sms, since, new Set())).rejects.toThrow();
  });

  it("asks nothing for a message the gateway could never have taken", async () => {
    expect(await sender().findAccepted({ ...sms, channel: "whatsapp" }, since, new Set())).toBeNull();
    expect(seen).toEqual([]);
  });
});

describe("androidSender.pace", () => {
  // One SMS part; pace counts parts, as Android's own limit does.
  const short: OutboundRequest = { ...sms, body: "Your request is filed." };
  /** A clock that only moves when told, and a sleep that moves it. */
  function fakeTime() {
    const time = { now: 0, sleeps: [] as number[] };
    const clock = () => time.now;
    const sleep = async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      time.sleeps.push(ms);
      time.now += ms;
    };
    return { time, clock, sleep };
  }

  it("lets 25 through in a minute; the 26th waits until the first slot is a minute old", async () => {
    const { time, clock, sleep } = fakeTime();
    const paced = sender({ clock, sleep });
    await paced.pace?.(short);
    for (let i = 1; i < 25; i++) {
      time.now = i * 1000;
      await paced.pace?.(short);
    }
    expect(time.sleeps).toEqual([]);
    time.now = 30_000;
    await paced.pace?.(short);
    expect(time.sleeps).toEqual([30_000]);
    expect(time.now).toBe(60_000);
    // The 27th: the oldest slot now is the one taken at 1s.
    await paced.pace?.(short);
    expect(time.sleeps).toEqual([30_000, 1000]);
    expect(time.now).toBe(61_000);
  });

  it("keeps to perMinute in every 60 seconds, however the calls fall", async () => {
    const { time, clock, sleep } = fakeTime();
    const paced = sender({ clock, sleep, perMinute: 5 });
    const grants: number[] = [];
    for (let i = 0; i < 40; i++) {
      time.now += (i * 7919) % 23_000;
      await paced.pace?.(short);
      grants.push(time.now);
    }
    for (const start of grants) expect(grants.filter((t) => t >= start && t < start + 60_000).length).toBeLessThanOrEqual(5);
  });

  it("two callers waiting for one free slot: one goes, the other waits for the next", async () => {
    let now = 0;
    const wakers: Array<() => void> = [];
    const sleep = (ms: number) => new Promise<void>((resolve) => wakers.push(() => ((now = Math.max(now, ms)), resolve())));
    const paced = sender({ clock: () => now, sleep, perMinute: 1 });
    await paced.pace?.(short);
    const order: string[] = [];
    const a = paced.pace?.(short).then(() => order.push("a"));
    const b = paced.pace?.(short).then(() => order.push("b"));
    await Promise.resolve();
    expect(wakers).toHaveLength(2);
    now = 60_000;
    wakers.splice(0).forEach((wake) => wake());
    await a;
    await new Promise((resolve) => setImmediate(resolve));
    // b found the slot taken by a and went back to waiting.
    expect(order).toEqual(["a"]);
    expect(wakers).toHaveLength(1);
    now = 120_000;
    wakers.splice(0).forEach((wake) => wake());
    await b;
    expect(order).toEqual(["a", "b"]);
  });

  it("rejects with the signal's reason when aborted while waiting (real timers)", async () => {
    const paced = sender({ perMinute: 1 });
    await paced.pace?.(short);
    const stopping = new AbortController();
    const waiting = paced.pace?.(short, stopping.signal);
    setTimeout(() => stopping.abort(new Error("shutting down")), 20);
    await expect(waiting).rejects.toThrow("shutting down");
  });

  it("counts a long Arabic answer as the SMS parts it is sent in", async () => {
    const { time, clock, sleep } = fakeTime();
    const paced = sender({ clock, sleep, perMinute: 5 });
    // LONG_ARABIC is two UCS-2 parts: two of them and one short SMS fill five slots.
    await paced.pace?.(sms);
    time.now = 1000;
    await paced.pace?.(sms);
    time.now = 2000;
    await paced.pace?.(short);
    expect(time.sleeps).toEqual([]);
    time.now = 3000;
    // Two more parts: the two slots taken at 0 s must leave the window first.
    await paced.pace?.(sms);
    expect(time.sleeps).toEqual([57_000]);
    // A message longer than the whole budget waits for an empty minute, then goes.
    const huge = sender({ clock, sleep, perMinute: 2 });
    await huge.pace?.({ ...sms, body: "أ".repeat(400) });
    expect(time.sleeps).toHaveLength(1);
  });

  it("takes no slot once aborted", async () => {
    const { clock, sleep } = fakeTime();
    const paced = sender({ clock, sleep, perMinute: 1 });
    const stopped = new AbortController();
    stopped.abort(new Error("stopped"));
    await expect(paced.pace?.(short, stopped.signal)).rejects.toThrow("stopped");
    // The slot is still free for the next run.
    await paced.pace?.(short);
  });
});
