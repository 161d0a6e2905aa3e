import { z } from "zod";
import type { InboundMessage } from "../../inbox/inboundMessage.js";
import { toE164 } from "../../lib/phone.js";
import type { DeliveryReport } from "../sender.js";

/** The longest SMS text taken, in characters (code points): a multipart SMS is at most ~255 parts of 67–153. */
export const ANDROID_TEXT_MAX = 10_000;

export type ParsedAndroidWebhook =
  /** A resident's SMS (`sms:received`). `simNumber` is the phone's SIM slot it came in on (1, 2…), when the phone knows. */
  | { kind: "message"; message: InboundMessage; simNumber?: number; deviceId: string }
  /** What became of a message we sent (`sms:sent`, `sms:delivered`, `sms:failed`). */
  | { kind: "status"; report: DeliveryReport; deviceId: string; event: "sms:sent" | "sms:delivered" | "sms:failed" }
  /** The phone's heartbeat (`system:ping`, when Settings → Ping is on): `at` is when it reached us. */
  | { kind: "ping"; deviceId: string; at: Date; health?: "pass" | "warn" | "fail" }
  /** An event the bot has no use for (MMS, data SMS, `sms:cancelled`, `app:started`…): acknowledge it. */
  | { kind: "ignored"; event: string; deviceId: string; reason?: string }
  | { kind: "invalid"; problem: string };

// Ids the app makes are NanoIds (21 characters of A-Za-z0-9_-); webhook ids may be chosen by whoever
// registered the webhook. Bounded either way, never a control character.
const printable = (max: number) => z.string({ error: fieldError }).regex(new RegExp(`^[^\\u0000-\\u001f\\u007f]{1,${max}}$`, "u"), `must be 1 to ${max} printable characters`);

// The envelope every webhook has (WebHookEventDTO in the app). Fields we do not read are ignored.
const Envelope = z.looseObject({
  id: z.string({ error: fieldError }).regex(/^[A-Za-z0-9_-]{1,64}$/, "is not an event id"),
  webhookId: printable(100),
  deviceId: printable(100),
  event: z.string({ error: fieldError }).regex(/^[a-z0-9:_-]{1,64}$/i, "is not an event name"),
  payload: z.unknown(),
});

// The app writes dates with Gson as "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", in the phone's own time zone:
// "2024-06-22T15:46:11.000+03:00" (or "…Z").
const isoDate = z
  .string({ error: fieldError })
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/, "is not an ISO 8601 date with a time zone")
  .transform((raw) => new Date(raw))
  .refine((date) => !Number.isNaN(date.getTime()), "is not a real date");

// The sender as the phone's SMS inbox shows it: a number ("+96170123456", "70123456", "03 123 456"…)
// or an alphanumeric sender ("Alfa", "touch", a bank), which cannot be answered (see below).
const phoneText = printable(32);

const simNumber = z.number({ error: fieldError }).int().min(1).max(16).nullish();

// sms:received (SmsEventPayload.SmsReceived). `phoneNumber` is the sender, kept by the app for older
// integrations; newer versions add `sender` (the same number) and `recipient` (our SIM's number).
// `messageId` is a hash of the message, not unique: two residents sending "1" get the same one.
const Received = z.looseObject(
  {
    message: z
      .string({ error: fieldError })
      .transform((text) => text.replaceAll("\u0000", ""))
      .refine((text) => codePoints(text) <= ANDROID_TEXT_MAX, `is longer than ${ANDROID_TEXT_MAX} characters`),
    sender: phoneText.nullish(),
    phoneNumber: phoneText.nullish(),
    simNumber,
    receivedAt: isoDate,
  },
  { error: objectError },
);

// sms:sent / sms:delivered / sms:failed, one event per recipient. `messageId` is the id the message
// was sent with: ours ("bl-<outbox>-<try>") for messages this bot sent. `reason` only on sms:failed.
const Status = z.looseObject(
  {
    messageId: printable(200),
    reason: z
      .string({ error: fieldError })
      .transform((text) => text.replaceAll("\u0000", "").slice(0, 500))
      .nullish(),
  },
  { error: objectError },
);

const Ping = z.looseObject({
  health: z.looseObject({ status: z.enum(["pass", "warn", "fail"]) }).optional().catch(undefined),
});

const STATUS_OF = { "sms:sent": "sent", "sms:delivered": "delivered", "sms:failed": "failed" } as const;

/**
 * Reads a webhook from SMS Gateway for Android (its JSON body, already parsed), after its signature
 * was checked. A resident's SMS becomes an `InboundMessage` on the "android" route whose
 * `providerMessageId` is the event's `id` — unique per event and the same on every retry of it
 * (the app retries for up to two days) — not the payload's `messageId`, which is a hash of the text.
 * `receivedAt` is when the phone received it (a phone clock ahead of ours counts as `now`).
 * Status events name our outbox row and try when the id is one we gave ("bl-42-1718000000000").
 * `now` (the time it reached us) is when a ping happened. Never throws: malformed input is `invalid`
 * with a short problem for a 400.
 */
export function parseAndroidWebhook(body: unknown, now: Date = new Date()): ParsedAndroidWebhook {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { kind: "invalid", problem: "expected a JSON webhook from SMS Gateway for Android" };
  const envelope = Envelope.safeParse(body);
  if (!envelope.success) return { kind: "invalid", problem: problemOf(envelope.error) };
  const { id, deviceId, event, payload } = envelope.data;

  switch (event) {
    case "sms:received": {
      const fields = Received.safeParse(payload);
      if (!fields.success) return { kind: "invalid", problem: problemOf(fields.error, "payload") };
      const raw = fields.data.sender ?? fields.data.phoneNumber;
      if (!raw) return { kind: "invalid", problem: "payload.phoneNumber is required" };
      const from = toE164(raw);
      // An operator's or a bank's message to the municipal SIM ("Alfa", "touch"): nobody to answer.
      // Acknowledged, or the app would send it again for two days.
      if (!from) return { kind: "ignored", event, deviceId, reason: "the sender is not a phone number" };
      const receivedAt = fields.data.receivedAt > now ? now : fields.data.receivedAt;
      return {
        kind: "message",
        deviceId,
        ...(fields.data.simNumber ? { simNumber: fields.data.simNumber } : {}),
        message: { channel: "sms", route: "android", providerMessageId: id, from, text: fields.data.message, media: [], receivedAt },
      };
    }
    case "sms:sent":
    case "sms:delivered":
    case "sms:failed": {
      const fields = Status.safeParse(payload);
      if (!fields.success) return { kind: "invalid", problem: problemOf(fields.error, "payload") };
      const ours = ourMessageId(fields.data.messageId);
      return {
        kind: "status",
        deviceId,
        event,
        report: {
          providerMessageId: fields.data.messageId,
          status: STATUS_OF[event],
          ...ours,
          ...(event === "sms:failed" && fields.data.reason ? { errorMessage: fields.data.reason } : {}),
        },
      };
    }
    case "system:ping": {
      const fields = Ping.safeParse(payload);
      const health = fields.success ? fields.data.health?.status : undefined;
      return { kind: "ping", deviceId, at: now, ...(health ? { health } : {}) };
    }
    default:
      return { kind: "ignored", event, deviceId };
  }
}

/**
 * The outbox row and try in an id androidSender gave a message ("bl-<outboxId>-<attempt>"); try 0
 * means the request named none, so the report names none either. Nothing for anyone else's ids.
 */
function ourMessageId(messageId: string): { outboxId?: number; attempt?: number } {
  const match = /^bl-(\d{1,15})-(\d{1,15})$/.exec(messageId);
  if (!match) return {};
  const outboxId = Number(match[1]);
  const attempt = Number(match[2]);
  if (!Number.isSafeInteger(outboxId) || !Number.isSafeInteger(attempt)) return {};
  return { outboxId, ...(attempt !== 0 ? { attempt } : {}) };
}

/** A missing field is "required"; anything else of the wrong type is named as such. */
function fieldError(issue: { input?: unknown }): string {
  return issue.input === undefined ? "is required" : "has the wrong type";
}

function objectError(issue: { input?: unknown }): string {
  return issue.input === undefined || issue.input === null ? "is required" : "must be an object";
}

function problemOf(error: z.ZodError, prefix?: string): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join(".") || "body"} ${i.message}`)
    .join("; ");
}

function codePoints(text: string): number {
  return [...text].length;
}
