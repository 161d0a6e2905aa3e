import { z } from "zod";
import type { Media } from "../../conversation/types.js";
import type { InboundMessage } from "../../inbox/inboundMessage.js";
import { toE164 } from "../../lib/phone.js";

// Twilio's inbound webhook fields (SMS and WhatsApp). Unknown fields are kept and ignored.
const TwilioInbound = z.looseObject({
  MessageSid: z.string().regex(/^(SM|MM|SS)[0-9a-zA-Z]{10,40}$/, "is not a Twilio message SID").optional(),
  SmsMessageSid: z.string().optional(),
  From: z.string({ error: "is required" }).min(1, "is required"),
  To: z.string().optional(),
  Body: z.string().max(5000, "is too long").default(""),
  NumMedia: z.coerce.number().int().min(0).max(10).default(0),
  Latitude: z.coerce.number().min(-90).max(90).optional(),
  Longitude: z.coerce.number().min(-180).max(180).optional(),
  Address: z.string().max(500).optional(),
  Label: z.string().max(500).optional(),
  ProfileName: z.string().max(200).optional(),
});

export type ParsedInbound = { ok: true; message: InboundMessage } | { ok: false; problem: string };

/**
 * Turns Twilio's form fields into an `InboundMessage`. WhatsApp messages have `whatsapp:`-prefixed
 * addresses; location pins come as Latitude/Longitude (+ Address/Label); media as NumMedia with
 * MediaUrlN/MediaContentTypeN. Returns a readable problem instead of throwing on bad input.
 */
export function parseTwilioInbound(body: unknown, receivedAt: Date): ParsedInbound {
  if (typeof body !== "object" || body === null) return { ok: false, problem: "expected a form-encoded Twilio webhook body" };
  const parsed = TwilioInbound.safeParse(body);
  if (!parsed.success) {
    return { ok: false, problem: parsed.error.issues.map((i) => `${i.path.join(".") || "body"} ${i.message}`).join("; ") };
  }
  const fields = parsed.data;
  const sid = fields.MessageSid ?? fields.SmsMessageSid;
  if (!sid) return { ok: false, problem: "MessageSid is required" };
  const from = toE164(fields.From);
  if (!from) return { ok: false, problem: "From is not a valid phone number" };

  const media: Media[] = [];
  for (let i = 0; i < fields.NumMedia; i++) {
    const url = fields[`MediaUrl${i}`];
    const contentType = fields[`MediaContentType${i}`];
    if (typeof url === "string" && typeof contentType === "string") media.push({ url, contentType });
  }
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
    message: {
      channel: fields.From.toLowerCase().startsWith("whatsapp:") ? "whatsapp" : "sms",
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
