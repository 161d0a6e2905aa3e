import http from "node:http";
import https from "node:https";
import { z } from "zod";
import { loggableError } from "../../lib/logger.js";
import { networkFailure } from "../networkFailure.js";
import type { ChannelSender, OutboundRequest, SendResult } from "../sender.js";

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
  /** Tests turn keep-alive off: nock cannot end kept-alive sockets (nock/nock#3001). */
  keepAlive?: boolean;
  /** Milliseconds before a request to Twilio counts as a network failure (retried). */
  timeoutMs?: number;
  /** For tests only (another HTTP client as an oracle): how requests reach Twilio; twilioHttp on the options above by default. */
  transport?: TwilioTransport;
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
  return networkFailure(error);
}

/**
 * Twilio answered outside 2xx: its status and, from its JSON error body, its error code and reason —
 * what the SDK's RestException (or, for an RFC 9457 problem body, TwilioServiceException) carried.
 */
export class TwilioApiError extends Error {
  override readonly name = "TwilioApiError";
  readonly status: number;
  readonly code: number | undefined;

  constructor(statusCode: number, text: string) {
    const body = parseJson(text);
    const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : null;
    const fallback = (status: number) => `[HTTP ${status}] Failed to execute request`;
    if (fields && typeof fields.type === "string" && typeof fields.title === "string" && typeof fields.status === "number" && typeof fields.code === "number") {
      // RFC 9457 problem details.
      const status = fields.status || statusCode;
      super(`[HTTP ${status}] ${fields.title || "Failed to execute request"}`);
      this.status = status;
      this.code = fields.code || 0;
      return;
    }
    super(fields && fields.message !== undefined && fields.message !== null ? String(fields.message) : fallback(statusCode));
    this.status = statusCode;
    this.code = fields && typeof fields.code === "number" ? fields.code : undefined;
  }
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** No answer in time: named as the SDK's HTTP client (axios) named it, so logs and stored errors read the same. */
class RequestTimeout extends Error {
  override readonly name = "RequestTimeout";
  readonly code = "ECONNABORTED";
  constructor(timeoutMs: number) {
    super(`timeout of ${timeoutMs}ms exceeded`);
  }
}

/** Twilio's answer, whatever its status: the status code and the body as text. */
export interface HttpAnswer {
  statusCode: number;
  text: string;
}

/**
 * One request to Twilio's REST API (uri: its path and query, or an absolute link Twilio returned):
 * resolves with any status and the raw body; rejects only without an answer — a RequestTimeout, or
 * a Node network error with its `code`. What twilioHttp returns; exported for tests.
 */
export type TwilioTransport = (method: "GET" | "POST", uri: string, form?: URLSearchParams) => Promise<HttpAnswer>;

/**
 * A small HTTP client for Twilio's REST API on node:http(s) — what the SDK did through axios, without
 * loading the SDK: Basic auth, JSON accepted, no redirects followed, keep-alive as asked, and a
 * deadline for the whole exchange. Every request goes to `apiUrl` (same path and query): pagination
 * links Twilio returns are rebased too, so the credentials only ever go there.
 *
 * Not `fetch`: it refuses some ports outright ("bad port", e.g. 9), so an unreachable API would no
 * longer read as the ECONNREFUSED it is, and it would load undici besides.
 */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

function twilioHttp(options: { accountSid: string; authToken: string; apiUrl: string; keepAlive: boolean; timeoutMs: number }): TwilioTransport {
  const base = new URL(options.apiUrl);
  const prefix = base.pathname.replace(/\/+$/, "");
  const plain = base.protocol === "http:";
  // As the SDK configured its agent (a plain-http base got the same socket options).
  const agent = plain
    ? new http.Agent({ keepAlive: options.keepAlive, timeout: options.timeoutMs })
    : new https.Agent({ keepAlive: options.keepAlive, timeout: options.timeoutMs, maxSockets: 20, maxFreeSockets: 5, maxTotalSockets: 100 });
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString("base64")}`;

  return function request(method: "GET" | "POST", uri: string, form?: URLSearchParams): Promise<HttpAnswer> {
    const { pathname, search } = new URL(uri, TWILIO_API_URL);
    // Set the path on a URL of apiUrl's origin, never parse it against one: a path such as
    // "//elsewhere.example/x" (a link in an answer) would otherwise name another host.
    const url = new URL(base.origin);
    url.pathname = `${prefix}${pathname.replace(/^\/{2,}/, "/")}`;
    url.search = search;
    if (url.origin !== base.origin) return Promise.reject(new Error(`refusing to send Twilio credentials to ${url.origin}`));
    const body = form?.toString();
    const headers: http.OutgoingHttpHeaders = {
      Authorization: authorization,
      Accept: "application/json",
      "Accept-Charset": "utf-8",
      "User-Agent": `baladiya node/${process.version}`,
      Connection: options.keepAlive ? "keep-alive" : "close",
      ...(body !== undefined ? { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) } : {}),
    };
    return new Promise<HttpAnswer>((resolve, reject) => {
      // One deadline for the whole exchange: connecting, sending, waiting, reading the answer.
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const onDeadline = () => req.destroy(new RequestTimeout(options.timeoutMs));
      deadline.addEventListener("abort", onDeadline, { once: true });
      const done = () => deadline.removeEventListener("abort", onDeadline);
      // Whatever went wrong once the deadline passed, it is the deadline.
      const fail = (error: unknown) => {
        done();
        reject(deadline.aborted ? new RequestTimeout(options.timeoutMs) : nodeError(error));
      };
      const req = (plain ? http : https).request(url, { method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          // Twilio's answers are a few KiB (a page of 50 messages); anything far larger is not Twilio.
          if ((size += chunk.length) > MAX_ANSWER_BYTES) req.destroy(Object.assign(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`), { code: "ECONNRESET" }));
        });
        res.on("end", () => {
          done();
          resolve({ statusCode: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", fail);
        // Closed before its end (a dropped connection): an answer cut short is no answer.
        res.on("close", () => {
          if (!res.complete) fail(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
        });
      });
      req.on("error", fail);
      req.end(body);
    });
  };
}

/** A Node network error as axios reported it: an AggregateError (several addresses tried) gets its parts' messages. */
function nodeError(error: unknown): unknown {
  if (error instanceof AggregateError && !error.message && error.errors.length > 0) {
    const message = error.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).filter(Boolean).join("; ");
    return Object.assign(new Error(message || "AggregateError"), "code" in error ? { code: error.code } : {});
  }
  return error;
}

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
  // As the SDK's client refused it, at once rather than at the first message.
  if (!options.accountSid.startsWith("AC")) throw new Error("accountSid must start with AC");
  const api = options.transport ?? twilioHttp({ accountSid: options.accountSid, authToken: options.authToken, apiUrl, keepAlive, timeoutMs: timeout });
  const messagesUri = `/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
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
      // The fields in the order the SDK wrote them.
      const template = request.contentSid ? { contentSid: request.contentSid, contentVariables: request.contentVariables || undefined } : null;
      const fields: Array<[string, string | undefined]> = [
        ["To", request.to],
        ["StatusCallback", callbackUrl(request)],
        ["ContentVariables", template?.contentVariables],
        ["From", from],
        ["Body", template ? undefined : request.body],
        ["ContentSid", template?.contentSid],
      ];
      const form = new URLSearchParams(fields.filter((f): f is [string, string] => f[1] !== undefined));
      try {
        const answer = await api("POST", messagesUri, form);
        if (answer.statusCode < 200 || answer.statusCode >= 300) throw new TwilioApiError(answer.statusCode, answer.text);
        // An answer that is not the message (as the SDK did: it could not read one either) is as unclear as no answer.
        const message = JSON.parse(answer.text) as { sid?: unknown } | null;
        if (typeof message?.sid !== "string") throw Object.assign(new Error("Twilio's answer names no message SID"), { code: "bad_response" });
        return { status: "sent", providerMessageId: message.sid };
      } catch (error) {
        return describe(error);
      }
    },

    async findAccepted(request, since, alreadyRecorded) {
      const from = fromFor(request);
      if (!from) return null;
      // The raw list: status_callback (when the API returns it) is the field that is certain.
      // Not filtered by send date: a message Twilio accepted but has not sent yet has none. Newest
      // first, page after page until the messages are older than `since` (at most MAX_LIST_PAGES).
      let uri: string | null = `${messagesUri}?${new URLSearchParams({ To: request.to, From: from, PageSize: "50" })}`;
      const earliest = since.getTime() - CLOCK_SKEW_MS;
      for (let pages = 0; uri && pages < MAX_LIST_PAGES; pages++) {
        let response: HttpAnswer;
        try {
          response = await api("GET", uri);
        } catch (error) {
          // Never the raw error: it carries the request (auth header, the resident's number).
          throw new ProviderUnavailable(loggableError(error));
        }
        const page = response.statusCode === 200 ? MessageList.safeParse(parseJson(response.text)) : null;
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
        uri = page.data.next_page_uri;
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
