import { createHash, randomBytes, randomInt } from "node:crypto";
import type { Logger } from "pino";
import type { InboundMessage } from "../../inbox/inboundMessage.js";
import { loggableError } from "../../lib/logger.js";
import { maskPhone } from "../../lib/maskPhone.js";
import { toE164 } from "../../lib/phone.js";
import { sendFailure, type ChannelSender, type DeliveryReport, type OutboundRequest, type SendResult } from "../sender.js";
import { concatenationUdh, DATA_CODING, decodeText, encodeText, splitUserData, type Concatenation } from "./encoding.js";
import { Pacer, realSleep, Window, type Sleep } from "./flowControl.js";
import { Reassembly, type Assembly } from "./reassembly.js";
import { parseReceipt } from "./receipts.js";
import { Redeliveries } from "./redeliveries.js";
import { smpp, STATUS, statusCode, statusName } from "./smppLibrary.js";
import { Submissions } from "./submissions.js";

export interface SmppOptions {
  /** smpp://host:2775, or ssmpp://host:3550 for TLS (SMPP_URL). */
  url: string;
  /** SMPP_SYSTEM_ID, SMPP_PASSWORD, SMPP_SYSTEM_TYPE (empty by default). */
  systemId: string;
  password: string;
  systemType?: string;
  /**
   * Our short code, number or sender name (SMPP_SOURCE_ADDR). Its TON/NPI unless `sourceTon` /
   * `sourceNpi` say otherwise: "+961…" or 9+ digits international (1/1, sent without "+"), 7-8
   * digits national (2/1), up to 6 digits a short code (network specific, 3/0), anything with a
   * letter an alphanumeric sender id (5/0).
   */
  sourceAddr: string;
  sourceTon?: number;
  sourceNpi?: number;
  /** submit_sm per second, one every 1/perSecond s (SMPP_PER_SECOND); 10 by default. */
  perSecond?: number;
  /** submit_sm waiting for their response at most (SMPP_WINDOW); 10 by default. */
  window?: number;
  /** Keep-alive period; 30 000 ms by default. */
  enquireLinkMs?: number;
  /** Reconnection backoff: doubling from minMs to maxMs, each wait jittered down to half; 1 s .. 60 s by default. */
  reconnect?: { minMs: number; maxMs: number };
  /** How long a response (bind, submit_sm, enquire_link) may take; 10 000 ms by default. */
  responseTimeoutMs?: number;
  /** How long the parts of an incomplete concatenated message wait for the rest; 60 000 ms by default. */
  partTimeoutMs?: number;
}

export interface SmppHandlers {
  /** Resolves after the message is durably handled (committed); rejects = temporary failure. */
  onMessage(message: InboundMessage): Promise<void>;
  onReceipt(report: DeliveryReport): Promise<void>;
}

export interface SmppChannel {
  sender: ChannelSender;
  /** Connects and binds, reconnecting forever with backoff until stop(). */
  start(): void;
  /** Unbinds and closes; sends waiting for an answer fail retryable. */
  stop(): Promise<void>;
  state(): { status: "connecting" | "bound" | "disconnected" | "stopped"; since: Date; lastError?: string };
}

export interface SmppDeps {
  logger: Logger;
  clock?: () => Date;
  /** Waits between throttled retries and between paced submissions; tests pass one that does not wait. */
  sleep?: Sleep;
}

type Status = ReturnType<SmppChannel["state"]>["status"];

/** SMPP 3.4 in bind_transceiver's interface_version. */
const INTERFACE_VERSION = 0x34;
// esm_class: UDH indicator, and the message type bits (2-5) of receipts.
const ESM_UDHI = 0x40;
const ESM_TYPE_MASK = 0x3c;
const ESM_DELIVERY_RECEIPT = 0x04;
const ESM_INTERMEDIATE_NOTIFICATION = 0x20;
/** A throttled or queue-full submit_sm is tried again after 1 s, then 2 s, … within responseTimeoutMs. */
const THROTTLE_BACKOFF_MS = 1000;
const THROTTLED = new Set<number>([STATUS.RTHROTTLED, STATUS.RMSGQFUL]);
/** Refusals that say nothing against the message: the SMSC or the bind had a problem. */
const RETRYABLE = new Set<number>([STATUS.RINVBNDSTS, STATUS.RSYSERR, STATUS.RMSGQFUL, STATUS.RTHROTTLED, STATUS.RSUBMITFAIL, STATUS.RX_T_APPN]);
const MAX_PENDING_ASSEMBLIES = 1000;
/** Requests remembered per connection, counting timed-out submit_sm still listening for a late answer. */
const MAX_LISTENING = 1000;
/** How long a message whose answer may have been lost is recognised when delivered again (redeliveries.ts). */
const REDELIVERY_WINDOW_MS = 10 * 60_000;

/** One connection (TCP or TLS) to the SMSC, from connect to close. */
interface Link {
  id: number;
  session: smpp.Session;
  bound: boolean;
  closed: boolean;
  /** PDUs written on it: a response from the SMSC to our request number n proves it read all before n. */
  writes: number;
  pending: Map<number, Pending>;
  window: Window;
  /**
   * Messages being handed over with a part that came on this link (not answered yet), by
   * fingerprint, with how many deliveries of it are being handled (a copy the SMSC sent again
   * because our answer was late shares the first's entry).
   */
  inflight: Map<string, { handled: Handled; holders: number }>;
  /** Messages answered OK on this link whose answer the SMSC has not yet been seen to read. */
  unconfirmed: Array<{ written: number; handled: Handled }>;
  enquiring: boolean;
  timers: NodeJS.Timeout[];
  closedPromise: Promise<void>;
  markClosed(): void;
}

/**
 * Our request waiting for its response. `listener` sees the response as soon as it is read (before
 * any PDU read after it is handled), also when it comes after the timeout (`late`).
 */
interface Pending {
  written: number;
  settled: boolean;
  settle(answer: Answer): void;
  listener?: Listener | undefined;
}

type Listener = (pdu: smpp.PDU, late: boolean) => void;

/** `unwritable`: the library could not build or write the PDU (nothing went out). */
type Answer = { kind: "response"; pdu: smpp.PDU } | { kind: "timeout" } | { kind: "closed"; written: boolean } | { kind: "unwritable"; error: string };

/** A PDU from the SMSC that we owe a response. */
interface Incoming {
  link: Link;
  pdu: smpp.PDU;
  answered: boolean;
}

interface Handled {
  fingerprint: string;
  providerMessageId: string;
}

/**
 * A part's fate: accepted, refused (by the SMSC, an answer; or not writable here: either way it is
 * not at the SMSC), or cut off (no bind, a dropped connection, stop).
 */
type PartOutcome = { kind: "accepted"; messageId: string } | { kind: "refused" | "cut off"; result: Extract<SendResult, { status: "failed" }> };

/**
 * An SMPP 3.4 transceiver bind to an operator or aggregator: residents' SMS to our short code come in
 * as deliver_sm and go to `onMessage`; the outbox's messages go out as submit_sm through `sender`;
 * delivery receipts go to `onReceipt`.
 *
 * Guarantees: every PDU the SMSC sends is answered (unknown commands with generic_nack). A message —
 * a long one once all its parts are in — is answered OK only after `onMessage` resolved, and with
 * ESME_RX_T_APPN (deliver again later) when it rejects or its parts do not all arrive in time; an
 * SMSC's redelivery keeps its providerMessageId (see redeliveries.ts), and so does a copy it sends
 * while the first is still being handled. `send` never throws: a refusal is a failed result,
 * retryable when the SMSC or the bind had the problem, ambiguous when a submit_sm went out and no
 * answer came back; sending the same try again after a long message failed midway submits only the
 * parts the SMSC has not taken (see submissions.ts). A receipt carries the outbox row and try of
 * its message.
 */
export function smppChannel(options: SmppOptions, handlers: SmppHandlers, deps: SmppDeps): SmppChannel {
  const config = settings(options);
  const log = deps.logger.child({ route: "smpp" });
  const clock = deps.clock ?? (() => new Date());
  const now = () => clock().getTime();
  const sleep = deps.sleep ?? realSleep;
  const source = sourceAddress(options);

  let status: Status = "disconnected";
  let since = clock();
  let lastError: string | undefined;
  let current: Link | null = null;
  let started = false;
  let stopped = false;
  let stopping: Promise<void> | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let failures = 0;
  let links = 0;
  let reference = randomInt(256);
  const stopController = new AbortController();
  const handingOver = new Set<Promise<void>>();

  const pacer = new Pacer(config.perSecond, now, sleep);
  const submissions = new Submissions({ now });
  const redeliveries = new Redeliveries({ ttlMs: REDELIVERY_WINDOW_MS, now });
  const reassembly = new Reassembly<Incoming>({
    timeoutMs: config.partTimeoutMs,
    maxPending: MAX_PENDING_ASSEMBLIES,
    rememberMs: REDELIVERY_WINDOW_MS,
    now,
    onGiveUp(replies, reason) {
      log.warn({ parts: replies.length, reason }, "gave up an incomplete long message: the SMSC will deliver its parts again");
      for (const reply of replies) answer(reply, STATUS.RX_T_APPN);
    },
  });

  const setStatus = (next: Status) => {
    if (next === status) return;
    status = next;
    since = clock();
  };

  // ---- connection ----

  function connect(): void {
    reconnectTimer = null;
    if (stopped) return;
    setStatus("connecting");
    let session: smpp.Session;
    try {
      session = smpp.connect({ url: config.url });
    } catch (error) {
      lastError = loggableError(error).message;
      setStatus("disconnected");
      scheduleReconnect();
      return;
    }
    const link = newLink(++links, session, config.window);
    current = link;
    // Several PDUs in flight (the window): without this, Nagle's algorithm holds each next one back
    // until the SMSC's delayed ACK, which it sends with its response, so the window would be one.
    session.socket.setNoDelay(true);
    session.on("connect", () => void bind(link));
    session.on("pdu", (pdu) => onPdu(link, pdu));
    session.on("error", (error) => {
      lastError = loggableError(error).message;
      log.warn({ link: link.id, error: loggableError(error) }, "SMPP connection error");
      session.destroy();
    });
    session.on("close", () => onClose(link));
    // Connecting and binding share one deadline.
    link.timers.push(
      setTimeout(() => {
        if (link.bound || link.closed) return;
        lastError = `not bound within ${config.responseTimeoutMs} ms`;
        session.destroy();
      }, config.responseTimeoutMs),
    );
  }

  async function bind(link: Link): Promise<void> {
    const fields = { system_id: options.systemId, password: options.password, system_type: options.systemType ?? "", interface_version: INTERFACE_VERSION };
    const reply = await request(link, "bind_transceiver", fields);
    if (link.closed || stopped) return;
    if (reply.kind !== "response" || reply.pdu.command_status !== STATUS.ROK) {
      lastError =
        reply.kind === "response" ? `bind refused: ${statusName(reply.pdu.command_status)}` : reply.kind === "unwritable" ? `bind_transceiver not written: ${reply.error}` : "no answer to bind_transceiver";
      log.error({ link: link.id, systemId: options.systemId, error: lastError }, "SMPP bind failed");
      link.session.destroy();
      return;
    }
    link.bound = true;
    failures = 0;
    lastError = undefined;
    setStatus("bound");
    log.info({ link: link.id, systemId: options.systemId }, "SMPP bound as transceiver");
    link.timers.push(setInterval(() => void enquire(link), config.enquireLinkMs));
  }

  async function enquire(link: Link): Promise<void> {
    if (link.enquiring || !link.bound) return;
    link.enquiring = true;
    const reply = await request(link, "enquire_link", {});
    link.enquiring = false;
    if (reply.kind === "timeout" && !link.closed) {
      lastError = `enquire_link unanswered for ${config.responseTimeoutMs} ms`;
      log.warn({ link: link.id }, "SMPP link silent: reconnecting");
      link.session.destroy();
    }
  }

  function onClose(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    link.bound = false;
    for (const timer of link.timers) clearTimeout(timer);
    for (const pending of link.pending.values()) pending.settle({ kind: "closed", written: true });
    link.pending.clear();
    link.window.close(new Error("the SMPP connection closed"));
    // Their answers may not have reached the SMSC: it will deliver them again (redeliveries.ts).
    for (const { handled } of link.inflight.values()) redeliveries.remember(handled.fingerprint, handled.providerMessageId);
    for (const { handled } of link.unconfirmed) redeliveries.remember(handled.fingerprint, handled.providerMessageId);
    if (link.inflight.size + link.unconfirmed.length > 0) log.info({ link: link.id, messages: link.inflight.size + link.unconfirmed.length }, "connection closed before the SMSC confirmed our answers: remembering them for redelivery");
    link.inflight.clear();
    link.unconfirmed = [];
    link.markClosed();
    if (current !== link) return;
    current = null;
    if (stopped) return;
    log.warn({ link: link.id, error: lastError }, "SMPP connection closed");
    setStatus("disconnected");
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (stopped || reconnectTimer) return;
    const base = Math.min(config.reconnect.maxMs, config.reconnect.minMs * 2 ** Math.min(failures, 30));
    failures++;
    const delay = base / 2 + (Math.random() * base) / 2;
    reconnectTimer = setTimeout(connect, delay);
  }

  /** Ends the connection politely, and for certain soon after. */
  function hangUp(link: Link): void {
    if (link.closed) return;
    link.session.close();
    const timer = setTimeout(() => link.session.destroy(), Math.min(config.responseTimeoutMs, 2000));
    timer.unref();
    link.timers.push(timer);
  }

  // ---- PDUs ----

  /** Writes a request and waits for its response; never throws. */
  function request(link: Link, command: string, fields: Record<string, unknown>, listener?: Listener): Promise<Answer> {
    if (link.closed) return Promise.resolve({ kind: "closed", written: false });
    let pdu: smpp.PDU;
    try {
      pdu = new smpp.PDU(command, fields);
      // The library encodes the PDU before writing anything: a field it cannot encode throws here.
      if (!link.session.send(pdu)) return Promise.resolve({ kind: "closed", written: false });
    } catch (error) {
      log.error({ link: link.id, command, error: loggableError(error) }, "could not write an SMPP request");
      return Promise.resolve({ kind: "unwritable", error: loggableError(error).message });
    }
    const written = ++link.writes;
    const sequence = pdu.sequence_number;
    return new Promise<Answer>((resolve) => {
      const timer = setTimeout(() => {
        pending.settle({ kind: "timeout" });
        // Still listening for a late answer when someone wants it (a submit_sm accepted after all).
        if (!listener) link.pending.delete(sequence);
      }, config.responseTimeoutMs);
      const pending: Pending = {
        written,
        settled: false,
        listener,
        settle(answer) {
          if (pending.settled) return;
          pending.settled = true;
          clearTimeout(timer);
          resolve(answer);
        },
      };
      link.pending.set(sequence, pending);
      // Requests still listening after their timeout are forgotten, oldest first, beyond a bound.
      if (link.pending.size > MAX_LISTENING) {
        for (const [key, entry] of link.pending) {
          if (link.pending.size <= MAX_LISTENING) break;
          if (entry.settled) link.pending.delete(key);
        }
      }
    });
  }

  function onResponse(link: Link, pdu: smpp.PDU): void {
    const pending = link.pending.get(pdu.sequence_number);
    if (!pending) {
      log.warn({ link: link.id, command: pdu.command, sequence: pdu.sequence_number, status: statusName(pdu.command_status) }, "SMPP response to no request of ours");
      return;
    }
    link.pending.delete(pdu.sequence_number);
    // The SMSC read everything we wrote before that request: our answers up to there arrived.
    link.unconfirmed = link.unconfirmed.filter((u) => u.written > pending.written);
    // Now, not when the waiting send resumes: a PDU read in the same chunk (a receipt for this very
    // submit_sm) is handled before that.
    try {
      pending.listener?.(pdu, pending.settled);
    } catch (error) {
      log.error({ link: link.id, command: pdu.command, error: loggableError(error) }, "could not take in an SMPP response");
    }
    pending.settle({ kind: "response", pdu });
  }

  /** Writes the response to an SMSC's request (once); the write's number, or null when the link is gone. */
  function answer(incoming: Incoming, commandStatus: number): number | null {
    if (incoming.answered) return null;
    incoming.answered = true;
    const { link, pdu } = incoming;
    if (link.closed) return null;
    if (!link.session.send(responseTo(pdu, commandStatus))) return null;
    return ++link.writes;
  }

  function onPdu(link: Link, pdu: smpp.PDU): void {
    if (pdu.isResponse()) {
      onResponse(link, pdu);
      return;
    }
    const incoming: Incoming = { link, pdu, answered: false };
    switch (pdu.command) {
      case "enquire_link":
        answer(incoming, STATUS.ROK);
        return;
      case "unbind":
        answer(incoming, STATUS.ROK);
        link.bound = false;
        lastError = "unbound by the SMSC";
        log.warn({ link: link.id }, "the SMSC unbound: reconnecting");
        hangUp(link);
        return;
      case "deliver_sm":
      case "data_sm": {
        if (!link.bound) {
          answer(incoming, STATUS.RINVBNDSTS);
          return;
        }
        const handling = onDeliver(incoming).catch((error: unknown) => {
          log.error({ link: link.id, error: loggableError(error) }, "could not handle a deliver_sm");
          answer(incoming, STATUS.RX_T_APPN);
        });
        handingOver.add(handling);
        void handling.finally(() => handingOver.delete(handling));
        return;
      }
      case "alert_notification":
      case "outbind":
        // Neither has a response PDU.
        log.info({ link: link.id, command: pdu.command }, "ignored an SMPP PDU");
        return;
      default:
        // generic_nack for a command the library does not know, <command>_resp otherwise.
        log.warn({ link: link.id, command: pdu.command, commandId: pdu.command_id }, "SMPP command not supported: refused");
        answer(incoming, STATUS.RINVCMDID);
    }
  }

  // ---- inbound ----

  async function onDeliver(incoming: Incoming): Promise<void> {
    const { pdu } = incoming;
    const esmClass = int(pdu.esm_class) ?? 0;
    const messageType = esmClass & ESM_TYPE_MASK;
    if (messageType === ESM_DELIVERY_RECEIPT || messageType === ESM_INTERMEDIATE_NOTIFICATION) return onReceiptPdu(incoming);
    if (messageType !== 0) {
      // A handset's delivery or user acknowledgement: nothing for the bot.
      answer(incoming, STATUS.ROK);
      return;
    }
    const sourceAddr = str(pdu.source_addr);
    const from = residentNumber(sourceAddr, int(pdu.source_addr_ton) ?? 0);
    if (!from) {
      log.warn({ link: incoming.link.id, source: maskPhone(sourceAddr) }, "message from an address that is not a phone number: ignored");
      answer(incoming, STATUS.ROK);
      return;
    }
    const dataCoding = int(pdu.data_coding) ?? 0;
    const userData = userDataOf(pdu);
    const { concatenation, body } = esmClass & ESM_UDHI ? splitUserData(userData) : { concatenation: null, body: userData };
    const parts = concatenation ?? sarOf(pdu);
    const fingerprint = hash([sourceAddr, str(pdu.destination_addr), String(dataCoding), String(esmClass & ESM_UDHI), userData.toString("hex"), parts ? `${parts.refBits}:${parts.ref}:${parts.total}:${parts.seq}` : ""]);

    if (!parts || parts.total < 2 || parts.seq < 1 || parts.seq > parts.total) {
      await handOver(from, [{ bytes: body, dataCoding }], fingerprint, [incoming], null);
      return;
    }
    const key = `${sourceAddr}|${parts.refBits}:${parts.ref}|${parts.total}`;
    const added = reassembly.add(key, parts.total, { seq: parts.seq, bytes: body, dataCoding, fingerprint, reply: incoming });
    switch (added.kind) {
      case "waiting":
        return;
      case "handled":
        log.info({ from: maskPhone(from), part: parts.seq, of: parts.total }, "a part of a long message handled already, delivered again: answered OK");
        answer(incoming, STATUS.ROK);
        return;
      case "refused":
        answer(incoming, STATUS.RX_T_APPN);
        return;
      case "complete": {
        const { assembly } = added;
        await handOver(from, assembly.parts, hash([key, ...assembly.parts.map((p) => p.fingerprint)]), assembly.replies, assembly);
        return;
      }
    }
  }

  /**
   * Hands one message (all its parts) to onMessage, then answers every PDU that carried it: OK once
   * onMessage resolved, ESME_RX_T_APPN when it rejected.
   */
  async function handOver(from: string, parts: ReadonlyArray<{ bytes: Buffer; dataCoding: number }>, fingerprint: string, replies: Incoming[], assembly: Assembly<Incoming> | null): Promise<void> {
    const involved = new Set(replies.map((r) => r.link));
    // A copy of a message still being handled on its link: the SMSC sent it again because our answer
    // is late. It is the same message (the inbox answers it without effects); its own answer goes
    // out when its onMessage resolves.
    const copyOf = [...involved].map((link) => link.inflight.get(fingerprint)?.handled).find((h) => h !== undefined);
    const handled: Handled = copyOf ?? { fingerprint, providerMessageId: redeliveries.claim(fingerprint) ?? newMessageId() };
    const { providerMessageId } = handled;
    if (copyOf) log.info({ from: maskPhone(from), providerMessageId }, "the SMSC sent a message again while it was being handled: same providerMessageId");
    for (const link of involved) if (!link.closed) hold(link, handled);
    const text = decodeParts(parts);
    let committed = true;
    try {
      await handlers.onMessage({ channel: "sms", route: "smpp", providerMessageId, from, text, media: [], receivedAt: clock() });
    } catch (error) {
      committed = false;
      redeliveries.remember(fingerprint, providerMessageId);
      log.warn({ from: maskPhone(from), providerMessageId, error: loggableError(error) }, "inbound message not handled: asked the SMSC to deliver it again");
    }
    const all = assembly ? reassembly.settle(assembly, committed) : replies;
    for (const link of involved) release(link, handled);
    for (const reply of all) {
      const answeredBefore = reply.answered;
      const written = answer(reply, committed ? STATUS.ROK : STATUS.RX_T_APPN);
      if (!committed || answeredBefore) continue;
      if (written === null) redeliveries.remember(fingerprint, providerMessageId);
      else reply.link.unconfirmed.push({ written, handled });
    }
  }

  function hold(link: Link, handled: Handled): void {
    const entry = link.inflight.get(handled.fingerprint);
    if (entry?.handled === handled) entry.holders++;
    else link.inflight.set(handled.fingerprint, { handled, holders: 1 });
  }

  function release(link: Link, handled: Handled): void {
    const entry = link.inflight.get(handled.fingerprint);
    if (entry?.handled !== handled) return;
    if (--entry.holders <= 0) link.inflight.delete(handled.fingerprint);
  }

  async function onReceiptPdu(incoming: Incoming): Promise<void> {
    const { pdu } = incoming;
    const userData = userDataOf(pdu);
    const dataCoding = int(pdu.data_coding) ?? 0;
    const receipt = parseReceipt({
      receiptedMessageId: typeof pdu.receipted_message_id === "string" ? pdu.receipted_message_id : undefined,
      messageState: int(pdu.message_state),
      networkErrorCode: bytes(pdu.network_error_code),
      // Receipt text is ASCII; read as Latin-1, not GSM (where "_" would be "§").
      text: dataCoding === DATA_CODING.UCS2 ? decodeText(userData, dataCoding) : userData.toString("latin1"),
    });
    if (!receipt) {
      log.warn({ link: incoming.link.id }, "unreadable delivery receipt: acknowledged and dropped");
      answer(incoming, STATUS.ROK);
      return;
    }
    const ours = submissions.receipt(receipt.messageId, receipt.status);
    const reportStatus = ours?.status ?? receipt.status;
    const failed = reportStatus === "failed" || reportStatus === "undelivered";
    if (ours && !ours.complete && !failed) {
      // A part of a long message whose other parts the SMSC has not all taken (the send failed
      // midway and will be resumed): the outbox must not take the row for sent. The part's status
      // is kept, and counts in the report of a later part's receipt.
      log.info({ providerMessageId: ours.messageId, outboxId: ours.origin.outboxId }, "receipt for a part of a message not all submitted yet: kept for later");
      answer(incoming, STATUS.ROK);
      return;
    }
    const report: DeliveryReport = {
      providerMessageId: ours?.messageId ?? receipt.messageId,
      status: reportStatus,
      // The row and try, so that a receipt that comes before the outbox recorded the send (its answer
      // came late, or the transaction has not committed yet) still finds its message.
      ...(ours ? { outboxId: ours.origin.outboxId, ...(ours.origin.attempt !== undefined ? { attempt: ours.origin.attempt } : {}) } : {}),
      ...(receipt.errorCode ? { errorCode: receipt.errorCode } : {}),
      ...(failed ? { errorMessage: `stat:${receipt.state}` } : {}),
    };
    try {
      await handlers.onReceipt(report);
      answer(incoming, STATUS.ROK);
    } catch (error) {
      log.warn({ providerMessageId: report.providerMessageId, error: loggableError(error) }, "delivery receipt not recorded: asked the SMSC to deliver it again");
      answer(incoming, STATUS.RX_T_APPN);
    }
  }

  // ---- outbound ----

  async function send(request: OutboundRequest): Promise<SendResult> {
    if (request.channel !== "sms") return sendFailure(false, "unsupported_channel", "SMPP carries SMS only");
    const destination = request.to.replace(/^\+/, "");
    if (!/^\d{6,15}$/.test(destination)) return sendFailure(false, "invalid_address", "the recipient is not an E.164 number");
    if (stopped) return sendFailure(true, "stopped", "the SMPP channel is stopped");

    const { dataCoding, parts } = encodeText(request.body);
    if (parts.length > 255) return sendFailure(false, "too_long", `${parts.length} parts: more than a long SMS can have`);
    const context = { outboxId: request.outboxId, to: maskPhone(request.to), parts: parts.length };
    // This try again after it failed midway: only the parts the SMSC has not taken go, with the same
    // reference (one message for the handset). One it took whole is not sent again.
    const content = hash([destination, String(dataCoding), ...parts.map((part) => part.toString("hex"))]);
    const submission = submissions.begin(request, content, parts.length, () => (reference = (reference + 1) & 0xff));
    const taken = submission.ids.filter((id) => id !== undefined).length;
    if (taken === parts.length) {
      log.info({ ...context, providerMessageId: submission.ids[0] }, "SMPP message taken by the SMSC already: not sent again");
      return { status: "sent", providerMessageId: submission.ids[0] ?? newMessageId() };
    }
    const link = current;
    if (!link?.bound) return sendFailure(true, "not_bound", `no SMPP bind${lastError ? ` (${lastError})` : ""}`);
    if (taken > 0) log.info({ ...context, taken }, "resuming a long message: sending the parts the SMSC has not taken");

    for (const [index, part] of parts.entries()) {
      if (submission.ids[index] !== undefined) continue;
      const fields = {
        service_type: "",
        source_addr_ton: source.ton,
        source_addr_npi: source.npi,
        source_addr: source.addr,
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: destination,
        esm_class: parts.length > 1 ? ESM_UDHI : 0,
        registered_delivery: 1,
        data_coding: dataCoding,
        short_message: parts.length > 1 ? Buffer.concat([concatenationUdh(submission.ref, parts.length, index + 1), part]) : part,
      };
      // Recorded as the response is read, also when it comes too late for this send.
      const onAccepted = (messageId: string, late: boolean) => {
        const whole = submissions.accept(submission, index, messageId);
        if (late && whole) log.info({ ...context, providerMessageId: submission.ids[0] }, "the SMSC accepted a message after its send was reported unconfirmed");
      };
      const outcome = await submitPart(link, fields, onAccepted);
      if (outcome.kind === "accepted") continue;
      // Cut off after earlier parts went out: the outbox reconciles before sending it again. A refusal
      // is an answer: the message is not (all) at the SMSC, retryable or not as the refusal says; a
      // retry sends only the parts not taken.
      const someTaken = submission.ids.some((id) => id !== undefined);
      const result = outcome.kind === "cut off" && someTaken ? { ...outcome.result, ambiguous: true } : outcome.result;
      log.warn({ ...context, part: index + 1, code: result.code, retryable: result.retryable, ambiguous: result.ambiguous ?? false }, "SMPP send failed");
      return result;
    }
    const providerMessageId = submission.ids[0] ?? newMessageId();
    log.info({ ...context, providerMessageId }, "SMPP message accepted");
    return { status: "sent", providerMessageId };
  }

  /** One submit_sm, tried again while the SMSC is throttling, within responseTimeoutMs. */
  async function submitPart(link: Link, fields: Record<string, unknown>, onAccepted: (messageId: string, late: boolean) => void): Promise<PartOutcome> {
    const started = now();
    let backoff = THROTTLE_BACKOFF_MS;
    for (;;) {
      try {
        await pacer.take(stopController.signal);
        await link.window.acquire();
      } catch {
        return { kind: "cut off", result: notSent() };
      }
      let acceptedId: string | undefined;
      const listener: Listener = (pdu, late) => {
        if (pdu.command_status !== STATUS.ROK) return;
        acceptedId = messageIdOf(pdu);
        onAccepted(acceptedId, late);
      };
      let reply: Answer;
      try {
        reply = await request(link, "submit_sm", fields, listener);
      } finally {
        link.window.release();
      }
      if (reply.kind === "unwritable") return { kind: "refused", result: sendFailure(true, "submit_error", `submit_sm could not be written: ${reply.error}`) };
      if (reply.kind === "closed") {
        if (!reply.written) return { kind: "cut off", result: notSent() };
        return { kind: "cut off", result: sendFailure(true, "connection_lost", "the SMPP connection closed before the SMSC answered submit_sm", true) };
      }
      if (reply.kind === "timeout") return { kind: "cut off", result: sendFailure(true, "timeout", `no submit_sm_resp within ${config.responseTimeoutMs} ms`, true) };
      const commandStatus = reply.pdu.command_status;
      if (commandStatus === STATUS.ROK) return { kind: "accepted", messageId: acceptedId ?? messageIdOf(reply.pdu) };
      if (THROTTLED.has(commandStatus) && now() - started + backoff < config.responseTimeoutMs && link.bound && !stopped) {
        log.info({ status: statusName(commandStatus), retryInMs: backoff }, "SMSC throttling: submitting again");
        try {
          await sleep(backoff, stopController.signal);
        } catch {
          return { kind: "cut off", result: notSent() };
        }
        backoff *= 2;
        continue;
      }
      return { kind: "refused", result: sendFailure(RETRYABLE.has(commandStatus), statusCode(commandStatus), `the SMSC refused submit_sm: ${statusName(commandStatus)}`) };
    }
  }

  const notSent = () => (stopped ? sendFailure(true, "stopped", "the SMPP channel stopped") : sendFailure(true, "not_bound", `no SMPP bind${lastError ? ` (${lastError})` : ""}`));

  // ---- lifecycle ----

  async function stop(): Promise<void> {
    if (stopping) return stopping;
    stopped = true;
    stopController.abort();
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = null;
    stopping = (async () => {
      // Let messages being handed over finish, so that their answers go out before the unbind.
      if (handingOver.size > 0) await Promise.race([Promise.allSettled([...handingOver]), wait(config.responseTimeoutMs)]);
      const link = current;
      if (link && !link.closed) {
        if (link.bound) {
          link.bound = false;
          await request(link, "unbind", {});
        }
        hangUp(link);
        await link.closedPromise;
      }
      reassembly.clear();
      setStatus("stopped");
      log.info("SMPP channel stopped");
    })();
    return stopping;
  }

  return {
    sender: {
      send,
      async pace(_request, signal) {
        if (!stopped) await pacer.ready(signal);
      },
      async findAccepted(request, _since, alreadyRecorded) {
        // SMPP cannot list what was sent: only what this process saw accepted (memory, 48 h). After a
        // restart an unconfirmed send is not found, and the outbox sends it again (at least once).
        const id = submissions.accepted(request);
        return id && !alreadyRecorded.has(id) ? id : null;
      },
    },
    start() {
      if (started || stopped) return;
      started = true;
      connect();
    },
    stop,
    state: () => ({ status, since, ...(lastError ? { lastError } : {}) }),
  };
}

// ---- helpers ----

function settings(options: SmppOptions) {
  const url = new URL(options.url);
  if (url.protocol !== "smpp:" && url.protocol !== "ssmpp:") throw new Error(`SMPP url must start with smpp:// or ssmpp://, not ${url.protocol}//`);
  if (!url.hostname) throw new Error("SMPP url has no host");
  if (!options.systemId) throw new Error("SMPP system id is empty");
  if (!options.sourceAddr.trim()) throw new Error("SMPP source address is empty");
  const config = {
    url: options.url,
    perSecond: options.perSecond ?? 10,
    window: options.window ?? 10,
    enquireLinkMs: options.enquireLinkMs ?? 30_000,
    reconnect: options.reconnect ?? { minMs: 1000, maxMs: 60_000 },
    responseTimeoutMs: options.responseTimeoutMs ?? 10_000,
    partTimeoutMs: options.partTimeoutMs ?? 60_000,
  };
  if (!(config.perSecond > 0)) throw new Error("SMPP perSecond must be positive");
  if (!Number.isInteger(config.window) || config.window < 1) throw new Error("SMPP window must be a positive integer");
  for (const [name, value] of Object.entries({ enquireLinkMs: config.enquireLinkMs, responseTimeoutMs: config.responseTimeoutMs, partTimeoutMs: config.partTimeoutMs, "reconnect.minMs": config.reconnect.minMs }))
    if (!(value > 0)) throw new Error(`SMPP ${name} must be positive`);
  if (config.reconnect.maxMs < config.reconnect.minMs) throw new Error("SMPP reconnect.maxMs must not be less than minMs");
  for (const [name, value] of Object.entries({ sourceTon: options.sourceTon, sourceNpi: options.sourceNpi }))
    if (value !== undefined && !(Number.isInteger(value) && value >= 0 && value <= 255)) throw new Error(`SMPP ${name} must be an integer from 0 to 255`);
  return config;
}

function newLink(id: number, session: smpp.Session, window: number): Link {
  let markClosed = () => {};
  const closedPromise = new Promise<void>((resolve) => (markClosed = resolve));
  return { id, session, bound: false, closed: false, writes: 0, pending: new Map(), window: new Window(window), inflight: new Map(), unconfirmed: [], enquiring: false, timers: [], closedPromise, markClosed };
}

/** Our address as submit_sm's source, with the TON/NPI it implies (see SmppOptions.sourceAddr). */
function sourceAddress(options: SmppOptions): { addr: string; ton: number; npi: number } {
  const raw = options.sourceAddr.trim();
  const implied = /^\+\d+$/.test(raw)
    ? { addr: raw.slice(1), ton: 1, npi: 1 }
    : /^\d+$/.test(raw)
      ? raw.length >= 9
        ? { addr: raw, ton: 1, npi: 1 }
        : raw.length >= 7
          ? { addr: raw, ton: 2, npi: 1 }
          : { addr: raw, ton: 3, npi: 0 }
      : { addr: raw, ton: 5, npi: 0 };
  return { addr: implied.addr, ton: options.sourceTon ?? implied.ton, npi: options.sourceNpi ?? implied.npi };
}

/**
 * The sender in E.164. SMSCs give international numbers without "+" (TON 1, or "00961…"), and may
 * give Lebanese numbers in national form ("70123456", "03123456") or as "96170123456" with TON unknown.
 */
export function residentNumber(sourceAddr: string, ton: number): string | null {
  const raw = sourceAddr.trim();
  const international = raw.startsWith("+") || raw.startsWith("00") || ton === 1;
  const digits = raw.replace(/^(\+|00)/, "");
  // An SMSC that says international but sends a national number ("70123456", TON 1) is read as national.
  if (international) return /^\d{6,15}$/.test(digits) ? (toE164(`+${digits}`) ?? toE164(raw)) : null;
  return toE164(raw) ?? (/^\d{9,15}$/.test(raw) ? toE164(`+${raw}`) : null);
}

/** The message bytes: message_payload when the SMSC used it (then short_message is empty), else short_message. */
function userDataOf(pdu: smpp.PDU): Buffer {
  const payload = bytes(pdu.message_payload);
  if (payload && payload.length > 0) return payload;
  return bytes(pdu.short_message) ?? Buffer.alloc(0);
}

/** Concatenation carried in the sar_ TLVs instead of a UDH (16-bit reference). */
function sarOf(pdu: smpp.PDU): Concatenation | null {
  const ref = int(pdu.sar_msg_ref_num);
  const total = int(pdu.sar_total_segments);
  const seq = int(pdu.sar_segment_seqnum);
  return ref === undefined || total === undefined || seq === undefined ? null : { ref, refBits: 16, total, seq };
}

function decodeParts(parts: ReadonlyArray<{ bytes: Buffer; dataCoding: number }>): string {
  const first = parts[0]?.dataCoding ?? 0;
  // Decoded as one: a surrogate pair or an escape split between parts stays whole.
  if (parts.every((p) => p.dataCoding === first)) return decodeText(Buffer.concat(parts.map((p) => p.bytes)), first);
  return parts.map((p) => decodeText(p.bytes, p.dataCoding)).join("");
}

/** The response PDU to a request; generic_nack for one whose response the library cannot build. */
function responseTo(pdu: smpp.PDU, commandStatus: number): smpp.PDU {
  try {
    return commandStatus === STATUS.ROK ? pdu.response() : pdu.response({ command_status: commandStatus });
  } catch {
    return new smpp.PDU("generic_nack", { sequence_number: pdu.sequence_number, command_status: commandStatus === STATUS.ROK ? STATUS.RINVCMDID : commandStatus });
  }
}

const messageIdOf = (pdu: smpp.PDU) => str(pdu.message_id).trim() || newMessageId();

const newMessageId = () => `smpp-${randomBytes(12).toString("base64url")}`;

const hash = (fields: readonly string[]) => createHash("sha256").update(fields.join("\u0000")).digest("base64url");


const wait = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
  });

const int = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);
const str = (value: unknown): string => (typeof value === "string" ? value : "");
const bytes = (value: unknown): Buffer | undefined => (Buffer.isBuffer(value) ? value : undefined);
