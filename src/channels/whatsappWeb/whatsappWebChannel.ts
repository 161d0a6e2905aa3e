import type { Logger } from "pino";
import type { InboundMessage } from "../../inbox/inboundMessage.js";
import { loggableError } from "../../lib/logger.js";
import { maskPhone } from "../../lib/maskPhone.js";
import { lidAddress, toE164 } from "../../lib/phone.js";
import type { LidStore, SessionRequests } from "../../services/whatsappWebSession.js";
import type { Route } from "../routes.js";
import type { ChannelSender, DeliveryReport, OutboundRequest, SendResult } from "../sender.js";
import { realSleep, type Sleep } from "../smpp/flowControl.js";
import { ACK, chatIdOf, type WhatsAppWebClient, type WwebMessage } from "./client.js";
import { toInbound } from "./inbound.js";
import type { MediaStore } from "./mediaStore.js";
import { catchUp, ChatLanes } from "./ordering.js";
import { WhatsAppPacer } from "./pacing.js";
import type { LockVerdict } from "./profileLock.js";
import type { WhatsAppWebState, WhatsAppWebStatus } from "./status.js";

export interface WhatsAppWebOptions {
  /** "host:pid": who holds the session, as the admin page shows it. */
  holder: string;
  /** WHATSAPP_WEB_PER_MINUTE. */
  perMinute: number;
  /** The gap between two sends (1.5-4.5 s by default). */
  gapMs?: { min: number; max: number };
  /** How long the session's lease lasts without renewal (30 s): an instance that died is replaced after it. */
  leaseMs?: number;
  /** How often the holder renews the lease, publishes its status and reads admins' requests (5 s). */
  heartbeatMs?: number;
  /** Reconnection backoff, doubling, jittered down to half: 5 s up to 5 min by default. */
  backoff?: { minMs: number; maxMs: number };
  /** How long Chromium may take to show a QR code or resume the session before it is started again (3 min). */
  launchTimeoutMs?: number;
  /** How long a send may take before it counts as unconfirmed (60 s). */
  sendTimeoutMs?: number;
  /** How often unread chats are swept for messages not handled yet (2 min). */
  sweepMs?: number;
}

export interface WhatsAppWebHandlers {
  /** Resolves once the message is durably handled (committed); rejects = temporary failure (it stays unread). */
  onMessage(message: InboundMessage): Promise<void>;
  /** A delivery acknowledgement (sent, delivered, read) for a message we sent. */
  onReceipt(report: DeliveryReport): Promise<void>;
}

/** The database side of the session (src/services/whatsappWebSession.ts), behind an interface for tests. */
export interface SessionStore {
  /** Takes or renews the lease; true when this instance holds the session. */
  hold(now: Date): Promise<boolean>;
  release(): Promise<void>;
  publish(status: Omit<WhatsAppWebStatus, "updatedAt">, now: Date): Promise<SessionRequests>;
  complete(kind: "logout" | "relink", request: { at: Date; by: number | null }, now: Date): Promise<void>;
  lids: LidStore;
}

export interface WhatsAppWebDeps {
  /** A new client for each launch (whatsapp-web.js is loaded lazily: library.ts). */
  createClient(): Promise<WhatsAppWebClient>;
  store: SessionStore;
  media: MediaStore;
  /** Clears a crashed Chromium's profile lock when no live browser owns it (profileLock.ts). */
  clearLock?(): Promise<LockVerdict>;
  /** Deletes the saved session (a logout while no browser is running). */
  forgetSession?(): Promise<void>;
  /**
   * The process's senders: the channel's sender is in it, as "whatsapp-web", exactly while this
   * instance holds the session, so only the holder's outbox worker takes WhatsApp Web rows.
   */
  senders: Partial<Record<Route, ChannelSender>>;
  /** Shows a new QR code in the terminal (when attended). */
  printQr?(qr: string): void;
  logger: Logger;
  clock?: () => Date;
  sleep?: Sleep;
  random?: () => number;
}

export interface WhatsAppWebChannel {
  sender: ChannelSender;
  /** Starts the heartbeat: takes the session when no other instance holds it, and keeps it. */
  start(): void;
  /** Closes the browser (the phone stays linked), publishes "stopped" and gives the lease back. */
  stop(): Promise<void>;
  /** This instance's view: whether it holds the session, and the session's state when it does. */
  state(): { holding: boolean; status: WhatsAppWebStatus | null };
  /** One heartbeat now (tests; the timer calls it every heartbeatMs). */
  tick(): Promise<void>;
}

const ROUTE: Route = "whatsapp-web";
/** Unread messages older than this when the session comes back are left to staff: no bot answer days late. */
const CATCH_UP_MAX_AGE_MS = 3 * 24 * 3600_000;

/**
 * The municipality's own WhatsApp number through whatsapp-web.js (see docs/whatsapp-web.md).
 *
 * One instance holds the session (a lease in the database); it alone launches Chromium, receives
 * messages and has the "whatsapp-web" sender, so the others' outbox workers leave those rows to it.
 * The session goes starting → waiting_for_qr → ready; a disconnection or a failed launch is retried
 * with backoff (a fresh client each time); a logout (from the phone or by an admin) is logged once
 * and waits for an admin to link again. Messages are handed over one chat at a time, in order; on
 * each `ready`, and every few minutes, unread chats are swept for messages not handled yet (those
 * that came while we were down, or whose handling failed). A send that got no answer is checked
 * against the chat's history before it is sent again.
 */
export function whatsappWebChannel(options: WhatsAppWebOptions, handlers: WhatsAppWebHandlers, deps: WhatsAppWebDeps): WhatsAppWebChannel {
  const log = deps.logger.child({ route: ROUTE });
  const clock = deps.clock ?? (() => new Date());
  const sleep = deps.sleep ?? realSleep;
  const random = deps.random ?? Math.random;
  const leaseMs = options.leaseMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const backoff = options.backoff ?? { minMs: 5_000, maxMs: 300_000 };
  const launchTimeoutMs = options.launchTimeoutMs ?? 180_000;
  const sendTimeoutMs = options.sendTimeoutMs ?? 60_000;
  const sweepMs = options.sweepMs ?? 120_000;
  const pacer = new WhatsAppPacer({ perMinute: options.perMinute, ...(options.gapMs ? { gapMs: options.gapMs } : {}), now: () => clock().getTime(), sleep, random });

  let holding = false;
  let stopped = false;
  let started = false;
  let client: WhatsAppWebClient | null = null;
  /** Each launch's number: events of an earlier client (being destroyed) are ignored. */
  let generation = 0;
  let failures = 0;
  let status: Omit<WhatsAppWebStatus, "updatedAt"> = { state: "starting", since: clock(), holder: options.holder };
  let heartbeat: NodeJS.Timeout | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let launchTimer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> | null = null;
  let lastHeld = 0;
  let lastSweep = 0;
  let sweeping: Promise<void> | null = null;
  /** Our sends, by WhatsApp's id: an acknowledgement names the outbox row and try even before the send is recorded. */
  const sends = new Map<string, { outboxId: number; attempt?: number | undefined }>();
  const MAX_SENDS_REMEMBERED = 5_000;
  /** Sends take their turn at the pacer one after the other. */
  let turns: Promise<void> = Promise.resolve();

  const setState = (state: WhatsAppWebState, fields: Partial<Omit<WhatsAppWebStatus, "state" | "since" | "updatedAt">> = {}) => {
    const since = state === status.state ? status.since : clock();
    status = { state, since, holder: options.holder, ...(status.linkedNumber && state === "ready" ? { linkedNumber: status.linkedNumber } : {}), ...fields };
  };

  // ---- inbound ----

  async function resolveSender(chatId: string): Promise<{ from: string; verifiedPhone: boolean }> {
    const [digits = "", server] = chatId.split("@");
    if (server === "c.us") return { from: toE164(`+${digits}`) ?? `+${digits}`, verifiedPhone: true };
    const known = await deps.store.lids.phoneOf(digits);
    if (known) return { from: known, verifiedPhone: true };
    let phone: string | null = null;
    try {
      const [entry] = (await client?.getContactLidAndPhone([chatId])) ?? [];
      const pn = /^(\d{6,15})@c\.us$/.exec(entry?.pn ?? "")?.[1];
      phone = pn ? (toE164(`+${pn}`) ?? `+${pn}`) : null;
    } catch (error) {
      log.warn({ error: loggableError(error) }, "could not ask WhatsApp for the number behind a LID");
    }
    if (!phone) return { from: lidAddress(digits), verifiedPhone: false };
    await deps.store.lids.remember(digits, phone, clock());
    return { from: phone, verifiedPhone: true };
  }

  async function handle(message: WwebMessage): Promise<void> {
    const inbound = await toInbound(message, { resolveSender, media: deps.media, logger: log, clock });
    if (inbound) await handlers.onMessage(inbound);
  }

  const lanes = new ChatLanes({
    handle,
    markSeen: async (chatId: string) => {
      await (await client?.getChatById(chatId))?.sendSeen();
    },
    logger: log,
  });

  function sweep(reason: string): void {
    const current = client;
    if (!current || sweeping || status.state !== "ready") return;
    lastSweep = clock().getTime();
    sweeping = catchUp(current, (m) => lanes.run(m), { logger: log, onSeen: (chatId) => lanes.settled(chatId), notBefore: new Date(lastSweep - CATCH_UP_MAX_AGE_MS) })
      .then((counts) => {
        if (counts.messages > 0) log.info({ ...counts, reason }, "WhatsApp Web: unread messages handled");
      })
      .catch((error: unknown) => log.warn({ error: loggableError(error), reason }, "WhatsApp Web: could not read unread chats"))
      .finally(() => {
        sweeping = null;
      });
  }

  // ---- session ----

  function wire(current: WhatsAppWebClient, mine: number): void {
    const live = () => mine === generation && client === current && !stopped;
    current.on("qr", (qr) => {
      if (!live()) return;
      clearLaunchTimer();
      setState("waiting_for_qr", { qr, qrAt: clock() });
      log.info("WhatsApp Web is waiting for its QR code to be scanned (/staff/admin/whatsapp-web)");
      deps.printQr?.(qr);
    });
    current.on("authenticated", () => {
      if (live()) log.info("WhatsApp Web session authenticated");
    });
    current.on("auth_failure", (message) => {
      if (!live()) return;
      log.warn({ detail: message }, "WhatsApp Web could not resume the saved session: a new QR code follows");
      setState(status.state, { detail: `auth_failure: ${message}` });
    });
    current.on("ready", () => {
      if (!live()) return;
      clearLaunchTimer();
      failures = 0;
      const user = current.info?.wid?.user;
      const linkedNumber = user ? (toE164(`+${user}`) ?? `+${user}`) : undefined;
      setState("ready", linkedNumber ? { linkedNumber } : {});
      log.info({ linked: maskPhone(linkedNumber) }, "WhatsApp Web ready");
      sweep("ready");
    });
    current.on("message", (message) => {
      if (!live()) return;
      lanes.handle(message);
    });
    current.on("message_ack", (message, ack) => {
      if (!live()) return;
      void acknowledge(message.id._serialized, ack);
    });
    current.on("disconnected", (reason) => {
      if (!live()) return;
      if (reason === "LOGOUT" || reason === "UNPAIRED" || reason === "UNPAIRED_IDLE") void loggedOut(`disconnected: ${reason}`);
      else void failed(`disconnected: ${reason}`);
    });
    current.on("change_state", (state) => {
      if (live()) log.debug({ state }, "WhatsApp Web connection state");
    });
  }

  async function launch(): Promise<void> {
    if (stopped || !holding) return;
    const mine = ++generation;
    clearRetryTimer();
    setState("starting");
    try {
      const lock = await deps.clearLock?.();
      if (lock === "cleared") log.warn("cleared the profile lock a crashed Chromium left behind");
      if (lock === "live") throw new Error("the Chromium profile is in use by a running browser");
      const current = await deps.createClient();
      if (mine !== generation || stopped || !holding) {
        await current.destroy().catch(() => undefined);
        return;
      }
      client = current;
      wire(current, mine);
      launchTimer = setTimeout(() => {
        if (mine === generation && (status.state === "starting" || status.state === "disconnected")) void failed(`no QR code and no session within ${Math.round(launchTimeoutMs / 1000)} s`);
      }, launchTimeoutMs);
      launchTimer.unref?.();
      await current.initialize();
    } catch (error) {
      if (mine === generation) await failed(loggableError(error).message);
    }
  }

  /** The connection or the launch failed: a fresh client after the backoff. */
  async function failed(detail: string): Promise<void> {
    const mine = generation;
    await closeClient();
    if (stopped || !holding || mine !== generation) return;
    const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.min(failures, 30));
    failures++;
    const delay = base / 2 + (random() * base) / 2;
    const retryAt = new Date(clock().getTime() + delay);
    setState("disconnected", { detail, retryAt });
    log.warn({ detail, retryInMs: Math.round(delay) }, "WhatsApp Web disconnected: reconnecting");
    clearRetryTimer();
    retryTimer = setTimeout(() => void launch(), delay);
    retryTimer.unref?.();
  }

  /** Unlinked (from the phone, or by an admin): said once, and nothing retried until an admin links again. */
  async function loggedOut(detail: string): Promise<void> {
    generation++;
    clearRetryTimer();
    clearLaunchTimer();
    setState("logged_out", { detail });
    log.error({ detail }, "WhatsApp Web is logged out: an admin must scan a new QR code (/staff/admin/whatsapp-web)");
    await closeClient();
  }

  async function closeClient(): Promise<void> {
    clearLaunchTimer();
    const current = client;
    client = null;
    if (!current) return;
    current.removeAllListeners();
    try {
      await current.destroy();
    } catch (error) {
      log.debug({ error: loggableError(error) }, "closing WhatsApp Web's browser failed");
    }
  }

  function clearRetryTimer() {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
  }
  function clearLaunchTimer() {
    if (launchTimer) clearTimeout(launchTimer);
    launchTimer = null;
  }

  async function logout(): Promise<void> {
    const current = client;
    generation++;
    client = null;
    clearRetryTimer();
    clearLaunchTimer();
    if (current) {
      current.removeAllListeners();
      try {
        await current.logout();
      } catch (error) {
        log.warn({ error: loggableError(error) }, "WhatsApp Web logout did not complete: the saved session is deleted instead");
        await deps.forgetSession?.().catch(() => undefined);
      }
      await current.destroy().catch(() => undefined);
    } else {
      await deps.forgetSession?.().catch(() => undefined);
    }
    setState("logged_out", { detail: "logged out by an admin" });
    log.warn("WhatsApp Web logged out by an admin");
  }

  // ---- the lease and the heartbeat ----

  async function tick(): Promise<void> {
    if (ticking) return ticking;
    ticking = beat().finally(() => {
      ticking = null;
    });
    return ticking;
  }

  async function beat(): Promise<void> {
    if (stopped) return;
    const now = clock();
    let held: boolean;
    try {
      held = await deps.store.hold(now);
      if (held) lastHeld = now.getTime();
    } catch (error) {
      // The database is away: keep the session while the lease would still be ours.
      log.warn({ error: loggableError(error) }, "could not renew the WhatsApp Web lease");
      held = holding && now.getTime() - lastHeld < leaseMs;
    }
    if (stopped) return;
    if (!held && holding) {
      log.warn("another instance holds the WhatsApp Web session now: letting go");
      holding = false;
      delete deps.senders[ROUTE];
      generation++;
      clearRetryTimer();
      await closeClient();
      return;
    }
    if (held && !holding) {
      holding = true;
      deps.senders[ROUTE] = sender;
      log.info({ holder: options.holder }, "this instance holds the WhatsApp Web session");
      void launch();
    }
    if (!holding) return;
    let requests: SessionRequests;
    try {
      requests = await deps.store.publish(status, now);
    } catch (error) {
      log.warn({ error: loggableError(error) }, "could not publish the WhatsApp Web status");
      return;
    }
    if (requests.logout) {
      if (status.state !== "logged_out") await logout();
      await deps.store.complete("logout", requests.logout, clock()).catch((error: unknown) => log.warn({ error: loggableError(error) }, "could not record the logout"));
    } else if (requests.relink) {
      if (status.state === "logged_out") {
        failures = 0;
        log.info("an admin asked to link WhatsApp Web again: starting");
        void launch();
      }
      await deps.store.complete("relink", requests.relink, clock()).catch((error: unknown) => log.warn({ error: loggableError(error) }, "could not record the relink"));
    }
    if (requests.logout || requests.relink) await deps.store.publish(status, clock()).catch(() => undefined);
    if (status.state === "ready" && now.getTime() - lastSweep >= sweepMs) sweep("periodic");
  }

  // ---- outbound ----

  async function acknowledge(id: string, ack: number): Promise<void> {
    const reportStatus: DeliveryReport["status"] | null = ack === ACK.SERVER ? "sent" : ack === ACK.DEVICE ? "delivered" : ack === ACK.READ || ack === ACK.PLAYED ? "read" : ack === ACK.ERROR ? "failed" : null;
    if (!reportStatus) return;
    const ours = sends.get(id);
    try {
      await handlers.onReceipt({
        providerMessageId: id,
        status: reportStatus,
        ...(ours ? { outboxId: ours.outboxId, ...(ours.attempt !== undefined ? { attempt: ours.attempt } : {}) } : {}),
        ...(reportStatus === "failed" ? { errorCode: "ack_error", errorMessage: "WhatsApp reported an error delivering the message" } : {}),
      });
    } catch (error) {
      log.warn({ error: loggableError(error), ack }, "could not record a WhatsApp Web acknowledgement");
    }
  }

  const failure = (retryable: boolean, code: string, message: string, ambiguous = false): Extract<SendResult, { status: "failed" }> => ({
    status: "failed",
    retryable,
    ...(ambiguous ? { ambiguous: true } : {}),
    code,
    message,
  });

  async function send(request: OutboundRequest): Promise<SendResult> {
    if (request.channel !== "whatsapp") return failure(false, "unsupported_channel", "WhatsApp Web carries WhatsApp messages only");
    if (request.contentSid) return failure(false, "template_unsupported", "WhatsApp Web sends no Twilio templates");
    const chatId = chatIdOf(request.to);
    if (!chatId) return failure(false, "invalid_address", "the recipient is not a WhatsApp number");
    const current = client;
    if (stopped || !holding || !current || status.state !== "ready") return failure(true, "not_ready", `WhatsApp Web is ${stopped ? "stopped" : holding ? status.state : "held by another instance"}`);
    // One turn at a time, whatever the outbox's concurrency: pace() let this row through, but
    // another may have taken the turn since.
    const turn = turns.then(async () => {
      await pacer.ready();
      pacer.take();
    });
    turns = turn.catch(() => undefined);
    await turn;
    if (client !== current || status.state !== "ready") return failure(true, "not_ready", `WhatsApp Web is ${status.state}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), sendTimeoutMs);
      timer.unref?.();
    });
    try {
      const sent = await Promise.race([current.sendMessage(chatId, request.body, { linkPreview: false }), timeout]);
      if (sent === "timeout") return failure(true, "timeout", `no answer from WhatsApp Web within ${Math.round(sendTimeoutMs / 1000)} s`, true);
      const id = sent.id._serialized;
      sends.set(id, { outboxId: request.outboxId, attempt: request.attempt });
      if (sends.size > MAX_SENDS_REMEMBERED) sends.delete(sends.keys().next().value as string);
      log.info({ outboxId: request.outboxId, to: maskPhone(request.to) }, "WhatsApp Web message sent");
      return { status: "sent", providerMessageId: id };
    } catch (error) {
      const { message } = loggableError(error);
      // Numbers WhatsApp does not know: sending again will not help.
      if (/no lid for user|invalid wid|wid error|not a valid/i.test(message)) return failure(false, "not_on_whatsapp", message);
      // The page or the browser went away mid-send: the message may have left.
      const ambiguous = /session closed|target closed|protocol error|detached|execution context/i.test(message);
      return failure(true, "send_error", message, ambiguous);
    } finally {
      clearTimeout(timer);
    }
  }

  const sender: ChannelSender = {
    send,
    async pace(_request, signal) {
      // Rows wait (unclaimed) while the session is not ready, then go at the number's pace.
      for (;;) {
        signal?.throwIfAborted();
        if (stopped) return;
        if (status.state === "ready" && client) break;
        await sleep(500, signal);
      }
      await pacer.ready(signal);
    },
    async findAccepted(request, since, alreadyRecorded) {
      // The chat's own history says whether the message left: it survives a crash of ours.
      const chatId = chatIdOf(request.to);
      if (!chatId) return null;
      const current = client;
      if (!current || status.state !== "ready") throw new Error("WhatsApp Web is not ready: cannot look at the chat yet");
      const chat = await current.getChatById(chatId);
      const recent = await chat.fetchMessages({ limit: 50 });
      // WhatsApp's clock is in seconds; a minute of slack for clocks that differ.
      const from = since.getTime() - 60_000;
      const match = recent.find((m) => m.fromMe && m.body === request.body && m.timestamp * 1000 >= from && !alreadyRecorded.has(m.id._serialized));
      return match ? match.id._serialized : null;
    },
  };

  return {
    sender,
    start() {
      if (started || stopped) return;
      started = true;
      void tick();
      heartbeat = setInterval(() => void tick(), heartbeatMs);
      heartbeat.unref?.();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (heartbeat) clearInterval(heartbeat);
      clearRetryTimer();
      await ticking?.catch(() => undefined);
      delete deps.senders[ROUTE];
      await lanes.idle();
      await closeClient();
      if (holding) {
        setState("stopped");
        await deps.store.publish(status, clock()).catch(() => undefined);
        await deps.store.release().catch(() => undefined);
      }
      holding = false;
      log.info("WhatsApp Web channel stopped");
    },
    state: () => ({ holding, status: holding ? { ...status, updatedAt: clock() } : null }),
    tick,
  };
}
