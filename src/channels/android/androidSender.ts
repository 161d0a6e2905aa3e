import http from "node:http";
import https from "node:https";
import gateway, { type HttpClient } from "android-sms-gateway";
import { z } from "zod";
import { smsCost } from "../../lib/smsSegments.js";
import { networkFailure } from "../networkFailure.js";
import type { ChannelSender, OutboundRequest, SendResult } from "../sender.js";

// Node runs the package as the ES module it is (its default export is the client class); TypeScript,
// finding no "type": "module" in its package.json, types it as CommonJS (the default import is the
// whole module). Either way, this is the class.
const Client: typeof gateway.default = typeof gateway === "function" ? gateway : gateway.default;

/** SMS Gateway for Android's cloud server; a phone on the LAN answers at `http://<its address>:8080`. */
export const ANDROID_CLOUD_URL = "https://api.sms-gate.app/3rdparty/v1";

export interface AndroidSenderOptions {
  /** Where the gateway's API is (ANDROID_GATEWAY_URL): the phone's own server, or the cloud's. */
  url: string;
  /** The API credentials the app shows on its Home tab. */
  username: string;
  password: string;
  /** Which SIM slot sends (1, 2…); the phone's default SIM when absent. */
  simNumber?: number | undefined;
  /** Sends allowed in any 60 seconds (ANDROID_SMS_PER_MINUTE): Android itself holds back apps sending more than ~30 a minute. */
  perMinute?: number;
  /** Milliseconds before a request to the gateway counts as unanswered (retried, reconciled first). */
  timeoutMs?: number;
  /** Milliseconds on a clock that never goes back, for `pace`; performance.now by default. */
  clock?: () => number;
  /** Waits `ms` milliseconds, or rejects with `signal.reason` when it aborts first; for `pace`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Tests turn keep-alive off: nock cannot end kept-alive sockets (nock/nock#3001). */
  keepAlive?: boolean;
}

const DEFAULT_PER_MINUTE = 25;
const DEFAULT_TIMEOUT_MS = 15_000;
const WINDOW_MS = 60_000;


const E164 = /^\+[1-9]\d{6,14}$/;

// What the gateway answers to a send or a state request, as far as we read it.
const MessageState = z.looseObject({ id: z.string().min(1).max(200) });

/**
 * Sends SMS through an Android phone running SMS Gateway for Android, in local mode (the phone's own
 * server on the LAN) or cloud mode. Each message gets the id "bl-<outboxId>-<try>": the gateway
 * refuses an id it already has (409, taken as sent), the state of a message can be asked by it
 * (`findAccepted`), and the phone's sms:sent/delivered/failed webhooks carry it back. Long text goes
 * as one message; the phone splits it into a multipart SMS. `pace` keeps to `perMinute` sends in any
 * 60 seconds. Never logs: errors come back in the `SendResult`.
 */
export function androidSender(options: AndroidSenderOptions): ChannelSender {
  const perMinute = options.perMinute ?? DEFAULT_PER_MINUTE;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(perMinute) || perMinute < 1) throw new RangeError("perMinute must be a whole number of at least 1");
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError("timeoutMs must be a positive number of milliseconds");
  if (options.simNumber !== undefined && (!Number.isInteger(options.simNumber) || options.simNumber < 1)) throw new RangeError("simNumber must be a SIM slot number from 1");
  const baseUrl = new URL(options.url);
  if (baseUrl.protocol !== "http:" && baseUrl.protocol !== "https:") throw new TypeError("the Android gateway's URL must be http: or https:");
  const base = baseUrl.toString().replace(/\/+$/, "");
  const client = new Client(options.username, options.password, gatewayHttp({ origin: baseUrl.origin, keepAlive: options.keepAlive ?? true, timeoutMs }), base);
  const clock = options.clock ?? (() => performance.now());
  const sleep = options.sleep ?? abortableSleep;
  // When each of the last `perMinute` slots was handed out, oldest first.
  const granted: number[] = [];

  return {
    async send(request) {
      const refused = unsendable(request);
      if (refused) return refused;
      const id = messageIdOf(request);
      try {
        // skipPhoneValidation: the number is E.164 already (checked above, and by libphonenumber when
        // the resident wrote). The app's own check would refuse numbers it does not think are
        // mobiles, and reads national numbers with the SIM's country, or Russia's when it has none.
        const answer: unknown = await client.send(
          {
            id,
            message: request.body,
            phoneNumbers: [addressOf(request.to)],
            ...(options.simNumber !== undefined ? { simNumber: options.simNumber } : {}),
            withDeliveryReport: true,
          },
          { skipPhoneValidation: true },
        );
        // The gateway keeps the id it was given; a 2xx whose body cannot be read was still accepted.
        const state = MessageState.safeParse(answer);
        return { status: "sent", providerMessageId: state.success ? state.data.id : id };
      } catch (error) {
        // The gateway already has a message with this id: an earlier try of this row was accepted
        // and its answer lost (a timeout, a crash). The phone will not send it twice.
        if (error instanceof AndroidGatewayError && error.status === 409) return { status: "sent", providerMessageId: id };
        return describe(error);
      }
    },

    async findAccepted(request, _since, alreadyRecorded) {
      // The id names the row and the try, so the time window adds nothing.
      if (unsendable(request)) return null;
      const id = messageIdOf(request);
      let answer: unknown;
      try {
        answer = await client.getState(id);
      } catch (error) {
        if (error instanceof AndroidGatewayError && error.status === 404) return null;
        // Anything else: cannot tell, and the worker asks again later rather than risk sending twice.
        throw error;
      }
      const state = MessageState.safeParse(answer);
      const found = state.success ? state.data.id : id;
      return alreadyRecorded.has(found) ? null : found;
    },

    async pace(request, signal) {
      // Android counts every part of a multipart SMS (a long Arabic answer is two or three); a
      // message longer than the whole budget waits for an empty minute, then goes.
      const parts = Math.min(Math.max(1, smsCost(request.body).segments), perMinute);
      for (;;) {
        signal?.throwIfAborted();
        const now = clock();
        let oldest = granted[0];
        while (oldest !== undefined && oldest <= now - WINDOW_MS) {
          granted.shift();
          oldest = granted[0];
        }
        if (oldest === undefined || granted.length + parts <= perMinute) {
          for (let i = 0; i < parts; i++) granted.push(now);
          return;
        }
        // Wait until enough slots leave the window, then look again (another caller may have taken them meanwhile).
        const freeing = granted[granted.length + parts - perMinute - 1] ?? oldest;
        await sleep(freeing + WINDOW_MS - now, signal);
      }
    },
  };
}

/** The gateway's id for a request: our row and which try, so that its reports lead back to both. */
export function messageIdOf(request: Pick<OutboundRequest, "outboxId" | "attempt">): string {
  return `bl-${request.outboxId}-${request.attempt ?? 0}`;
}

/** Why a request cannot go by SMS through a phone at all; null when it can. */
function unsendable(request: OutboundRequest): SendResult | null {
  if (request.channel !== "sms" || request.contentSid) {
    return { status: "failed", retryable: false, code: "unsupported_channel", message: "the Android gateway sends SMS only, not WhatsApp messages or templates" };
  }
  if (!E164.test(addressOf(request.to))) return { status: "failed", retryable: false, code: "invalid_number", message: "the recipient is not an E.164 phone number" };
  return null;
}

// Addresses are E.164; a "whatsapp:" prefix would be a routing mistake, and the number is still the number.
const addressOf = (to: string) => to.replace(/^whatsapp:/i, "");

function describe(error: unknown): SendResult {
  if (error instanceof AndroidGatewayError) {
    const status = error.status;
    return {
      status: "failed",
      // 401/403: credentials changed on the phone; 404: the URL lacks a part (the cloud's
      // /3rdparty/v1) — all fixable, so the message is kept for later. 400/422: this message is wrong.
      retryable: status === 401 || status === 403 || status === 404 || status === 408 || status === 429 || status >= 500,
      // A 5xx may come after the gateway took the message (a proxy's 502 on the way back): it is
      // reconciled (findAccepted) before being sent again.
      ...(status >= 500 ? { ambiguous: true } : {}),
      code: String(status),
      message: error.message,
    };
  }
  // No HTTP answer at all: refused, unreachable, reset, or too slow.
  return networkFailure(error);
}

/** The gateway answered outside 2xx: its status, and the reason from its `{ "message": … }` body. */
export class AndroidGatewayError extends Error {
  override readonly name = "AndroidGatewayError";
  readonly status: number;
  readonly code: string;

  constructor(status: number, text: string) {
    const reason = ErrorBody.safeParse(parseJson(text));
    super(reason.success && reason.data.message.trim() ? reason.data.message.trim().slice(0, 300) : `HTTP ${status}`);
    this.status = status;
    this.code = String(status);
  }
}

const ErrorBody = z.object({ message: z.string() });

/** No answer within the deadline. */
class RequestTimeout extends Error {
  override readonly name = "RequestTimeout";
  readonly code = "ETIMEDOUT";
  constructor(timeoutMs: number) {
    super(`no answer from the Android gateway within ${timeoutMs}ms`);
  }
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

// The gateway's answers are a message's state, a few hundred bytes; anything far larger is not it.
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * The HTTP client the gateway's SDK asks for, on node:http(s): JSON in, the parsed JSON answer out
 * (undefined when a 2xx body is empty or not JSON); any other status rejects with an
 * AndroidGatewayError, no answer with a RequestTimeout or Node's network error (with its `code`).
 * One deadline for the whole exchange; redirects are not followed; requests go to `origin` only,
 * so the credentials never go elsewhere.
 */
function gatewayHttp(options: { origin: string; keepAlive: boolean; timeoutMs: number }): HttpClient {
  const agents = {
    "http:": new http.Agent({ keepAlive: options.keepAlive }),
    "https:": new https.Agent({ keepAlive: options.keepAlive }),
  };

  function request(method: string, address: string, headers: Record<string, string> = {}, body?: unknown): Promise<unknown> {
    const url = new URL(address);
    if (url.origin !== options.origin) return Promise.reject(new Error(`refusing to send the Android gateway's credentials to ${url.origin}`));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const allHeaders: http.OutgoingHttpHeaders = {
      ...headers,
      Accept: "application/json",
      Connection: options.keepAlive ? "keep-alive" : "close",
      ...(payload !== undefined ? { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(payload) } : {}),
    };
    const plain = url.protocol === "http:";
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        outcome();
      };
      const req = (plain ? http : https).request(url, { method, headers: allHeaders, agent: plain ? agents["http:"] : agents["https:"] }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          if ((size += chunk.length) > MAX_ANSWER_BYTES) req.destroy(Object.assign(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`), { code: "ECONNRESET" }));
        });
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString("utf8");
          finish(() => (status >= 200 && status < 300 ? resolve(text ? parseJson(text) : undefined) : reject(new AndroidGatewayError(status, text))));
        });
        res.on("error", (error) => finish(() => reject(error)));
        // Closed before its end (a dropped connection): an answer cut short is no answer.
        res.on("close", () => {
          if (!res.complete) finish(() => reject(Object.assign(new Error("the connection closed before the answer ended"), { code: "ECONNRESET" })));
        });
      });
      const deadline = setTimeout(() => {
        finish(() => reject(new RequestTimeout(options.timeoutMs)));
        req.destroy();
      }, options.timeoutMs);
      req.on("error", (error) => finish(() => reject(error)));
      req.end(payload);
    });
  }

  // The SDK's methods are generic in the answer's type; what they return is read with zod above.
  const answer = <T>(pending: Promise<unknown>) => pending as Promise<T>;
  return {
    get: (url, headers) => answer(request("GET", url, headers)),
    post: (url, body, headers) => answer(request("POST", url, headers, body)),
    put: (url, body, headers) => answer(request("PUT", url, headers, body)),
    patch: (url, body, headers) => answer(request("PATCH", url, headers, body)),
    delete: (url, headers) => answer(request("DELETE", url, headers)),
  };
}

/** setTimeout that rejects with the signal's reason when the signal aborts first. */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
