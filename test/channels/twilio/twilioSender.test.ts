import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { twilioSender, type TwilioSenderOptions } from "../../../src/channels/twilio/twilioSender.js";
import type { ChannelSender, OutboundRequest } from "../../../src/channels/sender.js";
import { PUBLIC_BASE_URL, TWILIO_ACCOUNT_SID as ACCOUNT, TWILIO_AUTH_TOKEN as TOKEN } from "../../support/twilio.js";
import { sdkTransport } from "./sdkTwilioSender.js";

// The oracle: the same sender on Twilio's SDK client instead of its own node:http one
// (./sdkTwilioSender.ts). Both talk to the same scripted local server; what they send and what they
// conclude must be the same.
const sdkTwilioSender = (o: TwilioSenderOptions): ChannelSender => twilioSender({ ...o, transport: sdkTransport(o) });

const MESSAGES = `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`;
const TIMEOUT_MS = 300;

interface Seen {
  method: string;
  path: string;
  query: Array<[string, string]>;
  form: Array<[string, string]> | null;
  headers: { authorization?: string; accept?: string; acceptCharset?: string; contentType?: string; connection?: string };
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

let server: http.Server;
let apiUrl: string;
let handler: Handler = (_req, res) => res.end();
let seen: Seen[] = [];
let count = 0;

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://x");
    seen.push({
      method: req.method ?? "",
      path: url.pathname,
      query: [...url.searchParams],
      form: req.method === "POST" ? [...new URLSearchParams(Buffer.concat(chunks).toString("utf8"))] : null,
      headers: {
        authorization: req.headers.authorization,
        accept: req.headers.accept,
        acceptCharset: req.headers["accept-charset"],
        contentType: req.headers["content-type"],
        connection: req.headers.connection,
      } as Seen["headers"],
    });
    handler(req, res, ++count);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const options = (overrides: Partial<TwilioSenderOptions> = {}): TwilioSenderOptions => ({
  accountSid: ACCOUNT,
  authToken: TOKEN,
  smsFrom: "+9611555000",
  whatsappFrom: "whatsapp:+9611555001",
  publicBaseUrl: PUBLIC_BASE_URL,
  apiUrl,
  keepAlive: false,
  timeoutMs: TIMEOUT_MS,
  ...overrides,
});

const sms: OutboundRequest = { outboxId: 42, channel: "sms", to: "+96170123456", body: "مرحبا & <hi> \"q\" 'a' + 100% ~*!()\r\n😀", attempt: 1_700_000_000_123 };
const template: OutboundRequest = { outboxId: 43, channel: "whatsapp", to: "whatsapp:+96170123456", body: "ignored", contentSid: "HX0123456789abcdef0123456789abcdef", contentVariables: '{"1":"42"}' };

const json = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
};

/** What each sender sends and concludes for one scripted answer. */
async function both<T>(script: Handler, act: (sender: ChannelSender) => Promise<T>, senderOptions?: Partial<TwilioSenderOptions>) {
  const run = async (make: (o: TwilioSenderOptions) => ChannelSender) => {
    handler = script;
    seen = [];
    count = 0;
    const outcome = await act(make(options(senderOptions))).then(
      (value) => ({ value }),
      // Each file has its own ProviderUnavailable class: compared by name, code and message.
      (error: unknown) => ({ threw: error instanceof Error ? { name: error.name, code: (error as { code?: unknown }).code, message: error.message } : String(error) }),
    );
    return { outcome, seen };
  };
  return { sdk: await run(sdkTwilioSender), ours: await run(twilioSender) };
}

const SID = "SM0123456789abcdef0123456789abcdef";

const SEND_SCRIPTS: Array<[string, Handler]> = [
  ["201 with the message", (_q, res) => json(res, 201, { sid: SID, status: "queued", direction: "outbound-api" })],
  ["200 with the message", (_q, res) => json(res, 200, { sid: SID })],
  ["400 with Twilio's code and reason", (_q, res) => json(res, 400, { code: 21211, message: "The 'To' number +96170000000 is not a valid phone number.", more_info: "https://www.twilio.com/docs/errors/21211", status: 400 })],
  ["400 outside the WhatsApp window (63016)", (_q, res) => json(res, 400, { code: 63016, message: "Failed to send freeform message because you are outside the allowed window.", status: 400 })],
  ["400 unsubscribed (21610)", (_q, res) => json(res, 400, { code: 21610, message: "Attempt to send to unsubscribed recipient", status: 400 })],
  ["400 rate limited by code (63018)", (_q, res) => json(res, 400, { code: 63018, message: "Rate limit exceeded", status: 400 })],
  ["401", (_q, res) => json(res, 401, { code: 20003, message: "Authenticate", status: 401 })],
  ["403", (_q, res) => json(res, 403, { code: 20008, message: "Forbidden", status: 403 })],
  ["404", (_q, res) => json(res, 404, { code: 20404, message: "The requested resource was not found", status: 404 })],
  ["429", (_q, res) => json(res, 429, { code: 20429, message: "Too many requests", status: 429 })],
  ["500 with a JSON error", (_q, res) => json(res, 500, { code: 20500, message: "Internal Server Error", status: 500 })],
  ["502 from a gateway (HTML)", (_q, res) => json(res, 502, "<html><body>502 Bad Gateway</body></html>", { "Content-Type": "text/html" })],
  ["503 with an empty body", (_q, res) => json(res, 503, "")],
  ["400 whose code is a string", (_q, res) => json(res, 400, { code: "21211", message: "odd", status: 400 })],
  ["an RFC 9457 problem", (_q, res) => json(res, 400, { type: "https://www.twilio.com/docs/errors/21211", title: "Invalid 'To' Phone Number", status: 400, code: 21211, detail: "x" })],
  ["an RFC 9457 problem naming another status", (_q, res) => json(res, 400, { type: "about:blank", title: "Slow down", status: 429, code: 20429 })],
  ["an RFC 9457 problem without a code", (_q, res) => json(res, 503, { type: "about:blank", title: "Down", status: 503, code: 0 })],
  ["a redirect (not followed)", (_q, res) => json(res, 302, "", { Location: "/elsewhere" })],
  ["201 that is not JSON", (_q, res) => json(res, 201, "<Message/>", { "Content-Type": "text/xml" })],
  ["201 with an empty body", (_q, res) => json(res, 201, "")],
  ["the connection dropped after the request", (req) => req.socket.destroy()],
  ["no answer in time", (_q, res) => setTimeout(() => json(res, 201, { sid: SID }), TIMEOUT_MS + 200)],
];

describe("twilioSender, against the SDK it replaces", () => {
  it.each(SEND_SCRIPTS)("send, when Twilio answers: %s", async (_label, script) => {
    for (const request of [sms, template]) {
      const { sdk, ours } = await both(script, (sender) => sender.send(request));
      expect(ours.outcome).toEqual(sdk.outcome);
      expect(ours.seen).toEqual(sdk.seen);
    }
  });

  it("sends what the SDK sent: the form, the auth, the status callback with the row and the try", async () => {
    const { sdk, ours } = await both((_q, res) => json(res, 201, { sid: SID }), (sender) => sender.send(sms));
    expect(ours).toEqual(sdk);
    expect(ours.seen).toEqual([
      {
        method: "POST",
        path: MESSAGES,
        query: [],
        form: [
          ["To", sms.to],
          ["StatusCallback", `${PUBLIC_BASE_URL}/webhooks/twilio/status?outbox=42&try=1700000000123`],
          ["From", "+9611555000"],
          ["Body", sms.body],
        ],
        headers: {
          authorization: `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString("base64")}`,
          accept: "application/json",
          acceptCharset: "utf-8",
          contentType: "application/x-www-form-urlencoded",
          connection: "close",
        },
      },
    ]);
    expect(ours.outcome).toEqual({ value: { status: "sent", providerMessageId: SID } });
  });

  it("a template goes as ContentSid and ContentVariables, without Body; no try, no &try", async () => {
    const { sdk, ours } = await both((_q, res) => json(res, 201, { sid: SID }), (sender) => sender.send({ ...template, attempt: undefined }));
    expect(ours).toEqual(sdk);
    expect(Object.fromEntries(ours.seen[0]!.form!)).toEqual({
      To: template.to,
      From: "whatsapp:+9611555001",
      StatusCallback: `${PUBLIC_BASE_URL}/webhooks/twilio/status?outbox=43`,
      ContentSid: template.contentSid,
      ContentVariables: template.contentVariables,
    });
  });

  it("a number not configured: nothing is sent, retried later", async () => {
    const { sdk, ours } = await both((_q, res) => json(res, 201, { sid: SID }), (sender) => sender.send(template), { whatsappFrom: undefined });
    expect(ours).toEqual(sdk);
    expect(ours.outcome).toEqual({ value: { status: "failed", retryable: true, code: "not_configured", message: "TWILIO_WHATSAPP_FROM is not set" } });
    expect(ours.seen).toEqual([]);
  });

  it("the outcomes that must stay ambiguous (a 5xx, a timeout, a dropped connection) are, and a refusal is not", async () => {
    const outcome = async (script: Handler) => (await both(script, (sender) => sender.send(sms))).ours.outcome;
    expect(await outcome((_q, res) => json(res, 502, "<html/>"))).toMatchObject({ value: { status: "failed", retryable: true, ambiguous: true, code: "502" } });
    expect(await outcome((req) => req.socket.destroy())).toMatchObject({ value: { status: "failed", retryable: true, ambiguous: true, code: "ECONNRESET" } });
    expect(await outcome((_q, res) => setTimeout(() => json(res, 201, { sid: SID }), TIMEOUT_MS + 200))).toEqual({
      value: { status: "failed", retryable: true, ambiguous: true, code: "ECONNABORTED", message: `timeout of ${TIMEOUT_MS}ms exceeded` },
    });
    expect(await outcome((_q, res) => json(res, 429, { code: 20429, message: "Too many requests" }))).toEqual({ value: { status: "failed", retryable: true, code: "20429", message: "Too many requests" } });
  });

  it("an answer that stops halfway is ambiguous too, and counts as a timeout once the deadline passed", async () => {
    const halfway: Handler = (_q, res) => {
      res.writeHead(201, { "Content-Type": "application/json", "Content-Length": "200" });
      res.write('{"sid":"SM');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const slowBody: Handler = (_q, res) => {
      res.writeHead(201, { "Content-Type": "application/json" });
      res.write('{"sid":');
      setTimeout(() => res.end(`"${SID}"}`), TIMEOUT_MS + 200);
    };
    const cut = await both(halfway, (sender) => sender.send(sms));
    expect(cut.ours.outcome).toEqual({ value: { status: "failed", retryable: true, ambiguous: true, code: "ECONNRESET", message: "aborted" } });
    // The SDK (axios) took it for a permanent failure with code "201": the message Twilio had accepted was marked failed.
    expect(cut.sdk.outcome).toMatchObject({ value: { status: "failed", retryable: false, code: "201" } });
    const slow = await both(slowBody, (sender) => sender.send(sms));
    expect(slow.ours.outcome).toEqual({ value: { status: "failed", retryable: true, ambiguous: true, code: "ECONNABORTED", message: `timeout of ${TIMEOUT_MS}ms exceeded` } });
  });

  it("Twilio unreachable: refused (never sent, so not ambiguous) and no such host, as the SDK reported them", async () => {
    for (const unreachable of ["http://127.0.0.1:9", "https://127.0.0.1:9", "http://localhost:9", "http://twilio.invalid"]) {
      const { sdk, ours } = await both(handler, (sender) => sender.send(sms), { apiUrl: unreachable });
      expect(ours.outcome).toEqual(sdk.outcome);
      const list = await both(handler, (sender) => sender.findAccepted(sms, new Date(), new Set()), { apiUrl: unreachable });
      expect(list.ours.outcome).toEqual(list.sdk.outcome);
    }
    const refused = await both(handler, (sender) => sender.send(sms), { apiUrl: "http://127.0.0.1:9" });
    expect(refused.ours.outcome).toMatchObject({ value: { status: "failed", retryable: true, code: "ECONNREFUSED" } });
    expect(refused.ours.outcome).not.toHaveProperty("value.ambiguous");
  });

  it("an API URL with a path prefix keeps it, as the SDK client did", async () => {
    const { sdk, ours } = await both((_q, res) => json(res, 201, { sid: SID }), (sender) => sender.send(sms), { apiUrl: `${apiUrl}/mock/twilio/` });
    expect(ours).toEqual(sdk);
    expect(ours.seen[0]!.path).toBe(`/mock/twilio${MESSAGES}`);
  });

  // ---- reconciliation: the message list ----------------------------------------------------------

  const since = new Date(Date.now() - 5 * 60_000);
  const listed = (fields: Record<string, unknown>) => ({ sid: SID, body: sms.body, direction: "outbound-api", date_created: new Date().toUTCString(), ...fields });
  const page = (messages: unknown[], next: string | null = null) => ({ messages, page: 0, page_size: 50, next_page_uri: next });

  const LIST_SCRIPTS: Array<[string, Handler]> = [
    ["an empty page", (_q, res) => json(res, 200, page([]))],
    ["our message, by its text", (_q, res) => json(res, 200, page([listed({})]))],
    ["our message, by its status callback", (_q, res) => json(res, 200, page([listed({ body: "other", status_callback: `${PUBLIC_BASE_URL}/webhooks/twilio/status?outbox=42&try=1700000000123` })]))],
    ["another try's message", (_q, res) => json(res, 200, page([listed({ status_callback: `${PUBLIC_BASE_URL}/webhooks/twilio/status?outbox=42&try=1` })]))],
    ["the bot's TwiML reply with the same text", (_q, res) => json(res, 200, page([listed({ direction: "outbound-reply" })]))],
    ["a message already recorded", (_q, res) => json(res, 200, page([listed({ sid: "SMalready" })]))],
    ["an old message", (_q, res) => json(res, 200, page([listed({ date_created: new Date(0).toUTCString() })]))],
    [
      "ours on the third page",
      (req, res) => {
        const n = Number(new URL(req.url ?? "/", "http://x").searchParams.get("Page") ?? 0);
        const next = `${MESSAGES}?PageSize=1&Page=${n + 1}&To=${encodeURIComponent(sms.to)}&From=%2B9611555000`;
        json(res, 200, page(n < 2 ? [listed({ sid: `SMother${n}`, body: `other ${n}` })] : [listed({})], next));
      },
    ],
    [
      "an absolute next page link to another host",
      (_q, res, n) => json(res, 200, page(n === 1 ? [listed({ body: "other" })] : [listed({})], `https://elsewhere.example/2010-04-01/Accounts/${ACCOUNT}/Messages.json?Page=1#frag`)),
    ],
    ["more pages than it reads", (_q, res, n) => json(res, 200, page([listed({ sid: `SM${n}`, body: "other" })], `${MESSAGES}?Page=${n}`))],
    ["a 503", (_q, res) => json(res, 503, { code: 20503, message: "Service unavailable", status: 503 })],
    ["a 401", (_q, res) => json(res, 401, { code: 20003, message: "Authenticate", status: 401 })],
    ["200 that is not JSON", (_q, res) => json(res, 200, "<html/>")],
    ["200 in another shape", (_q, res) => json(res, 200, { items: [] })],
    ["the connection dropped", (req) => req.socket.destroy()],
    ["no answer in time", (_q, res) => setTimeout(() => json(res, 200, page([])), TIMEOUT_MS + 200)],
  ];

  it.each(LIST_SCRIPTS)("findAccepted, when the list answers: %s", async (_label, script) => {
    for (const request of [sms, { ...template, attempt: 5 }]) {
      const { sdk, ours } = await both(script, (sender) => sender.findAccepted(request, since, new Set(["SMalready"])));
      expect(ours.outcome).toEqual(sdk.outcome);
      expect(ours.seen).toEqual(sdk.seen);
    }
  });

  it("the list asks for this resident's messages from our number, 50 a page, with the same auth", async () => {
    const { sdk, ours } = await both((_q, res) => json(res, 200, page([])), (sender) => sender.findAccepted(sms, since, new Set()));
    expect(ours).toEqual(sdk);
    expect(ours.seen).toEqual([
      {
        method: "GET",
        path: MESSAGES,
        query: [
          ["To", sms.to],
          ["From", "+9611555000"],
          ["PageSize", "50"],
        ],
        form: null,
        headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString("base64")}`, accept: "application/json", acceptCharset: "utf-8", contentType: undefined, connection: "close" },
      },
    ]);
  });
});

describe("twilioSender's own guarantees", () => {
  it.each(["https://api.twilio.com//elsewhere.example/steal?Page=1", "/.//elsewhere.example/steal?Page=1"])(
    "a next page link that would name another host (%s) still goes to the API URL, credentials with it",
    async (next) => {
      handler = (_q, res, n) => json(res, 200, { messages: n === 1 ? [] : [], page: 0, page_size: 50, next_page_uri: n === 1 ? next : null });
      seen = [];
      count = 0;
      const sender = twilioSender(options());
      await sender.findAccepted({ channel: "sms", to: "+96171123456", body: "x", outboxId: 1, attempt: 1 } as OutboundRequest, new Date(Date.now() - 60_000), new Set());
      // Both pages were asked of our server: the second one too, never of elsewhere.example.
      expect(seen).toHaveLength(2);
      expect(seen[1]!.path).toContain("elsewhere.example/steal");
    },
  );

  it("an answer far larger than any of Twilio's is cut off and reads as unclear, not as an answer", async () => {
    handler = (_q, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const more = () => {
        while (sent < 8 && res.write(chunk)) sent++;
        if (sent < 8) res.once("drain", () => (sent++, more()));
        else res.end("{}");
      };
      more();
    };
    const result = await twilioSender(options()).send(sms);
    expect(result.status).not.toBe("sent");
    expect(JSON.stringify(result)).toMatch(/larger than/);
  });

  it("refuses an account SID that is not one, as the SDK's client did", () => {
    expect(() => twilioSender(options({ accountSid: "SK0123" }))).toThrow("accountSid must start with AC");
    expect(() => sdkTwilioSender(options({ accountSid: "SK0123" }))).toThrow(/accountSid must start with AC/);
  });

  it("asks for a kept-alive connection unless told not to, as the SDK did", async () => {
    const { sdk, ours } = await both((_q, res) => json(res, 201, { sid: SID }), (sender) => sender.send(sms), { keepAlive: true });
    expect(ours).toEqual(sdk);
    expect(ours.seen[0]!.headers.connection).toBe("keep-alive");
  });

  it("an error body without a reason reads as the HTTP status (the SDK left the message undefined)", async () => {
    const sender = twilioSender(options());
    handler = (_q, res) => json(res, 400, { code: 21211 });
    expect(await sender.send(sms)).toEqual({ status: "failed", retryable: false, code: "21211", message: "[HTTP 400] Failed to execute request" });
  });

  it("a 2xx answer naming no message SID is unclear, so it is reconciled rather than recorded without an id", async () => {
    const sender = twilioSender(options());
    handler = (_q, res) => json(res, 201, { status: "queued" });
    expect(await sender.send(sms)).toMatchObject({ status: "failed", retryable: true, ambiguous: true, code: "bad_response" });
  });
});
