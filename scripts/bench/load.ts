/**
 * The load generator: N simulated residents at once, each texting the town hall over SMS the way a
 * real resident files a request (test/support/staffWorld.ts `residentFiles`), each sending its next
 * message when the answer to the previous one arrives (closed loop). A resident who has filed is
 * replaced by a new one (a fresh phone number), so N conversations are always in flight. Every
 * request is a real-shaped Twilio webhook (test/fixtures/twilio-sms.json) with a fresh MessageSid,
 * signed with Twilio's SDK. Only ever connects to 127.0.0.1.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import twilio from "twilio";
import { LOOPBACK, ROOT } from "./processes.js";

/** What a resident types, message by message, to file a pothole report over SMS. */
export const FILING = ["في جورة كبيرة بالطريق العام", "1", "قدام الجامع", "1"] as const;

const FIXTURE = JSON.parse(readFileSync(path.join(ROOT, "test", "fixtures", "twilio-sms.json"), "utf8")) as Record<string, string>;

let phoneCounter = 0;
/** A new Lebanese mobile number for every resident of the run (+961 71 xxxxxx, then 76, 78...). */
function newPhone(): string {
  const n = phoneCounter++;
  const prefixes = ["71", "76", "78", "79", "81", "70"];
  return `+961${prefixes[Math.floor(n / 1_000_000) % prefixes.length]}${String(n % 1_000_000).padStart(6, "0")}`;
}

export interface LoadOptions {
  /** The servers' ports on 127.0.0.1; residents are spread across them (resident i → port i mod n). */
  ports: number[];
  residents: number;
  /** Residents start no new filing after this long; filings under way are finished (not counted in messages/s). */
  seconds: number;
  authToken: string;
  /** The public URL the signature is computed over (PUBLIC_BASE_URL + /webhooks/twilio). */
  signedUrl: string;
  /** A request with no answer after this long counts as a timeout error. */
  requestTimeoutMs: number;
}

export interface RoundResult {
  messages: number;
  /** Messages answered 200 with TwiML. */
  ok: number;
  /** Of those, answered before the deadline: the throughput's numerator. */
  okInWindow: number;
  filings: number;
  /** From the start to the deadline (or the last answer, if sooner). */
  elapsedMs: number;
  /** How long finishing the filings under way took after the deadline. */
  drainMs: number;
  messagesPerSecond: number;
  /** Latencies of the messages answered 200 with TwiML, ms, sorted. */
  latencies: number[];
  /** The same, per message of the filing (1st: the problem, 2nd: "1", ...), sorted. */
  latenciesByStep: number[][];
  errors: { status: Record<string, number>; network: number; timeout: number; notTwiml: number; emptyReply: number; noReference: number };
  /** A few examples of what went wrong, for the report. */
  errorSamples: string[];
}

type Answer = { status: number; body: string } | { failure: "timeout" | "network"; message: string };

function post(agent: http.Agent, port: number, body: string, signature: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: LOOPBACK,
        port,
        path: "/webhooks/twilio",
        method: "POST",
        agent,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": Buffer.byteLength(body),
          "x-twilio-signature": signature,
          "user-agent": "TwilioProxy/1.1",
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (e) => resolve({ failure: "network", message: e.message }));
      },
    );
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve({ failure: "timeout", message: `no answer after ${timeoutMs} ms` });
    });
    req.on("error", (e) => resolve({ failure: "network", message: e.message }));
    req.end(body);
  });
}

/** One round: `residents` residents in a closed loop for `seconds`. */
export async function runRound(options: LoadOptions): Promise<RoundResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.residents });
  const latencies: number[] = [];
  const latenciesByStep: number[][] = FILING.map(() => []);
  const errors: RoundResult["errors"] = { status: {}, network: 0, timeout: 0, notTwiml: 0, emptyReply: 0, noReference: 0 };
  const errorSamples: string[] = [];
  const sample = (text: string) => {
    if (errorSamples.length < 12 && !errorSamples.includes(text)) errorSamples.push(text);
  };
  let messages = 0;
  let okInWindow = 0;
  let filings = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  let lastAnswer = started;

  const resident = async (index: number) => {
    const port = options.ports[index % options.ports.length]!;
    // Bounded: the deadline ends the loop; each message is bounded by the request timeout.
    while (performance.now() < deadline) {
      const from = newPhone();
      // After the deadline nobody starts a new filing, but a filing under way is finished, so that
      // every filing is checked for its reference (bounded: at most 3 more messages, each timed out).
      if (performance.now() >= deadline) return;
      for (let step = 0; step < FILING.length; step++) {
        const sid = `SM${randomBytes(16).toString("hex")}`;
        const fields: Record<string, string> = { ...FIXTURE, MessageSid: sid, SmsMessageSid: sid, SmsSid: sid, From: from, Body: FILING[step]! };
        const signature = twilio.getExpectedTwilioSignature(options.authToken, options.signedUrl, fields);
        const body = new URLSearchParams(fields).toString();
        const sent = performance.now();
        const answer = await post(agent, port, body, signature, options.requestTimeoutMs);
        const now = performance.now();
        lastAnswer = Math.max(lastAnswer, now);
        messages++;
        const inWindow = now <= deadline;
        if ("failure" in answer) {
          errors[answer.failure]++;
          sample(`${answer.failure}: ${answer.message}`);
          break; // this resident gives up; a new one takes their place
        }
        if (answer.status !== 200) {
          errors.status[answer.status] = (errors.status[answer.status] ?? 0) + 1;
          sample(`HTTP ${answer.status} on message ${step + 1} ("${FILING[step]}"): ${answer.body.slice(0, 200)}`);
          break;
        }
        if (!answer.body.includes("<Response")) {
          errors.notTwiml++;
          sample(`not TwiML on message ${step + 1}: ${answer.body.slice(0, 200)}`);
          break;
        }
        latencies.push(now - sent);
        latenciesByStep[step]!.push(now - sent);
        if (inWindow) okInWindow++;
        if (!answer.body.includes("<Message")) {
          errors.emptyReply++;
          sample(`empty TwiML (no <Message>) on message ${step + 1} ("${FILING[step]}"): ${answer.body.slice(0, 200)}`);
          break;
        }
        if (step === FILING.length - 1) {
          if (/#\d+/.test(answer.body)) filings++;
          else {
            errors.noReference++;
            sample(`no #reference in the last answer: ${answer.body.slice(0, 300)}`);
          }
        }
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.residents }, (_, i) => resident(i)));
  } finally {
    agent.destroy();
  }
  // Throughput over the window only (answers that arrived before the deadline): the drain that
  // follows, where fewer and fewer residents are still filing, would understate it.
  const elapsedMs = Math.min(lastAnswer, deadline) - started;
  latencies.sort((a, b) => a - b);
  for (const l of latenciesByStep) l.sort((a, b) => a - b);
  return {
    messages,
    ok: latencies.length,
    filings,
    elapsedMs,
    okInWindow,
    drainMs: Math.max(0, lastAnswer - deadline),
    messagesPerSecond: elapsedMs > 0 ? (okInWindow * 1000) / elapsedMs : 0,
    latencies,
    latenciesByStep,
    errors,
    errorSamples,
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const errorCount = (e: RoundResult["errors"]) =>
  Object.values(e.status).reduce((a, b) => a + b, 0) + e.network + e.timeout + e.notTwiml + e.emptyReply + e.noReference;
