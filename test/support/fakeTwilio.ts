import { randomBytes } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** A message the fake accepted, as Twilio would have it: what tests count to prove exactly-once. */
export interface AcceptedMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  contentSid: string | null;
  statusCallback: string | null;
  /** The outbox row named in the status callback URL, when there is one. */
  outboxId: number | null;
  dateCreated: Date;
}

/** What the fake does with one POST to Messages.json. */
export type SendBehaviour =
  /** Waits `delayMs` (Twilio is slow), then accepts the message and answers 201. */
  | { kind: "accept"; delayMs?: number }
  /** Accepts the message, then a gateway on the way back answers 5xx (502 by default). */
  | { kind: "acceptThen5xx"; status?: number; delayMs?: number }
  /** Accepts the message, then the connection drops without an answer. */
  | { kind: "acceptThenDrop"; delayMs?: number }
  /** The connection drops before Twilio sees the message. */
  | { kind: "drop" }
  /** Twilio refuses (not accepted): e.g. 503 before accepting, or 400 with an error code. */
  | { kind: "refuse"; status: number; code: number; message: string; delayMs?: number };

export interface FakeTwilioOptions {
  accountSid: string;
  authToken: string;
  /** Decides each send; `n` counts POSTs from 1. Default: accept at once. */
  onSend?: (n: number, message: { to: string; body: string }) => SendBehaviour;
  /** How long the message list takes to answer, in ms; a function of `n` (lists counted from 1) to vary it. */
  listDelayMs?: number | ((n: number) => number);
  /**
   * Whether list entries carry status_callback. Twilio's documented resource does not, so by
   * default they do not either, and reconciliation is exercised on text matching.
   */
  listStatusCallback?: boolean;
  /** Largest page the list answers, whatever PageSize asks (to exercise pagination). */
  listPageSize?: number;
  /** The list answers 503 (Twilio's API is having trouble), so nothing can be reconciled. */
  listFails?: boolean;
  /** Rewrites bodies as Twilio's Smart Encoding does (curly quotes → straight, long dashes → "-"). */
  smartEncoding?: boolean;
}

export interface FakeTwilio {
  /** Base URL to give the sender as TWILIO_API_URL, e.g. http://127.0.0.1:49152. */
  readonly url: string;
  /** Every message accepted, in order. */
  readonly accepted: AcceptedMessage[];
  /** Counts of requests seen. */
  readonly requests: { sends: number; lists: number };
  /** Changes the behaviour for the rest of the test. */
  set(options: Partial<Omit<FakeTwilioOptions, "accountSid" | "authToken">>): void;
  /** How many times each outbox row was accepted (tests expect 1 for each). */
  acceptedPerOutbox(): Map<number, number>;
  close(): Promise<void>;
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

const smartEncode = (text: string) => text.replace(/[\u201C\u201D]/g, '"').replace(/[\u2018\u2019]/g, "'").replace(/[\u2013\u2014]/g, "-").replace(/\u2026/g, "...");

/**
 * A local HTTP stand-in for Twilio's Messages API on 127.0.0.1 (random port): POST
 * /2010-04-01/Accounts/{sid}/Messages.json and its GET list with To/From filters, answering in
 * Twilio's JSON shape. Each send can be scripted: slow, accepted-then-502, dropped connections.
 */
export async function startFakeTwilio(options: FakeTwilioOptions): Promise<FakeTwilio> {
  let behaviour: Omit<FakeTwilioOptions, "accountSid" | "authToken"> = { listStatusCallback: false, ...options };
  const accepted: AcceptedMessage[] = [];
  const requests = { sends: 0, lists: 0 };
  const messagesPath = `/2010-04-01/Accounts/${options.accountSid}/Messages.json`;
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString("base64")}`;
  const sockets = new Set<import("node:net").Socket>();

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const resource = (m: AcceptedMessage, withCallback: boolean) => ({
    sid: m.sid,
    account_sid: options.accountSid,
    api_version: "2010-04-01",
    to: m.to,
    from: m.from,
    body: m.body,
    status: "queued",
    direction: "outbound-api",
    num_segments: "1",
    num_media: "0",
    date_created: m.dateCreated.toUTCString(),
    date_updated: m.dateCreated.toUTCString(),
    date_sent: null,
    error_code: null,
    error_message: null,
    price: null,
    price_unit: "USD",
    messaging_service_sid: null,
    uri: `${messagesPath.replace(".json", "")}/${m.sid}.json`,
    subresource_uris: { media: `${messagesPath.replace(".json", "")}/${m.sid}/Media.json` },
    ...(withCallback ? { status_callback: m.statusCallback } : {}),
  });

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.headers.authorization !== expectedAuth) return json(res, 401, { code: 20003, message: "Authenticate", status: 401 });
    if (url.pathname !== messagesPath) return json(res, 404, { code: 20404, message: "The requested resource was not found", status: 404 });

    if (req.method === "GET") {
      const n = ++requests.lists;
      const delay = behaviour.listDelayMs ?? 0;
      await sleep(typeof delay === "function" ? delay(n) : delay);
      if (behaviour.listFails) return json(res, 503, { code: 20503, message: "Service unavailable", status: 503 });
      const to = url.searchParams.get("To");
      const from = url.searchParams.get("From");
      const pageSize = Math.min(Number(url.searchParams.get("PageSize") ?? 50), behaviour.listPageSize ?? 1000);
      const pageNumber = Number(url.searchParams.get("Page") ?? 0);
      const all = accepted.filter((m) => (!to || m.to === to) && (!from || m.from === from)).reverse();
      const matching = all.slice(pageNumber * pageSize, (pageNumber + 1) * pageSize);
      const filters = `${to ? `&To=${encodeURIComponent(to)}` : ""}${from ? `&From=${encodeURIComponent(from)}` : ""}`;
      const pageUri = (n: number) => `${messagesPath}?PageSize=${pageSize}&Page=${n}${filters}`;
      return json(res, 200, {
        messages: matching.map((m) => resource(m, behaviour.listStatusCallback === true)),
        page: pageNumber,
        page_size: pageSize,
        start: pageNumber * pageSize,
        end: Math.max(0, pageNumber * pageSize + matching.length - 1),
        uri: pageUri(pageNumber),
        first_page_uri: pageUri(0),
        next_page_uri: (pageNumber + 1) * pageSize < all.length ? pageUri(pageNumber + 1) : null,
        previous_page_uri: pageNumber > 0 ? pageUri(pageNumber - 1) : null,
      });
    }
    if (req.method !== "POST") return json(res, 405, { code: 20004, message: "Method not allowed", status: 405 });

    const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
    const to = form.get("To") ?? "";
    const from = form.get("From") ?? "";
    const body = form.get("Body") ?? "";
    if (!to || !from) return json(res, 400, { code: 21604, message: "A 'To' phone number is required.", status: 400 });
    const n = ++requests.sends;
    const plan = behaviour.onSend?.(n, { to, body }) ?? { kind: "accept" };
    if (plan.kind === "drop") return req.socket.destroy();
    await sleep(plan.delayMs ?? 0);
    if (plan.kind === "refuse") return json(res, plan.status, { code: plan.code, message: plan.message, more_info: `https://www.twilio.com/docs/errors/${plan.code}`, status: plan.status });

    // Twilio has the message from here on, whatever happens to the answer.
    const statusCallback = form.get("StatusCallback");
    const outboxRaw = statusCallback ? new URL(statusCallback).searchParams.get("outbox") : null;
    const message: AcceptedMessage = {
      sid: `SM${randomBytes(16).toString("hex")}`,
      to,
      from,
      body: behaviour.smartEncoding ? smartEncode(body) : body,
      contentSid: form.get("ContentSid"),
      statusCallback,
      outboxId: outboxRaw ? Number(outboxRaw) : null,
      dateCreated: new Date(),
    };
    accepted.push(message);
    if (plan.kind === "acceptThenDrop") return req.socket.destroy();
    if (plan.kind === "acceptThen5xx") {
      res.writeHead(plan.status ?? 502, { "Content-Type": "text/html" });
      return res.end("<html><body>502 Bad Gateway</body></html>");
    }
    return json(res, 201, resource(message, true));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    accepted,
    requests,
    set(options) {
      behaviour = { ...behaviour, ...options };
    },
    acceptedPerOutbox() {
      const counts = new Map<number, number>();
      for (const m of accepted) if (m.outboxId !== null) counts.set(m.outboxId, (counts.get(m.outboxId) ?? 0) + 1);
      return counts;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
