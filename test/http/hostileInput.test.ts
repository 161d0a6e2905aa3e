import { randomBytes } from "node:crypto";
import type { Express } from "express";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/createApp.js";
import { replyToTicket } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { newPhone, residentFiles, staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld } from "../support/testApp.js";
import {
  newSid,
  OUR_SMS_NUMBER,
  OUR_WHATSAPP_NUMBER,
  postToTwilioWebhook,
  TWILIO_ACCOUNT_SID,
  twilioPayload,
  type TwilioFixture,
} from "../support/twilio.js";

// Issue 7, part 4: on PostgreSQL a NUL byte, an 8 KB message id or an out-of-range outbox id were
// 500s from the database. Every one of them must be a 400 (or 403) before anything is written.

let world: World;
let agent: Actor;
/** The app as deployed with TWILIO_ACCOUNT_SID, TWILIO_SMS_FROM and TWILIO_WHATSAPP_FROM set. */
let configured: Express;
beforeAll(async () => {
  world = await createTestWorld();
  agent = await staffMember(world, { username: "nadia", departments: ["public_works"] });
  configured = createApp({
    ...world.deps,
    twilio: { ...world.deps.twilio, accountSid: TWILIO_ACCOUNT_SID, smsFrom: OUR_SMS_NUMBER, whatsappFrom: OUR_WHATSAPP_NUMBER },
  });
});
afterAll(async () => {
  await world.drop();
});

/** Rows a webhook could write: none of them may change when a request is refused. */
async function rowCounts() {
  const [messages, residents, identities, conversations, tickets, outbox] = await Promise.all([
    world.db.message.count(),
    world.db.resident.count(),
    world.db.channelIdentity.count(),
    world.db.conversation.count(),
    world.db.ticket.count(),
    world.db.outbox.count(),
  ]);
  return { messages, residents, identities, conversations, tickets, outbox };
}

const NUL = "\u0000";
const hex = (n: number) => "0123456789abcdef".repeat(Math.ceil(n / 16)).slice(0, n);

describe("inbound webhook: text fields with a NUL are stored without it", () => {
  // Twilio never sends a NUL; a resident's message is still worth answering, so the adapter strips it.
  it.each<[string, TwilioFixture, Record<string, string | undefined>, (stored: { body: string; locationLabel: string | null; resident: { profileName: string | null } }) => unknown, unknown]>([
    ["Body", "sms", { Body: `مر${NUL}حبا` }, (m) => m.body, "مرحبا"],
    ["ProfileName", "whatsapp-text", { ProfileName: `Ri${NUL}ma` }, (m) => m.resident.profileName, "Rima"],
    ["Address", "whatsapp-location", { Address: `Main Road${NUL}, Qab Elias`, Label: undefined }, (m) => m.locationLabel, "Main Road, Qab Elias"],
    ["Label", "whatsapp-location", { Label: `${NUL}Municipality` }, (m) => m.locationLabel, "Municipality"],
  ])("a NUL in %s → 200, stored without the NUL", async (_field, fixture, overrides, storedField, expected) => {
    const phone = newPhone();
    const fields = twilioPayload(fixture, { From: fixture === "sms" ? phone : `whatsapp:${phone}`, ...overrides });
    const res = await postToTwilioWebhook(world.app, fields);
    expect(res.status).toBe(200);
    const stored = await world.db.message.findFirstOrThrow({ where: { providerMessageId: fields.MessageSid }, include: { resident: true } });
    expect(storedField(stored)).toBe(expected);
    expect(JSON.stringify(stored)).not.toContain("\\u0000");
  });
});

describe("inbound webhook: malformed provider ids are a 400 and write nothing", () => {
  it.each<[string, Record<string, string | undefined>, string]>([
    ["a NUL in SmsMessageSid (no MessageSid)", { MessageSid: undefined, SmsMessageSid: `SM${hex(16)}${NUL}${hex(15)}` }, "SmsMessageSid is not a Twilio message SID"],
    ["a 9 KB SmsMessageSid (no MessageSid)", { MessageSid: undefined, SmsMessageSid: `SM${randomBytes(4500).toString("hex")}` }, "SmsMessageSid is not a Twilio message SID"],
    ["a NUL in MessageSid", { MessageSid: `SM${hex(31)}${NUL}` }, "MessageSid is not a Twilio message SID"],
    ["a MessageSid one digit short", { MessageSid: `SM${hex(31)}` }, "MessageSid is not a Twilio message SID"],
    ["a MessageSid one digit long", { MessageSid: `SM${hex(33)}` }, "MessageSid is not a Twilio message SID"],
    ["a MessageSid that is not hex", { MessageSid: `SM${"z".repeat(32)}` }, "MessageSid is not a Twilio message SID"],
    ["a call SID for a message", { MessageSid: `CA${hex(32)}` }, "MessageSid is not a Twilio message SID"],
    ["a lower-case prefix", { MessageSid: `sm${hex(32)}` }, "MessageSid is not a Twilio message SID"],
    ["a malformed AccountSid", { AccountSid: `AC${hex(31)}${NUL}` }, "AccountSid is not a Twilio account SID"],
  ])("%s → 400", async (_case, overrides, message) => {
    const before = await rowCounts();
    const res = await postToTwilioWebhook(world.app, twilioPayload("sms", { From: newPhone(), Body: "hi", ...overrides }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: message });
    expect(await rowCounts()).toEqual(before);
  });

  it.each<[TwilioFixture]>([["sms"], ["whatsapp-text"], ["whatsapp-location"], ["whatsapp-image"], ["whatsapp-voice"]])(
    "the real %s payload, ids as Twilio sends them (SM for text, MM with media), is accepted",
    async (fixture) => {
      const phone = newPhone();
      const res = await postToTwilioWebhook(world.app, twilioPayload(fixture, { From: fixture === "sms" ? phone : `whatsapp:${phone}` }));
      expect(res.status).toBe(200);
    },
  );
});

describe("inbound webhook: every other field is bounded", () => {
  it.each<[string, number, TwilioFixture, Record<string, string | undefined>, string?]>([
    ["an SMS of 1600 characters (Twilio's maximum)", 200, "sms", { Body: "ب".repeat(1600) }],
    ["an SMS of 1601 characters", 400, "sms", { Body: "b".repeat(1601) }, "Body is longer than 1600 characters"],
    ["a WhatsApp text of 4096 emoji", 200, "whatsapp-text", { Body: "🚧".repeat(4096) }],
    ["a WhatsApp text of 4097 characters", 400, "whatsapp-text", { Body: "b".repeat(4097) }, "Body is longer than 4096 characters"],
    ["a 300-character ProfileName", 400, "whatsapp-text", { ProfileName: "R".repeat(300) }, "ProfileName is longer than 200 characters"],
    ["a NUL in From", 400, "sms", { From: `+96171${NUL}123456` }, "From is not a valid phone number"],
    ["a 5000-character From", 400, "sms", { From: "7".repeat(5000) }, "From is not a valid phone number"],
    ["a MediaUrl that is not https", 400, "whatsapp-image", { MediaUrl0: "file:///etc/passwd" }, "MediaUrl0 is not an https URL"],
    ["a NUL in a MediaUrl", 400, "whatsapp-image", { MediaUrl0: `https://api.twilio.com/x${NUL}` }, "MediaUrl0 is not an https URL"],
    ["a MediaContentType that is not a type", 400, "whatsapp-image", { MediaContentType0: `image/jpeg${NUL}` }, "MediaContentType0 is not a media type"],
    ["NumMedia of 11", 400, "whatsapp-image", { NumMedia: "11" }, "NumMedia is not a number from 0 to 10"],
    ["NumMedia in hex", 400, "whatsapp-image", { NumMedia: "0x1" }, "NumMedia is not a number from 0 to 10"],
    ["a Latitude of 91", 400, "whatsapp-location", { Latitude: "91" }, "Latitude is not a latitude"],
    ["a Latitude with a NUL", 400, "whatsapp-location", { Latitude: `33.7${NUL}` }, "Latitude is not a latitude"],
  ])("%s → %i", async (_case, status, fixture, overrides, message) => {
    const before = await rowCounts();
    const phone = newPhone();
    const res = await postToTwilioWebhook(world.app, twilioPayload(fixture, { From: fixture === "sms" ? phone : `whatsapp:${phone}`, ...overrides }));
    expect(res.status).toBe(status);
    if (message) {
      expect(res.body).toEqual({ error: message });
      expect(await rowCounts()).toEqual(before);
    }
  });
});

describe("inbound webhook: only our account and our numbers", () => {
  it("a message for our account and our numbers is answered", async () => {
    const sms = await postToTwilioWebhook(configured, twilioPayload("sms", { From: newPhone() }));
    expect(sms.status).toBe(200);
    const whatsapp = await postToTwilioWebhook(configured, twilioPayload("whatsapp-text", { From: `whatsapp:${newPhone()}` }));
    expect(whatsapp.status).toBe(200);
  });

  it.each<[string, TwilioFixture, Record<string, string | undefined>, string]>([
    ["another account's AccountSid", "sms", { AccountSid: `AC${"f".repeat(32)}` }, "AccountSid is not this deployment's Twilio account (TWILIO_ACCOUNT_SID)"],
    ["no AccountSid", "sms", { AccountSid: undefined }, "AccountSid is not this deployment's Twilio account (TWILIO_ACCOUNT_SID)"],
    ["an SMS to another number", "sms", { To: "+9611555999" }, "To is not this deployment's SMS number (TWILIO_SMS_FROM)"],
    ["an SMS to our WhatsApp address", "sms", { To: OUR_WHATSAPP_NUMBER }, "To is not this deployment's SMS number (TWILIO_SMS_FROM)"],
    ["a WhatsApp message to another number", "whatsapp-text", { To: "whatsapp:+9611555999" }, "To is not this deployment's WhatsApp number (TWILIO_WHATSAPP_FROM)"],
    ["a WhatsApp message without To", "whatsapp-text", { To: undefined }, "To is not this deployment's WhatsApp number (TWILIO_WHATSAPP_FROM)"],
  ])("%s → 403", async (_case, fixture, overrides, message) => {
    const before = await rowCounts();
    const phone = newPhone();
    const res = await postToTwilioWebhook(configured, twilioPayload(fixture, { From: fixture === "sms" ? phone : `whatsapp:${phone}`, ...overrides }));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: message });
    expect(await rowCounts()).toEqual(before);
  });

  it("without TWILIO_ACCOUNT_SID and numbers configured, any well-formed AccountSid and To are accepted", async () => {
    const res = await postToTwilioWebhook(world.app, twilioPayload("sms", { From: newPhone(), AccountSid: `AC${"f".repeat(32)}`, To: "+9611555999" }));
    expect(res.status).toBe(200);
  });
});

describe("status callback: hostile input is a 400 and changes nothing", () => {
  /** A staff reply the worker has handed to Twilio as `sid`. */
  async function sentReply(sid: string) {
    const { reference } = await residentFiles(world);
    const result = await world.db.$transaction((tx) => replyToTicket(tx, { ...world.deps.outbox, now: new Date() }, agent, reference, "On our way"));
    if (!result.ok) throw new Error(result.message);
    const { messageId } = result.delivery;
    const outbox = await world.db.outbox.findUniqueOrThrow({ where: { messageId } });
    await world.db.outbox.update({ where: { id: outbox.id }, data: { status: "sent", providerMessageId: sid } });
    await world.db.message.update({ where: { id: messageId }, data: { status: "sent", providerMessageId: sid } });
    return { messageId, outboxId: outbox.id };
  }
  const callback = (app: Express, fields: Record<string, string | undefined>, query = "") =>
    postToTwilioWebhook(
      app,
      Object.fromEntries(Object.entries({ MessageStatus: "delivered", AccountSid: TWILIO_ACCOUNT_SID, ApiVersion: "2010-04-01", ...fields }).filter((e): e is [string, string] => e[1] !== undefined)),
      { path: `/webhooks/twilio/status${query}` },
    );

  it.each([
    ["2147483648", "one past PostgreSQL's integer"],
    ["99999999999999999999", "a huge number"],
    ["0", "zero"],
    ["-1", "negative"],
    ["1.5", "a fraction"],
    ["1e3", "an exponent"],
    ["0x10", "hex"],
    ["abc", "not a number"],
    ["", "empty"],
    ["%00", "a NUL"],
  ])("outbox=%s (%s) → 400", async (outbox) => {
    const res = await callback(world.app, { MessageSid: newSid() }, `?outbox=${outbox}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/outbox|NUL/);
  });

  it("outbox=2147483647, the largest id, is a well-formed callback for an unknown message → 204", async () => {
    expect((await callback(world.app, { MessageSid: newSid() }, "?outbox=2147483647")).status).toBe(204);
  });

  it("outbox given twice → 400", async () => {
    expect((await callback(world.app, { MessageSid: newSid() }, "?outbox=1&outbox=2")).status).toBe(400);
  });

  it.each<[string, Record<string, string | undefined>, RegExp]>([
    ["a NUL in ErrorMessage", { MessageStatus: "undelivered", ErrorCode: "30003", ErrorMessage: `Unreachable${NUL} handset` }, /NUL/],
    ["a NUL in MessageStatus", { MessageStatus: `failed${NUL}` }, /NUL/],
    ["a MessageStatus with spaces", { MessageStatus: "de livered" }, /MessageStatus/],
    ["a 100-character MessageStatus", { MessageStatus: "d".repeat(100) }, /MessageStatus/],
    ["an ErrorCode that is not a number", { MessageStatus: "failed", ErrorCode: "30003x" }, /ErrorCode/],
    ["a 2000-character ErrorMessage", { MessageStatus: "failed", ErrorCode: "30003", ErrorMessage: "e".repeat(2000) }, /ErrorMessage/],
    ["a MessageSid of 9 KB", { MessageSid: `SM${randomBytes(4500).toString("hex")}` }, /MessageSid/],
    ["a malformed AccountSid", { AccountSid: "AC123" }, /AccountSid/],
  ])("%s → 400, the message keeps its status", async (_case, fields, problem) => {
    const sid = newSid();
    const { messageId } = await sentReply(sid);
    const before = await world.db.message.findUniqueOrThrow({ where: { id: messageId } });
    const res = await callback(world.app, { MessageSid: sid, ...fields });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(problem);
    expect(await world.db.message.findUniqueOrThrow({ where: { id: messageId } })).toEqual(before);
  });

  it("a callback from another account → 403, the message keeps its status", async () => {
    const sid = newSid();
    const { messageId } = await sentReply(sid);
    const res = await callback(configured, { MessageSid: sid, AccountSid: `AC${"f".repeat(32)}` });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: "AccountSid is not this deployment's Twilio account (TWILIO_ACCOUNT_SID)" });
    expect((await world.db.message.findUniqueOrThrow({ where: { id: messageId } })).status).toBe("sent");
  });

  it("a well-formed callback from our account is applied", async () => {
    const sid = newSid("MM");
    const { messageId, outboxId } = await sentReply(sid);
    expect((await callback(configured, { MessageSid: sid, MessageStatus: "undelivered", ErrorCode: "30003", ErrorMessage: "Unreachable destination handset" }, `?outbox=${outboxId}`)).status).toBe(204);
    expect(await world.db.message.findUniqueOrThrow({ where: { id: messageId } })).toMatchObject({ status: "undelivered", errorCode: "30003" });
  });
});

describe("a flood of badly signed requests does not flood the log", () => {
  it("logs the first few per minute, then one line with how many were left out", async () => {
    const lines: { msg: string; suppressed?: number }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    let now = new Date("2026-03-01T10:00:00Z");
    const app = createApp({ ...world.deps, logger, clock: () => now });
    const fields = twilioPayload("sms", { From: newPhone(), Body: "hi" });
    for (let i = 0; i < 60; i++) {
      const res = await postToTwilioWebhook(app, fields, { signature: "bm90IGEgc2lnbmF0dXJl" });
      expect(res.status).toBe(403);
    }
    const rejected = lines.filter((l) => /bad signature/.test(l.msg));
    expect(rejected).toHaveLength(10);

    now = new Date("2026-03-01T10:01:00Z");
    await postToTwilioWebhook(app, fields, { signature: null });
    expect(lines.filter((l) => /bad signature/.test(l.msg)).slice(10)).toEqual([
      expect.objectContaining({ suppressed: 50 }),
      expect.not.objectContaining({ suppressed: expect.anything() }),
    ]);
    // The resident's number is never in these lines.
    expect(JSON.stringify(lines)).not.toContain(fields.From);
  });
});
