import { once } from "node:events";
import type { Server } from "node:http";
import type { Express } from "express";
import fc from "fast-check";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/createApp.js";
import { assertNever } from "../../src/lib/assertNever.js";
import { replyToTicket } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { residentFiles, staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld } from "../support/testApp.js";
import {
  OUR_SMS_NUMBER,
  OUR_WHATSAPP_NUMBER,
  PUBLIC_BASE_URL,
  TWILIO_ACCOUNT_SID,
  twilioPayload,
  twilioSignature,
  twimlMessages,
  type TwilioFixture,
} from "../support/twilio.js";

// Issue 7, part 4, as properties: whatever arrives at either Twilio webhook — signed or not, any
// text (NUL, lone surrogates, megabytes), any id, any query — the answer is never a 5xx, a refused
// request writes nothing, and an accepted message is stored together with its reply.
// Runs on SQLite by default and on PostgreSQL with TEST_DATABASE_URL.

// Per property; the whole file stays well under a minute on either database.
const RUNS = 100;

let world: World;
let app: Express;
/** One listening server for the whole file: supertest would otherwise start and stop one per request. */
let server: Server;
let agent: Actor;
/** Outbound replies the worker has "sent" as these SIDs: status callbacks may name them. */
const SENT_SIDS = [`SM${"1".repeat(32)}`, `MM${"2".repeat(32)}`, `SM${"3".repeat(32)}`];
const sent: { sid: string; outboxId: number }[] = [];

beforeAll(async () => {
  world = await createTestWorld();
  agent = await staffMember(world, { username: "rami", departments: ["public_works"] });
  // As deployed: our account and our numbers are known, so those checks are fuzzed too.
  app = createApp({
    ...world.deps,
    twilio: { ...world.deps.twilio, accountSid: TWILIO_ACCOUNT_SID, smsFrom: OUR_SMS_NUMBER, whatsappFrom: OUR_WHATSAPP_NUMBER },
  });
  server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  for (const sid of SENT_SIDS) {
    const { reference } = await residentFiles(world);
    const result = await world.db.$transaction((tx) => replyToTicket(tx, { ...world.deps.outbox, now: new Date() }, agent, reference, "On our way"));
    if (!result.ok) throw new Error(result.message);
    const outbox = await world.db.outbox.findUniqueOrThrow({ where: { messageId: result.delivery.messageId } });
    await world.db.outbox.update({ where: { id: outbox.id }, data: { status: "sent", providerMessageId: sid } });
    await world.db.message.update({ where: { id: outbox.messageId }, data: { status: "sent", providerMessageId: sid } });
    sent.push({ sid, outboxId: outbox.id });
  }
}, 60_000);
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await world.drop();
});

// ---- arbitraries -------------------------------------------------------------------------------

/** One piece of hostile text: any UTF-16 unit (lone surrogates included), any code point, or a classic. */
const hostileUnit = fc.oneof(
  fc.constantFrom("a", "ب", " ", "\u0000"),
  fc.constantFrom("\ud800", "\udfff", "\ufffe", "\uffff", "\u202e", "\u0001", "\r\n", "%", "&", "=", "+", "<", "'", "٣", "🚧", "\u200d"),
  fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
);
const shortHostileText = fc.string({ unit: hostileUnit, maxLength: 40 });
const hostileText = fc.oneof(
  { weight: 8, arbitrary: shortHostileText },
  // Huge: up to ~50 KB of text, which with percent-encoding is past every body limit.
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: hostileUnit, minLength: 1, maxLength: 4 }), fc.integer({ min: 200, max: 12_000 })).map(([s, n]) => s.repeat(n)) },
);
const hex32 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString("hex"));
const validSid = fc.tuple(fc.constantFrom("SM", "MM"), hex32).map(([p, h]) => p + h);
const weirdSid = fc.oneof(
  validSid,
  fc.tuple(fc.constantFrom("SM", "MM", "IM", "CA", "sm", "AC", ""), fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEFxyz\u0000-"), maxLength: 40 })).map(([p, s]) => p + s),
  validSid.map((s) => s + "\u0000"),
  fc.integer({ min: 1, max: 9000 }).map((n) => "SM" + "f".repeat(n)),
  hostileText,
);
/** A number as text: sometimes sensible, sometimes huge, negative, fractional or not a number at all. */
const numberishOr = (text: fc.Arbitrary<string>) =>
  fc.oneof(
    fc.integer({ min: -5, max: 20 }).map(String),
    fc.double().map(String),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    fc.constantFrom("2147483647", "2147483648", "-2147483649", "1e3", "0x10", "", " 1", "1 ", "Infinity", "NaN", "\u0000"),
    text,
  );
const numberish = numberishOr(hostileText);
const phone = fc.integer({ min: 0, max: 999_999 }).map((n) => `+96171${String(n).padStart(6, "0")}`);
const accountSid = fc.oneof(
  { weight: 6, arbitrary: fc.constant(TWILIO_ACCOUNT_SID) },
  { weight: 1, arbitrary: hex32.map((h) => `AC${h}`) },
  { weight: 1, arbitrary: hostileText },
);
/** Field names a parser might trip over, and plain junk. */
const hostileKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "toString", "valueOf", "hasOwnProperty", "Body[0]", "From[]", "a[b][c]", "MediaUrl9", "NumMedia", "\u0000"),
  fc.string({ unit: hostileUnit, minLength: 1, maxLength: 12 }),
);
const extraFields = fc.dictionary(hostileKey, hostileText, { maxKeys: 3 });

const FIXTURES: TwilioFixture[] = ["sms", "whatsapp-text", "whatsapp-location", "whatsapp-image", "whatsapp-voice"];

/**
 * One change to a real payload: a field set to something (maybe hostile) or removed. The free-text
 * fields, which are accepted with almost any content, are changed most often.
 */
const inboundMutation = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom("Body", "ProfileName", "Address", "Label"), hostileText) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom("To", "MediaUrl0", "MediaContentType0"), hostileText) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom("MessageSid", "SmsMessageSid", "SmsSid"), weirdSid) },
  { weight: 1, arbitrary: fc.tuple(fc.constant("AccountSid"), accountSid) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom("NumMedia", "Latitude", "Longitude"), numberish) },
  { weight: 1, arbitrary: fc.tuple(fc.constant("From"), fc.oneof(phone, phone.map((p) => `whatsapp:${p}`), hostileText)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("MessageSid", "SmsMessageSid", "AccountSid", "To", "From", "Body", "NumMedia"), fc.constant(undefined)) },
);

const sometimesExtraFields = fc.oneof({ weight: 3, arbitrary: fc.constant<Record<string, string>>({}) }, { weight: 1, arbitrary: extraFields });

/** A real payload from test/fixtures, sent from `from`, with up to four changes and maybe junk fields. */
interface InboundRequest {
  fixture: TwilioFixture;
  from: string;
  mutations: [string, string | undefined][];
  extra: Record<string, string>;
}
const inboundRequest: fc.Arbitrary<InboundRequest> = fc.record({
  fixture: fc.constantFrom(...FIXTURES),
  from: phone,
  mutations: fc.array(inboundMutation, { maxLength: 4 }),
  extra: sometimesExtraFields,
});

/** How a request that is not Twilio's may be signed. */
type BadSignature = { kind: "none" } | { kind: "garbage"; value: string } | { kind: "other account" } | { kind: "other url" } | { kind: "changed after signing" };
const badSignature: fc.Arbitrary<BadSignature> = fc.oneof(
  fc.constant({ kind: "none" as const }),
  fc.string({ unit: fc.constantFrom(..."ABCDEFabcdef0123456789+/="), maxLength: 60 }).map((value) => ({ kind: "garbage" as const, value })),
  fc.constant({ kind: "other account" as const }),
  fc.constant({ kind: "other url" as const }),
  fc.constant({ kind: "changed after signing" as const }),
);

interface StatusRequest {
  MessageSid: string;
  MessageStatus: string | undefined;
  ErrorCode: string | undefined;
  ErrorMessage: string | undefined;
  AccountSid: string | undefined;
  outbox: string | undefined;
  outboxTwice: boolean;
  extra: Record<string, string>;
}
const STATUSES = ["queued", "accepted", "sending", "sent", "delivered", "undelivered", "failed", "read", "canceled", "receiving", "received", "partially_delivered"];
/** Usually a well-formed value, sometimes a hostile one: each callback then has a fair chance to be applied. */
const usually = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) => fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: bad });
const statusRequest: fc.Arbitrary<StatusRequest> = fc.record({
  MessageSid: usually(fc.oneof(fc.constantFrom(...SENT_SIDS), validSid), weirdSid),
  MessageStatus: usually(fc.constantFrom(...STATUSES), fc.option(hostileText, { nil: undefined })),
  ErrorCode: usually(fc.option(fc.constantFrom("30003", "30008", "63016", ""), { nil: undefined }), numberish),
  ErrorMessage: usually(fc.option(fc.string({ maxLength: 80 }), { nil: undefined }), hostileText),
  AccountSid: usually(fc.constant(TWILIO_ACCOUNT_SID), fc.option(accountSid, { nil: undefined })),
  // "#0".."#2": the outbox id of one of the replies sent in beforeAll. Kept short: a request line
  // over Node's 16 KB header limit is refused by its HTTP parser (431) before the app sees it.
  outbox: usually(fc.option(fc.constantFrom("#0", "#1", "#2"), { nil: undefined }), numberishOr(shortHostileText)),
  outboxTwice: usually(fc.constant(false), fc.constant(true)),
  extra: sometimesExtraFields,
});

// ---- requests exactly as Twilio would send them ----------------------------------------------

/** The text as the server reads it back from UTF-8: a lone surrogate becomes U+FFFD. */
const asReceived = (text: string) => Buffer.from(text, "utf8").toString("utf8");
/** Percent-encoded so that what arrives is exactly `asReceived(text)`. */
const percentEncode = (text: string) => encodeURIComponent(asReceived(text));

/** POSTs `fields` form-encoded, signed over what the server will parse — or signed badly. */
function post(path: string, fields: Record<string, string>, signing: "good" | BadSignature) {
  const received = Object.fromEntries(Object.entries(fields).map(([k, v]) => [asReceived(k), asReceived(v)]));
  const form = Object.entries(fields).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join("&");
  const req = request(server).post(path).type("form").send(form);
  const url = PUBLIC_BASE_URL + path;
  if (signing === "good") return req.set("X-Twilio-Signature", twilioSignature(received, url));
  switch (signing.kind) {
    case "none":
      return req;
    case "garbage":
      return req.set("X-Twilio-Signature", signing.value);
    case "other account":
      return req.set("X-Twilio-Signature", twilioSignature(received, url, "fedcba9876543210fedcba9876543210"));
    case "other url":
      return req.set("X-Twilio-Signature", twilioSignature(received, `http://127.0.0.1${path}`));
    case "changed after signing":
      return req.set("X-Twilio-Signature", twilioSignature({ ...received, Body: `${received.Body ?? ""}x` }, url));
    default:
      return assertNever(signing);
  }
}

function inboundFields(input: InboundRequest) {
  const from = input.fixture === "sms" ? input.from : `whatsapp:${input.from}`;
  const overrides: Record<string, string | undefined> = { From: from };
  for (const [key, value] of input.mutations) overrides[key] = value;
  return { ...input.extra, ...twilioPayload(input.fixture, overrides) };
}

// ---- what must hold ---------------------------------------------------------------------------

/**
 * Every row either webhook could write, counted in one query (same table names on both databases):
 * six Prisma counts per request would make this file several times slower.
 */
async function rowCounts() {
  const tables = { messages: "Message", residents: "Resident", identities: "ChannelIdentity", conversations: "Conversation", tickets: "Ticket", outbox: "Outbox" };
  const columns = Object.entries(tables).map(([name, table]) => `(SELECT COUNT(*) FROM "${table}") AS ${name}`);
  const [row] = await world.db.$queryRawUnsafe<Record<keyof typeof tables, number | bigint>[]>(`SELECT ${columns.join(", ")}`);
  return Object.fromEntries(Object.entries(row ?? {}).map(([name, count]) => [name, Number(count)]));
}

/** What the status webhook may change: outbound messages and their outbox rows. */
async function deliveryState() {
  const messages = await world.db.message.findMany({
    where: { direction: "outbound" },
    select: { id: true, status: true, providerMessageId: true, errorCode: true, errorMessage: true },
    orderBy: { id: "asc" },
  });
  const outbox = await world.db.outbox.findMany({ select: { id: true, status: true, providerMessageId: true }, orderBy: { id: "asc" } });
  return { messages, outbox };
}

const NUL_IN_JSON = "\\u0000";
/** A request not signed by Twilio: 403, unless the body was too large to read first (413). */
const NOT_TWILIO = [403, 413];
const SID = /^(SM|MM)[0-9a-fA-F]{32}$/;

describe("fuzzing POST /webhooks/twilio", () => {
  it("a correctly signed request of any shape: never a 5xx; refused → nothing written; accepted → the message and its reply", async () => {
    await fc.assert(
      fc.asyncProperty(inboundRequest, async (input) => {
        const fields = inboundFields(input);
        const before = await rowCounts();
        const sid = asReceived(fields.MessageSid ?? fields.SmsMessageSid ?? "");
        const seenBefore = SID.test(sid) && (await world.db.message.count({ where: { providerMessageId: sid } })) > 0;

        const res = await post("/webhooks/twilio", fields, "good");
        expect(res.status).toBeLessThan(500);
        if (res.status !== 200) {
          expect(res.body).toEqual({ error: expect.any(String) });
          expect(await rowCounts()).toEqual(before);
          return;
        }
        const stored = await world.db.message.findFirstOrThrow({ where: { direction: "inbound", providerMessageId: sid }, include: { resident: true, replies: { orderBy: { id: "asc" } } } });
        expect(JSON.stringify(stored)).not.toContain(NUL_IN_JSON);
        const answered = twimlMessages(res.text);
        expect(stored.replies.map((r) => r.body)).toEqual(answered);
        if (!stored.resident.optedOut && !stored.resident.botPausedAt) expect(answered.length).toBeGreaterThan(0);
        if (seenBefore) expect(await rowCounts()).toEqual(before);
        else expect((await rowCounts()).messages).toBe(before.messages! + 1 + answered.length);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it("a request not signed by Twilio for this URL is refused and writes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(inboundRequest, badSignature, async (input, signing) => {
        const before = await rowCounts();
        const res = await post("/webhooks/twilio", inboundFields(input), signing);
        expect(NOT_TWILIO).toContain(res.status);
        expect(await rowCounts()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it("any raw body at all, with any content type: never a 5xx, nothing written", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: hostileUnit, maxLength: 300 }),
        fc.constantFrom("application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-16", "application/x-www-form-urlencoded; charset=iso-8859-1", "application/json", "text/plain"),
        fc.constantFrom("/webhooks/twilio", "/webhooks/twilio/status", "/webhooks/twilio/status?outbox=1"),
        async (raw, contentType, path) => {
          const before = await rowCounts();
          const res = await request(server).post(path).set("Content-Type", contentType).send(Buffer.from(raw, "utf8"));
          expect(res.status).toBeLessThan(500);
          expect(await rowCounts()).toEqual(before);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);
});

describe("fuzzing POST /webhooks/twilio/status", () => {
  const statusCall = (input: StatusRequest) => {
    const { outbox, outboxTwice, extra, ...named } = input;
    const fields = { ...extra, ApiVersion: "2010-04-01", ...Object.fromEntries(Object.entries(named).filter((e): e is [string, string] => e[1] !== undefined)) };
    const value = outbox?.startsWith("#") ? String(sent[Number(outbox.slice(1))]!.outboxId) : outbox;
    const query = value === undefined ? "" : `?outbox=${percentEncode(value)}${outboxTwice ? `&outbox=${percentEncode(value)}` : ""}`;
    return { fields, path: `/webhooks/twilio/status${query}` };
  };

  it("a correctly signed callback of any shape: never a 5xx; refused → nothing changed; applied → nothing malformed stored", async () => {
    await fc.assert(
      fc.asyncProperty(statusRequest, async (input) => {
        const { fields, path } = statusCall(input);
        const before = await deliveryState();
        const counts = await rowCounts();
        const res = await post(path, fields, "good");
        expect(res.status).toBeLessThan(500);
        if (res.status !== 204) {
          expect(res.body).toEqual({ error: expect.any(String) });
          expect(await deliveryState()).toEqual(before);
          expect(await rowCounts()).toEqual(counts);
          return;
        }
        const after = await deliveryState();
        expect(JSON.stringify(after)).not.toContain(NUL_IN_JSON);
        for (const row of [...after.messages, ...after.outbox]) if (row.providerMessageId !== null) expect(row.providerMessageId).toMatch(SID);
        // Only a template in place of a refused WhatsApp reply may add rows; this file's replies are SMS.
        expect(await rowCounts()).toEqual(counts);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it("a callback not signed by Twilio for this URL is refused and changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(statusRequest, badSignature, async (input, signing) => {
        const { fields, path } = statusCall(input);
        const before = await deliveryState();
        // A Body, so that "changed after signing" has something to change.
        const res = await post(path, { Body: "", ...fields }, signing);
        expect(NOT_TWILIO).toContain(res.status);
        expect(await deliveryState()).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
