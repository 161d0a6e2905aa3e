import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Express } from "express";
import request from "supertest";
import twilio from "twilio";

export const TWILIO_AUTH_TOKEN = "0123456789abcdef0123456789abcdef";
export const PUBLIC_BASE_URL = "https://baladiya.example.org";
/** The account and the numbers the fixtures in test/fixtures were sent to. */
export const TWILIO_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef";
export const OUR_SMS_NUMBER = "+9611555000";
export const OUR_WHATSAPP_NUMBER = "whatsapp:+9611555000";

export type TwilioFixture = "sms" | "whatsapp-text" | "whatsapp-location" | "whatsapp-image" | "whatsapp-voice";

/** A fresh Twilio-looking message SID, so every test message is a new message. */
export const newSid = (prefix = "SM") => prefix + randomBytes(16).toString("hex");

/** A real-shaped Twilio webhook payload from test/fixtures, with a fresh MessageSid and overrides. */
export function twilioPayload(fixture: TwilioFixture, overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const base = JSON.parse(readFileSync(path.join(import.meta.dirname, `../fixtures/twilio-${fixture}.json`), "utf8")) as Record<string, string>;
  const sid = newSid(base.MessageSid?.slice(0, 2));
  const merged: Record<string, string | undefined> = { ...base, MessageSid: sid, SmsMessageSid: sid, SmsSid: sid, ...overrides };
  return Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The signature Twilio would send for these fields at this URL, computed by Twilio's own SDK. */
export function twilioSignature(fields: Record<string, string>, url = `${PUBLIC_BASE_URL}/webhooks/twilio`, token = TWILIO_AUTH_TOKEN) {
  return twilio.getExpectedTwilioSignature(token, url, fields);
}

/**
 * POSTs a form to the webhook as Twilio does, signed unless `signature` says otherwise (`token`:
 * signed with another account's auth token).
 */
export function postToTwilioWebhook(app: Express, fields: Record<string, string>, options: { signature?: string | null; path?: string; token?: string } = {}) {
  const route = options.path ?? "/webhooks/twilio";
  const req = request(app).post(route).type("form").send(fields);
  const signature = options.signature === undefined ? twilioSignature(fields, PUBLIC_BASE_URL + route, options.token) : options.signature;
  return signature === null ? req : req.set("X-Twilio-Signature", signature);
}

/** The texts of the `<Message>`s in a TwiML response. */
export function twimlMessages(xml: string): string[] {
  return [...xml.matchAll(/<Message>([\s\S]*?)<\/Message>/g)].map((m) =>
    m[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&"),
  );
}
