import twilio from "twilio";
import type { ChannelSender, OutboundRequest, SendResult } from "../sender.js";

export interface TwilioSenderOptions {
  accountSid: string;
  authToken: string;
  smsFrom: string | undefined;
  whatsappFrom: string | undefined;
  /** Base of the status callback URL (PUBLIC_BASE_URL). */
  publicBaseUrl: string;
  /** Tests turn keep-alive off: nock cannot end Twilio's kept-alive sockets (nock/nock#3001). */
  keepAlive?: boolean;
  /** Milliseconds before a request to Twilio counts as a network failure (retried). */
  timeoutMs?: number;
}

// Twilio error codes that mean "do not try again" even though they are not 4xx-shaped.
const WINDOW_CLOSED = 63016;
const UNSUBSCRIBED = 21610;
const RATE_LIMITED = 63018;

function describe(error: unknown): SendResult {
  if (typeof error === "object" && error !== null && "status" in error && typeof error.status === "number") {
    const status = error.status;
    const code = "code" in error && typeof error.code === "number" ? error.code : undefined;
    const message = error instanceof Error ? error.message : `HTTP ${status}`;
    return {
      status: "failed",
      // 401/403: credentials rotated or an account problem — fixable, so keep the message for later.
      retryable: status === 429 || status >= 500 || status === 401 || status === 403 || code === RATE_LIMITED,
      ...(code === WINDOW_CLOSED ? { windowClosed: true } : {}),
      ...(code === UNSUBSCRIBED ? { unsubscribed: true } : {}),
      code: String(code ?? status),
      message,
    };
  }
  // No HTTP answer at all: DNS, refused connection, reset, timeout.
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "network";
  return { status: "failed", retryable: true, ambiguous: true, code, message };
}

/** Sends SMS and WhatsApp through Twilio's Messages API, with a status callback per outbox row. */
export function twilioSender(options: TwilioSenderOptions): ChannelSender {
  const client = twilio(options.accountSid, options.authToken, { keepAlive: options.keepAlive ?? true, timeout: options.timeoutMs ?? 15_000 });
  const fromFor = (request: OutboundRequest) => (request.channel === "whatsapp" ? options.whatsappFrom : options.smsFrom);

  return {
    async send(request) {
      const from = fromFor(request);
      if (!from) {
        const variable = request.channel === "whatsapp" ? "TWILIO_WHATSAPP_FROM" : "TWILIO_SMS_FROM";
        // Retried: once the number is configured the message still goes out.
        return { status: "failed", retryable: true, code: "not_configured", message: `${variable} is not set` };
      }
      try {
        const message = await client.messages.create({
          to: request.to,
          from,
          statusCallback: `${options.publicBaseUrl}/webhooks/twilio/status?outbox=${request.outboxId}`,
          ...(request.contentSid
            ? { contentSid: request.contentSid, ...(request.contentVariables ? { contentVariables: request.contentVariables } : {}) }
            : { body: request.body }),
        });
        return { status: "sent", providerMessageId: message.sid };
      } catch (error) {
        return describe(error);
      }
    },

    async findAccepted(request, since, alreadyRecorded) {
      const from = fromFor(request);
      if (!from) return null;
      let recent;
      try {
        // Not filtered by send date: a message Twilio accepted but has not sent yet has none.
        recent = await client.messages.list({ to: request.to, from, limit: 50 });
      } catch {
        // Cannot tell: leave the row for the next round rather than risk sending twice.
        throw new Error("could not list recent messages to reconcile a crashed send");
      }
      const ours = recent.find(
        (m) =>
          // Only API sends are ours; "outbound-reply" are the bot's TwiML answers.
          m.direction === "outbound-api" &&
          !alreadyRecorded.has(m.sid) &&
          m.dateCreated.getTime() >= since.getTime() - 60_000 &&
          // A template's text is Twilio's; a free-form message must be this very text.
          (request.contentSid ? true : m.body === request.body),
      );
      return ours?.sid ?? null;
    },
  };
}
