/**
 * The outbox sender as it was on Twilio's SDK (src/channels/twilio/twilioSender.ts before it moved to
 * node:http), kept verbatim as the oracle that twilioSender.test.ts compares the new one with.
 */
import http from "node:http";
import https from "node:https";
import twilio from "twilio";
import { z } from "zod";
import { loggableError } from "../../../src/lib/logger.js";
import type { ChannelSender, OutboundRequest, SendResult } from "../../../src/channels/sender.js";

/** Twilio's own REST API, where requests go unless TWILIO_API_URL says otherwise. */
export const TWILIO_API_URL = "https://api.twilio.com";

export interface TwilioSenderOptions {
  accountSid: string;
  authToken: string;
  smsFrom: string | undefined;
  whatsappFrom: string | undefined;
  /** Base of the status callback URL (PUBLIC_BASE_URL). */
  publicBaseUrl: string;
  /**
   * Where the REST API is (TWILIO_API_URL): Twilio's own by default; a local fake or a mock server
   * (e.g. a Prism mock of Twilio's OpenAPI description) in tests and staging.
   */
  apiUrl?: string | undefined;
  /** Tests turn keep-alive off: nock cannot end Twilio's kept-alive sockets (nock/nock#3001). */
  keepAlive?: boolean;
  /** Milliseconds before a request to Twilio counts as a network failure (retried). */
  timeoutMs?: number;
}

// Twilio error codes that mean "do not try again" even though they are not 4xx-shaped.
const WINDOW_CLOSED = 63016;
const UNSUBSCRIBED = 21610;
const RATE_LIMITED = 63018;

// The request never reached Twilio: nothing can have been accepted, so sending again is safe.
const NEVER_SENT = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ERR_INVALID_URL"]);

function describe(error: unknown): SendResult {
  if (typeof error === "object" && error !== null && "status" in error && typeof error.status === "number") {
    const status = error.status;
    const code = "code" in error && typeof error.code === "number" ? error.code : undefined;
    const message = error instanceof Error ? error.message : `HTTP ${status}`;
    return {
      status: "failed",
      // 401/403: credentials rotated or an account problem — fixable, so keep the message for later.
      retryable: status === 429 || status >= 500 || status === 401 || status === 403 || code === RATE_LIMITED,
      // A 5xx may come from a gateway after Twilio accepted the message (a 502 on the way back):
      // like a timeout, it has to be reconciled before the message is sent again.
      ...(status >= 500 ? { ambiguous: true } : {}),
      ...(code === WINDOW_CLOSED ? { windowClosed: true } : {}),
      ...(code === UNSUBSCRIBED ? { unsubscribed: true } : {}),
      code: String(code ?? status),
      message,
    };
  }
  // No HTTP answer at all: DNS, refused connection, reset, timeout.
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "network";
  return { status: "failed", retryable: true, ...(NEVER_SENT.has(code) ? {} : { ambiguous: true }), code, message };
}

/**
 * Twilio's HTTP client, sending every request to `apiUrl` instead of https://*.twilio.com (same
 * path, same auth, same timeout and keep-alive). Only the base changes: pagination links Twilio
 * returns go through here too.
 */
class RebasedRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(apiUrl: string, options: { keepAlive: boolean; timeout: number }) {
    super(options);
    this.base = new URL(apiUrl);
    // The SDK only configures an https agent; a plain-http fake needs the same socket options.
    if (this.base.protocol === "http:") this.axios.defaults.httpAgent = new http.Agent({ keepAlive: options.keepAlive, timeout: options.timeout });
    else this.axios.defaults.httpsAgent ??= new https.Agent({ keepAlive: options.keepAlive, timeout: options.timeout });
  }

  override request<TData>(opts: RequestOptions<TData>) {
    const uri = new URL(opts.uri);
    const prefix = this.base.pathname.replace(/\/+$/, "");
    const rebased = new URL(`${prefix}${uri.pathname}${uri.search}`, this.base.origin);
    return super.request<TData>({ ...opts, uri: rebased.href });
  }
}

type RequestOptions<TData> = Parameters<InstanceType<typeof twilio.RequestClient>["request"]>[0] & { data?: TData };

// One page of Twilio's message list, as far as reconciliation reads it.
const MessageList = z.object({
  messages: z.array(
    z.object({
      sid: z.string(),
      body: z.string().nullable().catch(null),
      direction: z.string(),
      date_created: z.string().nullable(),
      // Not in Twilio's documented resource, but fakes and mocks may echo it: when present it names
      // the outbox row for certain.
      status_callback: z.string().nullable().optional(),
    }),
  ),
  next_page_uri: z.string().nullable().optional(),
});

/** Sends SMS and WhatsApp through Twilio's Messages API, with a status callback per outbox row. */
export function twilioSender(options: TwilioSenderOptions): ChannelSender {
  const keepAlive = options.keepAlive ?? true;
  const timeout = options.timeoutMs ?? 15_000;
  const apiUrl = options.apiUrl ?? TWILIO_API_URL;
  const client = twilio(options.accountSid, options.authToken, {
    keepAlive,
    timeout,
    ...(new URL(apiUrl).origin === TWILIO_API_URL ? {} : { httpClient: new RebasedRequestClient(apiUrl, { keepAlive, timeout }) }),
  });
  const fromFor = (request: OutboundRequest) => (request.channel === "whatsapp" ? options.whatsappFrom : options.smsFrom);
  // The row, and which try of it: a report about an earlier try must not change the current one.
  const callbackUrl = (request: OutboundRequest) =>
    `${options.publicBaseUrl}/webhooks/twilio/status?outbox=${request.outboxId}${request.attempt !== undefined ? `&try=${request.attempt}` : ""}`;

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
          statusCallback: callbackUrl(request),
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
      // The raw list rather than client.messages.list(): the SDK's MessageInstance drops fields it
      // does not know, and status_callback (when the API returns it) is the one that is certain.
      // Not filtered by send date: a message Twilio accepted but has not sent yet has none. Newest
      // first, page after page until the messages are older than `since` (at most MAX_LIST_PAGES).
      let uri: string | null = `${TWILIO_API_URL}/2010-04-01/Accounts/${options.accountSid}/Messages.json`;
      let params: Record<string, string | number> | undefined = { To: request.to, From: from, PageSize: 50 };
      const earliest = since.getTime() - CLOCK_SKEW_MS;
      for (let pages = 0; uri && pages < MAX_LIST_PAGES; pages++) {
        let response: { statusCode: number; body: unknown };
        try {
          response = await client.request({ method: "get", uri, ...(params ? { params } : {}) });
        } catch (error) {
          // Never the raw error: it carries the request (auth header, the resident's number).
          throw new ProviderUnavailable(loggableError(error));
        }
        const page = response.statusCode === 200 ? MessageList.safeParse(response.body) : null;
        // Cannot tell: the caller leaves the row for a later round rather than risk sending twice.
        if (!page?.success) throw new ProviderUnavailable({ code: `HTTP ${response.statusCode}`, message: "could not list recent messages" });
        const ours = page.data.messages.find((m) => {
          // Only API sends are ours; "outbound-reply" are the bot's TwiML answers.
          if (m.direction !== "outbound-api" || alreadyRecorded.has(m.sid)) return false;
          const created = createdAt(m.date_created);
          const named = callbackOf(m.status_callback);
          if (named !== null) {
            if (named.outboxId !== request.outboxId) return false;
            // The same row, but an earlier try (before staff sent it again): not this one.
            if (named.attempt !== undefined) return request.attempt === undefined || named.attempt === request.attempt;
            return created === null || created >= earliest;
          }
          if (created === null || created < earliest) return false;
          // A template's text is Twilio's; a free-form message must be this text, as Twilio may have re-encoded it.
          return request.contentSid ? true : m.body !== null && sameText(m.body, request.body);
        });
        if (ours) return ours.sid;
        const oldest = page.data.messages.reduce<number | null>((min, m) => {
          const created = createdAt(m.date_created);
          return created === null ? min : Math.min(min ?? created, created);
        }, null);
        if (!page.data.next_page_uri || (oldest !== null && oldest < earliest)) break;
        uri = new URL(page.data.next_page_uri, TWILIO_API_URL).href;
        params = undefined;
      }
      return null;
    },
  };
}

/** Twilio's list failed, or answered nothing readable: carries only a code and a message that are safe to log. */
export class ProviderUnavailable extends Error {
  override readonly name = "ProviderUnavailable";
  readonly code: string;
  constructor(detail: { code: string; message: string }) {
    super(detail.message);
    this.code = detail.code;
  }
}

// Our clock and Twilio's may differ a little.
const CLOCK_SKEW_MS = 60_000;
// Twilio lists 50 a page: 250 messages to one resident since the try began is far more than happen.
const MAX_LIST_PAGES = 5;

const createdAt = (raw: string | null): number | null => {
  const time = raw ? new Date(raw).getTime() : NaN;
  return Number.isNaN(time) ? null : time;
};

/** The outbox row (and try) named in one of our status callback URLs; null when it is not one. */
function callbackOf(statusCallback: string | null | undefined): { outboxId: number; attempt?: number } | null {
  if (!statusCallback) return null;
  try {
    const query = new URL(statusCallback).searchParams;
    const raw = query.get("outbox");
    if (!raw || !/^\d{1,10}$/.test(raw)) return null;
    const attempt = query.get("try");
    return { outboxId: Number(raw), ...(attempt && /^\d{1,15}$/.test(attempt) ? { attempt: Number(attempt) } : {}) };
  } catch {
    return null;
  }
}

/**
 * Whether Twilio's copy of a message is the text we sent. Smart Encoding replaces characters that
 * would force UCS-2 with GSM look-alikes (curly quotes, long dashes, ellipsis, odd spaces), and
 * Twilio may trim: compare after folding those the same way on both sides.
 */
export function sameText(theirs: string, ours: string): boolean {
  return foldForComparison(theirs) === foldForComparison(ours);
}

function foldForComparison(text: string): string {
  return text
    .normalize("NFKC")
    .replace(/[\u200B-\u200D\u2060\uFEFF\u00AD]/g, "")
    .replace(/[\u2018\u2019\u201A\u201B\u2032\u2035\u02BC\u0060\u00B4]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F\u2033\u2036\u00AB\u00BB]/g, '"')
    .replace(/[\u2010-\u2015\u2212\u2043\uFE58\uFE63\uFF0D]/g, "-")
    .replace(/\u2026/g, "...")
    .replace(/\s+/gu, " ")
    .trim();
}
