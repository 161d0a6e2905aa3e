import { describe, expect, it } from "vitest";
import { ANDROID_TEXT_MAX, parseAndroidWebhook } from "../../../src/channels/android/parseAndroidWebhook.js";

// Webhook bodies as SMS Gateway for Android sends them (WebHookEventDTO with an SmsEventPayload,
// dates as Gson writes them, in the phone's time zone).
const NOW = new Date("2024-06-22T12:50:00.000Z");
const DEVICE = "ffffffffceb0b1db0000018e937c815b";

const envelope = (event: string, payload: unknown, id = "Ey6ECgOkVVFjz3CL48B8C") => ({ deviceId: DEVICE, event, id, payload, webhookId: "LreFUt-Z3sSq0JufY9uWB" });

/** An sms:received from a recent app version: `sender` and `recipient`, and the deprecated `phoneNumber`. */
const received = (fields: Record<string, unknown> = {}, id?: string) =>
  envelope(
    "sms:received",
    {
      messageId: "7c1e9a2f",
      message: "مرحبا، في حفرة كبيرة قدام البلدية",
      sender: "+96170123456",
      recipient: "+96176000111",
      simNumber: 1,
      phoneNumber: "+96170123456",
      receivedAt: "2024-06-22T15:46:11.000+03:00",
      ...fields,
    },
    id,
  );

/** The same from an older app: only `phoneNumber`. */
const receivedOld = (phoneNumber: string) => envelope("sms:received", { messageId: "31", message: "1", phoneNumber, simNumber: null, receivedAt: "2024-06-22T15:46:11.000+03:00" });

describe("parseAndroidWebhook: a resident's SMS", () => {
  it("becomes an InboundMessage on the android route, with the event id as the provider's id", () => {
    expect(parseAndroidWebhook(received(), NOW)).toEqual({
      kind: "message",
      deviceId: DEVICE,
      simNumber: 1,
      message: {
        channel: "sms",
        route: "android",
        providerMessageId: "Ey6ECgOkVVFjz3CL48B8C",
        from: "+96170123456",
        text: "مرحبا، في حفرة كبيرة قدام البلدية",
        media: [],
        receivedAt: new Date("2024-06-22T12:46:11.000Z"),
      },
    });
  });

  it.each([
    ["03 123 456", "+9613123456"],
    ["70123456", "+96170123456"],
    ["+96170123456", "+96170123456"],
    ["0096170123456", "+96170123456"],
    ["71 123 456", "+96171123456"],
    ["+14155550123", "+14155550123"],
  ])("reads the sender %j as %s, from old and new app versions", (written, e164) => {
    const fromOld = parseAndroidWebhook(receivedOld(written), NOW);
    const fromNew = parseAndroidWebhook(received({ sender: written, phoneNumber: written }), NOW);
    for (const parsed of [fromOld, fromNew]) {
      expect(parsed.kind).toBe("message");
      if (parsed.kind === "message") expect(parsed.message.from).toBe(e164);
    }
  });

  it("keeps two residents who both send \"1\" apart, though the app gives both the same messageId", () => {
    const first = parseAndroidWebhook(envelope("sms:received", { messageId: "31", message: "1", phoneNumber: "70123456", receivedAt: "2024-06-22T15:46:11.000+03:00" }, "V1StGXR8_Z5jdHi6B-myT"), NOW);
    const second = parseAndroidWebhook(envelope("sms:received", { messageId: "31", message: "1", phoneNumber: "03123456", receivedAt: "2024-06-22T15:46:11.000+03:00" }, "a7Bq0Kx2LmN9pQrStUvWx"), NOW);
    expect(first.kind === "message" && second.kind === "message").toBe(true);
    if (first.kind !== "message" || second.kind !== "message") return;
    expect(first.message.providerMessageId).toBe("V1StGXR8_Z5jdHi6B-myT");
    expect(second.message.providerMessageId).toBe("a7Bq0Kx2LmN9pQrStUvWx");
    expect([first.message.from, second.message.from]).toEqual(["+96170123456", "+9613123456"]);
  });

  it("gives the same provider id to a retry of the same event (the app resends the stored body)", () => {
    const once = parseAndroidWebhook(received(), NOW);
    const again = parseAndroidWebhook(received(), new Date(NOW.getTime() + 40_000));
    expect(once.kind === "message" && again.kind === "message" && once.message.providerMessageId === again.message.providerMessageId).toBe(true);
  });

  it("takes the sender from `sender` when the app sends both", () => {
    const parsed = parseAndroidWebhook(received({ sender: "+96171999888", phoneNumber: "+96171999888" }), NOW);
    expect(parsed.kind === "message" && parsed.message.from).toBe("+96171999888");
  });

  it("reads dates in UTC and in the phone's own zone, and counts a phone clock ahead of ours as now", () => {
    const at = (receivedAt: string) => {
      const parsed = parseAndroidWebhook(received({ receivedAt }), NOW);
      return parsed.kind === "message" ? parsed.message.receivedAt.toISOString() : parsed;
    };
    expect(at("2024-06-22T12:46:11.000Z")).toBe("2024-06-22T12:46:11.000Z");
    expect(at("2024-06-22T15:46:11+03:00")).toBe("2024-06-22T12:46:11.000Z");
    expect(at("2024-06-22T16:30:00.000+03:00")).toBe(NOW.toISOString());
  });

  it("leaves the SIM out when the phone does not know it", () => {
    const parsed = parseAndroidWebhook(received({ simNumber: null }), NOW);
    expect(parsed.kind).toBe("message");
    expect(parsed).not.toHaveProperty("simNumber");
  });

  it("removes NULs and keeps a long Arabic message whole", () => {
    const long = "الرجاء إصلاح الإنارة في الشارع الرئيسي ".repeat(40);
    const parsed = parseAndroidWebhook(received({ message: `طريق\u0000 مسدود` }), NOW);
    expect(parsed.kind === "message" && parsed.message.text).toBe("طريق مسدود");
    const whole = parseAndroidWebhook(received({ message: long }), NOW);
    expect(whole.kind === "message" && whole.message.text).toBe(long);
  });

  it.each([
    ["an alphanumeric sender (an operator's promotion)", received({ sender: "Alfa", phoneNumber: "Alfa" })],
    ["a number that is not a real one", received({ sender: "12345", phoneNumber: "12345" })],
  ])("acknowledges and ignores %s: nobody to answer, and refusing would make the app send it for two days", (_label, body) => {
    expect(parseAndroidWebhook(body, NOW)).toEqual({ kind: "ignored", event: "sms:received", deviceId: expect.any(String), reason: "the sender is not a phone number" });
  });

  it.each([
    ["no sender at all", received({ sender: undefined, phoneNumber: undefined }), /payload\.phoneNumber is required/],
    ["a text longer than any SMS", received({ message: "أ".repeat(ANDROID_TEXT_MAX + 1) }), /payload\.message is longer than 10000 characters/],
    ["no text", received({ message: undefined }), /payload\.message is required/],
    ["a date without a time zone", received({ receivedAt: "2024-06-22T15:46:11" }), /payload\.receivedAt is not an ISO 8601 date/],
    ["a date that does not exist", received({ receivedAt: "2024-13-45T15:46:11.000+03:00" }), /payload\.receivedAt is not a real date/],
    ["no date", received({ receivedAt: undefined }), /payload\.receivedAt is required/],
    ["a SIM number that is not a slot", received({ simNumber: "1" }), /payload\.simNumber has the wrong type/],
    ["no payload", envelope("sms:received", undefined), /^payload is required$/],
    ["a payload that is not an object", envelope("sms:received", "1"), /^payload must be an object$/],
  ])("refuses %s", (_label, body, problem) => {
    const parsed = parseAndroidWebhook(body, NOW);
    expect(parsed.kind).toBe("invalid");
    if (parsed.kind === "invalid") expect(parsed.problem).toMatch(problem);
  });
});

describe("parseAndroidWebhook: what became of a message we sent", () => {
  const status = (event: string, fields: Record<string, unknown>) =>
    envelope(event, { messageId: "bl-42-1718000000000", sender: "+96176000111", recipient: "+96170123456", simNumber: 1, phoneNumber: "+96170123456", ...fields }, "q2Wm7Yt0Zx9Lk3Jh5Gf8D");

  it.each([
    ["sms:sent", { partsCount: 2, sentAt: "2024-06-22T15:47:00.000+03:00" }, "sent"],
    ["sms:delivered", { deliveredAt: "2024-06-22T15:47:05.000+03:00" }, "delivered"],
  ] as const)("%s names our outbox row and try", (event, fields, expected) => {
    expect(parseAndroidWebhook(status(event, fields), NOW)).toEqual({
      kind: "status",
      deviceId: DEVICE,
      event,
      report: { providerMessageId: "bl-42-1718000000000", status: expected, outboxId: 42, attempt: 1718000000000 },
    });
  });

  it("sms:failed carries the phone's reason", () => {
    expect(parseAndroidWebhook(status("sms:failed", { failedAt: "2024-06-22T15:47:00.000+03:00", reason: "RESULT_ERROR_NO_SERVICE" }), NOW)).toEqual({
      kind: "status",
      deviceId: DEVICE,
      event: "sms:failed",
      report: { providerMessageId: "bl-42-1718000000000", status: "failed", outboxId: 42, attempt: 1718000000000, errorMessage: "RESULT_ERROR_NO_SERVICE" },
    });
  });

  it("a message sent without a try (bl-<row>-0) names the row only", () => {
    const parsed = parseAndroidWebhook(status("sms:delivered", { messageId: "bl-7-0" }), NOW);
    expect(parsed).toMatchObject({ kind: "status", report: { providerMessageId: "bl-7-0", status: "delivered", outboxId: 7 } });
    expect(parsed.kind === "status" && parsed.report).not.toHaveProperty("attempt");
  });

  it("a message someone else sent through the phone names no row", () => {
    for (const messageId of ["PyKIFfOU7ZZ4lsEUp-rZF", "bl-42", "bl-x-1", "xbl-42-1", "bl-42-1-2"]) {
      const parsed = parseAndroidWebhook(status("sms:sent", { messageId }), NOW);
      expect(parsed, messageId).toEqual({ kind: "status", deviceId: DEVICE, event: "sms:sent", report: { providerMessageId: messageId, status: "sent" } });
    }
  });

  it("refuses a report without a message id", () => {
    const parsed = parseAndroidWebhook(status("sms:delivered", { messageId: undefined }), NOW);
    expect(parsed).toEqual({ kind: "invalid", problem: "payload.messageId is required" });
  });
});

describe("parseAndroidWebhook: everything else", () => {
  it("a ping says which phone is alive and how it feels, at the time it reached us", () => {
    const health = { status: "pass", version: "1.40.0", releaseId: 1040, checks: { "battery:level": { status: "pass", description: "Battery level in percent", observedValue: 87, observedUnit: "percent" } } };
    expect(parseAndroidWebhook(envelope("system:ping", { health }), NOW)).toEqual({ kind: "ping", deviceId: DEVICE, at: NOW, health: "pass" });
    expect(parseAndroidWebhook(envelope("system:ping", {}), NOW)).toEqual({ kind: "ping", deviceId: DEVICE, at: NOW });
    const before = Date.now();
    const unclocked = parseAndroidWebhook(envelope("system:ping", {}));
    expect(unclocked.kind === "ping" && unclocked.at.getTime()).toBeGreaterThanOrEqual(before);
  });

  it.each(["mms:received", "mms:downloaded", "sms:data-received", "sms:cancelled", "app:started"])("%s is acknowledged and ignored", (event) => {
    expect(parseAndroidWebhook(envelope(event, { messageId: "x", sender: "+96170123456" }), NOW)).toEqual({ kind: "ignored", event, deviceId: DEVICE });
  });

  it.each([
    ["not an object", "sms:received", /expected a JSON webhook/],
    ["null", null, /expected a JSON webhook/],
    ["an array", [received()], /expected a JSON webhook/],
    ["no event", { ...received(), event: undefined }, /^event is required$/],
    ["no event id", { ...received(), id: undefined }, /^id is required$/],
    ["an event id that is not one", { ...received(), id: "../../etc" }, /^id is not an event id$/],
    ["no device id", { ...received(), deviceId: undefined }, /^deviceId is required$/],
    ["a device id with a newline", { ...received(), deviceId: "abc\ndef" }, /^deviceId must be 1 to 100 printable characters$/],
  ])("refuses a body that is %s", (_label, body, problem) => {
    const parsed = parseAndroidWebhook(body, NOW);
    expect(parsed.kind).toBe("invalid");
    if (parsed.kind === "invalid") expect(parsed.problem).toMatch(problem);
  });
});
