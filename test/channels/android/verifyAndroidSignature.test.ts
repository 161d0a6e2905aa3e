import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyAndroidSignature } from "../../../src/channels/android/verifyAndroidSignature.js";

// A fixed vector, computed outside this code base:
//   printf '%s%s' "$BODY" 1719060371 | openssl dgst -sha256 -hmac 'j3Rk-Xq9sigNINGkey'
const KEY = "j3Rk-Xq9sigNINGkey";
const BODY =
  '{"deviceId":"ffffffffceb0b1db0000018e937c815b","event":"sms:received","id":"Ey6ECgOkVVFjz3CL48B8C","payload":{"messageId":"abc123","message":"مرحبا، في حفرة بالطريق","phoneNumber":"+96170123456","simNumber":1,"receivedAt":"2024-06-22T15:46:11.000+03:00"},"webhookId":"LreFUt-Z3sSq0JufY9uWB"}';
const TIMESTAMP = "1719060371";
const SIGNATURE = "0a0f2eb8a5f2a5e29b852f63644f7d14cc0fb16f84e576c033b0ed6a1b6cfaae";
const SIGNED_AT = new Date(Number(TIMESTAMP) * 1000);

const check = (overrides: Partial<Parameters<typeof verifyAndroidSignature>[0]> = {}) =>
  verifyAndroidSignature({ signingKey: KEY, rawBody: Buffer.from(BODY, "utf8"), signature: SIGNATURE, timestamp: TIMESTAMP, now: SIGNED_AT, ...overrides });

// How the app's documentation says to sign: HMAC-SHA256 over body + timestamp, hex.
const sign = (key: string, body: string, timestamp: string) => createHmac("sha256", key).update(body + timestamp).digest("hex");

describe("verifyAndroidSignature", () => {
  it("accepts the phone's signature over the raw body and the timestamp (a fixed vector, Arabic text included)", () => {
    expect(sign(KEY, BODY, TIMESTAMP)).toBe(SIGNATURE);
    expect(check()).toEqual({ ok: true });
  });

  it("accepts the signature written in upper-case hex", () => {
    expect(check({ signature: SIGNATURE.toUpperCase() })).toEqual({ ok: true });
  });

  it("refuses a request without a signature, or without a timestamp", () => {
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: "missing_signature" });
    expect(check({ signature: "" })).toEqual({ ok: false, reason: "missing_signature" });
    expect(check({ timestamp: undefined })).toEqual({ ok: false, reason: "missing_timestamp" });
    expect(check({ timestamp: "" })).toEqual({ ok: false, reason: "missing_timestamp" });
  });

  it.each([
    ["another key's signature", { signature: sign("another-key", BODY, TIMESTAMP) }],
    ["a signature over the body alone", { signature: createHmac("sha256", KEY).update(BODY).digest("hex") }],
    ["a signature one character short", { signature: SIGNATURE.slice(0, -1) }],
    ["a signature with a character that is not hex", { signature: `${SIGNATURE.slice(0, -1)}g` }],
    ["a signature followed by more hex", { signature: `${SIGNATURE}00` }],
    ["a base64 signature", { signature: Buffer.from(SIGNATURE, "hex").toString("base64") }],
    ["a tampered body (the resident's text changed)", { rawBody: Buffer.from(BODY.replace("حفرة", "حفره"), "utf8") }],
    ["a tampered body (the sender changed)", { rawBody: Buffer.from(BODY.replace("+96170123456", "+96170123457"), "utf8") }],
    ["a timestamp changed after signing", { timestamp: String(Number(TIMESTAMP) + 1) }],
  ])("refuses %s", (_label, overrides) => {
    expect(check(overrides)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuses a replay: a rightly signed request 6 minutes old, or 6 minutes ahead of our clock", () => {
    expect(check({ now: new Date(SIGNED_AT.getTime() + 6 * 60_000) })).toEqual({ ok: false, reason: "stale_timestamp" });
    expect(check({ now: new Date(SIGNED_AT.getTime() - 6 * 60_000) })).toEqual({ ok: false, reason: "stale_timestamp" });
  });

  it("allows a phone clock up to 5 minutes off either way", () => {
    expect(check({ now: new Date(SIGNED_AT.getTime() + 5 * 60_000) })).toEqual({ ok: true });
    expect(check({ now: new Date(SIGNED_AT.getTime() - 5 * 60_000) })).toEqual({ ok: true });
    expect(check({ now: new Date(SIGNED_AT.getTime() + 5 * 60_000 + 1) })).toEqual({ ok: false, reason: "stale_timestamp" });
  });

  it("takes a tighter window when told", () => {
    expect(check({ now: new Date(SIGNED_AT.getTime() + 61_000), maxSkewMs: 60_000 })).toEqual({ ok: false, reason: "stale_timestamp" });
  });

  it("counts a timestamp that is not whole seconds as stale, even when signed", () => {
    for (const timestamp of ["1719060371.5", "1719060371000000", "-1719060371", "soon", " 1719060371"]) {
      expect(check({ timestamp, signature: sign(KEY, BODY, timestamp) }), timestamp).toEqual({ ok: false, reason: "stale_timestamp" });
    }
  });

  it("says a forged request is badly signed whatever its timestamp", () => {
    expect(check({ signature: sign("another-key", BODY, "1000"), timestamp: "1000" })).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuses to work with an empty signing key", () => {
    expect(() => check({ signingKey: "" })).toThrow(/signing key/);
  });
});
