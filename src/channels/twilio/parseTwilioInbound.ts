import { z } from "zod";
import type { Media } from "../../conversation/types.js";
import type { InboundMessage } from "../../inbox/inboundMessage.js";
import { toE164 } from "../../lib/phone.js";

/**
 * A Twilio Programmable Messaging SID: "SM" (SMS, WhatsApp text) or "MM" (MMS, WhatsApp media),
 * then 32 hex digits — 34 characters, nothing else (Twilio error 90011: "SM and MM allowed").
 */
export const twilioMessageSid = z.string({ error: fieldError }).regex(/^(SM|MM)[0-9a-fA-F]{32}$/, "is not a Twilio message SID");
/** A Twilio account SID: "AC" and 32 hex digits. */
export const twilioAccountSid = z.string({ error: fieldError }).regex(/^AC[0-9a-fA-F]{32}$/, "is not a Twilio account SID");

/** Twilio's maximum SMS body ("up to 1600 characters"); WhatsApp allows 4096. Counted in code points. */
export const SMS_BODY_MAX = 1600;
export const WHATSAPP_BODY_MAX = 4096;

// Twilio's inbound webhook fields (SMS and WhatsApp). Every field we read has a bounded shape; the
// ones we do not read (ToCountry, WaId, ...) are ignored whatever they hold, as they are never stored.
const TwilioInbound = z.looseObject({
  MessageSid: twilioMessageSid.optional(),
  SmsMessageSid: twilioMessageSid.optional(),
  AccountSid: twilioAccountSid.optional(),
  From: z.string({ error: fieldError }).regex(/^(?:whatsapp:)?[+0-9 ().-]{3,32}$/i, "is not a valid phone number"),
  To: z.string({ error: fieldError }).regex(/^[A-Za-z0-9:+._@-]{1,100}$/, "is not an address").optional(),
  Body: freeText(WHATSAPP_BODY_MAX).default(""),
  NumMedia: z.string({ error: fieldError }).regex(/^(?:[0-9]|10)$/, "is not a number from 0 to 10").transform(Number).default(0),
  Latitude: decimal(90, "is not a latitude").optional(),
  Longitude: decimal(180, "is not a longitude").optional(),
  Address: freeText(500).optional(),
  Label: freeText(500).optional(),
  ProfileName: freeText(200).optional(),
});
const MediaUrl = z.string().regex(/^https:\/\/[!-~]{1,2040}$/, "is not an https URL");
const MediaContentType = z.string().regex(/^[\w.+-]{1,64}\/[\w.+-]{1,128}(?:;[ -~]{0,200})?$/, "is not a media type");

export type ParsedInbound =
  | {
      ok: true;
      message: InboundMessage;
      /** Which of our numbers it was sent to (`To`), for the route to check against the configured ones. */
      to: string | undefined;
    }
  | { ok: false; problem: string };

/**
 * Turns Twilio's form fields into an `InboundMessage`. WhatsApp messages have `whatsapp:`-prefixed
 * addresses; location pins come as Latitude/Longitude, with a place's name (Label) and address
 * (Address) when WhatsApp knows them, both kept; media as NumMedia with
 * MediaUrlN/MediaContentTypeN. Every id, number and length is checked; a NUL in the free text
 * (Body, ProfileName, Address, Label) is removed rather than refused, since Twilio never sends one and
 * the resident's message is still worth answering, so the inbox never sees a NUL. Returns a readable
 * problem instead of throwing on bad input.
 */
export function parseTwilioInbound(body: unknown, receivedAt: Date): ParsedInbound {
  if (typeof body !== "object" || body === null) return { ok: false, problem: "expected a form-encoded Twilio webhook body" };
  const parsed = TwilioInbound.safeParse(body);
  if (!parsed.success) return { ok: false, problem: problemOf(parsed.error) };
  const fields = parsed.data;
  const sid = fields.MessageSid ?? fields.SmsMessageSid;
  if (!sid) return { ok: false, problem: "MessageSid is required" };
  const from = toE164(fields.From);
  if (!from) return { ok: false, problem: "From is not a valid phone number" };
  const channel = fields.From.toLowerCase().startsWith("whatsapp:") ? "whatsapp" : "sms";
  if (channel === "sms" && codePoints(fields.Body) > SMS_BODY_MAX) return { ok: false, problem: `Body is longer than ${SMS_BODY_MAX} characters` };

  const media = mediaOf(fields, fields.NumMedia);
  if (typeof media === "string") return { ok: false, problem: media };
  const location =
    fields.Latitude !== undefined && fields.Longitude !== undefined
      ? {
          latitude: fields.Latitude,
          longitude: fields.Longitude,
          ...(fields.Address ? { address: fields.Address } : {}),
          ...(fields.Label ? { label: fields.Label } : {}),
        }
      : undefined;
  return {
    ok: true,
    to: fields.To,
    message: {
      channel,
      route: "twilio",
      providerMessageId: sid,
      from,
      text: fields.Body,
      media,
      ...(location ? { location } : {}),
      ...(fields.ProfileName ? { profileName: fields.ProfileName } : {}),
      receivedAt,
    },
  };
}

/** The first `count` attachments; a URL or type present but malformed is a problem naming the field. */
function mediaOf(fields: Record<string, unknown>, count: number): Media[] | string {
  const media: Media[] = [];
  for (let i = 0; i < count; i++) {
    const rawUrl = fields[`MediaUrl${i}`];
    const rawType = fields[`MediaContentType${i}`];
    if (rawUrl === undefined || rawType === undefined) continue;
    const url = MediaUrl.safeParse(rawUrl);
    if (!url.success) return `MediaUrl${i} ${url.error.issues[0]?.message ?? "is malformed"}`;
    const contentType = MediaContentType.safeParse(rawType);
    if (!contentType.success) return `MediaContentType${i} ${contentType.error.issues[0]?.message ?? "is malformed"}`;
    media.push({ url: url.data, contentType: contentType.data });
  }
  return media;
}

/** Text a person wrote: NULs removed, at most `max` characters (code points, so an emoji is one). */
function freeText(max: number) {
  return z
    .string({ error: fieldError })
    .transform((text) => text.replaceAll("\u0000", ""))
    .refine((text) => codePoints(text) <= max, `is longer than ${max} characters`);
}

/** A plain decimal within ±`bound` ("33.7934"); no exponents, hex, or NaN. */
function decimal(bound: number, message: string) {
  return z
    .string({ error: fieldError })
    .regex(/^[+-]?\d{1,3}(?:\.\d{1,20})?$/, message)
    .transform(Number)
    .refine((n) => Math.abs(n) <= bound, message);
}

/** A missing field is "required"; a repeated one arrives as an array. */
function fieldError(issue: { input?: unknown }): string {
  return issue.input === undefined ? "is required" : "must appear once, as text";
}

function problemOf(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "body"} ${i.message}`).join("; ");
}

function codePoints(text: string): number {
  return [...text].length;
}
