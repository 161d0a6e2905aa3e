import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadResources } from "../../src/i18n/createI18n.js";
import { createTestWorld } from "../support/testApp.js";
import { postToTwilioWebhook, PUBLIC_BASE_URL, twilioPayload, twilioSignature, twimlMessages } from "../support/twilio.js";

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world.drop();
});

let phoneCounter = 0;
const freshPhone = () => `+9617${String(2000000 + ++phoneCounter).slice(1)}`;

describe("POST /webhooks/twilio", () => {
  it("answers a signed SMS with TwiML in the resident's language", async () => {
    const res = await postToTwilioWebhook(world.app, twilioPayload("sms", { From: freshPhone(), Body: "مرحبا" }));
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/xml/);
    expect(res.text.startsWith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')).toBe(true);
    expect(twimlMessages(res.text)).toEqual(["أهلاً بكم في خدمة بلدية قب الياس.\nأرسل رقماً:\n1 طلب جديد\n2 طلباتي\n3 التحدث مع موظف\n4 English"]);
  });

  it("files a WhatsApp request with the pin, the photo and the profile name", async () => {
    const from = freshPhone();
    const wa = { From: `whatsapp:${from}` };
    const say = async (fixture: Parameters<typeof twilioPayload>[0], body?: string) => {
      const res = await postToTwilioWebhook(world.app, twilioPayload(fixture, { ...wa, ...(body !== undefined ? { Body: body } : {}) }));
      expect(res.status).toBe(200);
      return twimlMessages(res.text).join("\n");
    };
    expect(await say("whatsapp-text")).toContain("طرقات وحفر");
    expect(await say("whatsapp-text", "1")).toContain("أرسل الموقع");
    expect(await say("whatsapp-location")).toContain("أرسل صورة");
    expect(await say("whatsapp-image")).toContain("للتأكيد");
    const filed = await say("whatsapp-text", "1");
    const reference = Number(/#(\d+)/.exec(filed)?.[1]);
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference }, include: { resident: true } });
    expect(ticket).toMatchObject({
      channel: "whatsapp",
      description: "fi jora kbire bel tari2",
      latitude: 33.7934,
      longitude: 35.8237,
      locationLabel: "Qab Elias Municipality",
    });
    expect(JSON.parse(ticket.media)[0]).toMatchObject({ contentType: "image/jpeg" });
    expect(ticket.resident).toMatchObject({ phone: from, profileName: "Rima" });
  });

  it("a voice note gets a polite reply that only text, photos and locations are understood", async () => {
    const res = await postToTwilioWebhook(world.app, twilioPayload("whatsapp-voice", { From: `whatsapp:${freshPhone()}` }));
    expect(twimlMessages(res.text)[0]).toMatch(/^أفهم النصوص والصور والمواقع فقط\./);
  });

  it("a redelivered message gets the same TwiML and changes nothing", async () => {
    const payload = twilioPayload("sms", { From: freshPhone(), Body: "can I talk to someone" });
    const first = await postToTwilioWebhook(world.app, payload);
    const tickets = await world.db.ticket.count();
    const again = await postToTwilioWebhook(world.app, payload);
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(await world.db.ticket.count()).toBe(tickets);
  });

  it("normalises local Lebanese numbers to E.164", async () => {
    await postToTwilioWebhook(world.app, twilioPayload("sms", { From: "03 123 456", Body: "hi" }));
    expect(await world.db.resident.findFirst({ where: { phone: "+9613123456" } })).not.toBeNull();
  });

  it("an opted-out resident gets an empty response", async () => {
    const From = freshPhone();
    await postToTwilioWebhook(world.app, twilioPayload("sms", { From, Body: "STOP" }));
    const res = await postToTwilioWebhook(world.app, twilioPayload("sms", { From, Body: "hello?" }));
    expect(res.status).toBe(200);
    expect(twimlMessages(res.text)).toEqual([]);
    expect(res.text).toContain("<Response/>");
  });
});

describe("the webhook refuses what is not Twilio", () => {
  it.each([
    ["no signature", null, 403, "Missing X-Twilio-Signature"],
    ["a wrong signature", "bm90IGEgc2lnbmF0dXJl", 403, "Invalid X-Twilio-Signature"],
  ])("%s → %i", async (_case, signature, status, message) => {
    const before = await world.db.message.count();
    const res = await postToTwilioWebhook(world.app, twilioPayload("sms", { From: freshPhone(), Body: "hi" }), { signature });
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: message });
    expect(await world.db.message.count()).toBe(before);
  });

  it("a signature made for another URL (the Host header, not the public URL) → 403", async () => {
    const fields = twilioPayload("sms", { From: freshPhone(), Body: "hi" });
    const res = await postToTwilioWebhook(world.app, fields, { signature: twilioSignature(fields, "http://127.0.0.1/webhooks/twilio") });
    expect(res.status).toBe(403);
  });

  it("a body changed after signing → 403", async () => {
    const fields = twilioPayload("sms", { From: freshPhone(), Body: "hi" });
    const signature = twilioSignature(fields, `${PUBLIC_BASE_URL}/webhooks/twilio`);
    const res = await postToTwilioWebhook(world.app, { ...fields, Body: "STOP" }, { signature });
    expect(res.status).toBe(403);
  });

  it.each([
    ["without From", { From: undefined }, "From is required"],
    ["without MessageSid", { MessageSid: undefined, SmsMessageSid: undefined, SmsSid: undefined }, "MessageSid is required"],
    ["with a From that is not a phone number", { From: "not-a-number" }, "From is not a valid phone number"],
    ["with a malformed MessageSid", { MessageSid: "hello" }, "MessageSid is not a Twilio message SID"],
  ])("a signed request %s → 400 with the reason", async (_case, overrides, message) => {
    const res = await postToTwilioWebhook(world.app, twilioPayload("sms", { Body: "hi", ...overrides }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: message });
  });

  it("an oversized body → 413", async () => {
    const res = await postToTwilioWebhook(world.app, twilioPayload("sms", { Body: "ب".repeat(40_000) }));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: "Request body too large" });
  });

  it("without TWILIO_AUTH_TOKEN the webhook says it is not configured", async () => {
    const unconfigured = await createTestWorld({ authToken: null });
    try {
      const res = await postToTwilioWebhook(unconfigured.app, twilioPayload("sms", { Body: "hi" }));
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/TWILIO_AUTH_TOKEN/);
    } finally {
      await unconfigured.drop();
    }
  });
});

describe("the rest of the app", () => {
  it("an unexpected failure is a 500 that leaks nothing, and Twilio may retry", async () => {
    const broken = loadResources();
    delete (broken.ar!.bot as Record<string, unknown>).welcome;
    const faulty = await createTestWorld({ resources: broken });
    try {
      const res = await postToTwilioWebhook(faulty.app, twilioPayload("sms", { Body: "مرحبا" }));
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: "Internal server error" });
      expect(await faulty.db.message.count()).toBe(0);
    } finally {
      await faulty.drop();
    }
  });

  it("GET /healthz is 200 once the database answers", async () => {
    const res = await request(world.app).get("/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", routes: [] });
  });

  it("unknown paths are a JSON 404", async () => {
    const res = await request(world.app).get("/nope");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "Not found: GET /nope" });
  });

  it("answers Twilio with the TwiML alone: no ETag, none of the HTML pages' security headers", async () => {
    const res = await postToTwilioWebhook(world.app, twilioPayload("sms", { From: freshPhone(), Body: "hello" }));
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/xml; charset=utf-8");
    expect(res.headers.etag).toBeUndefined();
    expect(res.headers["content-security-policy"]).toBeUndefined();
    expect(res.headers["x-powered-by"]).toBeUndefined();
  });

  it("sends security headers", async () => {
    const res = await request(world.app).get("/healthz");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["x-powered-by"]).toBeUndefined();
  });
});
