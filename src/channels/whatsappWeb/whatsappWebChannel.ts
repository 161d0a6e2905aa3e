import type { Logger } from "pino";
import type { InboundMessage } from "../../inbox/inboundMessage.js";
import { loggableError } from "../../lib/logger.js";
import { maskPhone } from "../../lib/maskPhone.js";
import { lidAddress, toE164 } from "../../lib/phone.js";
import type { LidStore, SessionRequests } from "../../services/whatsappWebSession.js";
import type { Route } from "../routes.js";
import { sendFailure, type ChannelSender, type DeliveryReport, type OutboundRequest, type SendResult } from "../sender.js";
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
  /**
   * How long an instance taking the session over from another waits before launching (half the
   * lease): the one that let go closes its browser meanwhile, so two never drive one WhatsApp session.
   */
  takeoverGraceMs?: number;
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
  /** Clears an admin's request; `acted`: whether it changed anything (only then is it audited). */
  complete(kind: "logout" | "relink", request: { at: Date; by: number | null }, now: Date, acted: boolean): Promise<void>;
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
/** The holder lets go by itself once its lease is this far gone without a renewal (before anyone can take it). */
const FENCE_AT = 0.7;
/** A session ready this long counts as stable: the reconnection backoff starts from the beginning again. */
const STABLE_MS = 5 * 60_000;
/** An admin's request older than this when the holder reads it is dropped (it was meant for another moment). */
const REQUEST_TTL_MS = 10 * 60_000;
/** Disconnections that retrying will not mend: WhatsApp blocked the number, or the library is too old. */
const TERMINAL_STATES = new Set(["TOS_BLOCK", "SMB_TOS_BLOCK", "DEPRECATED_VERSION"]);
/** Unlinked from the phone. */
const LOGGED_OUT_STATES = new Set(["LOGOUT", "UNPAIRED", "UNPAIRED_IDLE"]);
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
  const takeoverGraceMs = options.takeoverGraceMs ?? leaseMs / 2;
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
  let sweeping: { client: WhatsAppWebClient; done: Promise<void> } | null = null;
  /** Another instance held the session while this one ran: taking it over waits `takeoverGraceMs`. */
  let sawOtherHolder = false;
  /** When the session last became ready (the backoff is reset only once it has lasted). */
  let readyAt: number | null = null;
  /** Live messages that came while the catch-up after `ready` runs: handed over after it. */
  let heldBack: WwebMessage[] | null = null;
  /** An admin's logout being carried out. */
  let loggingOut: Promise<void> | null = null;
  /** Each launched client's initialize(): a client closed before it settled is closed again after. */
  const initializing = new WeakMap<WhatsAppWebClient, { done: Promise<void>; settled: boolean }>();
  /** Sends in flight by outbox row: findAccepted waits for them before looking at the chat. */
  const inFlight = new Map<number, Promise<unknown>>();
  /**
   * Turns pace() took at the pacer for a row, by outbox id, not used by send() yet. A row whose
   * claim failed after pace() never sends: its turn is simply spent (a gap a little longer).
   */
  const reserved = new Map<number, number>();
  const RESERVATION_MS = 60_000;
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

  /**
   * Reads the unread chats and hands over what is not handled yet. After `ready`, live messages wait
   * until it is done: one handled first would mark its chat seen (seeing a chat sees all of it) and
   * hide the older unread messages from the catch-up.
   */
  function sweep(reason: "ready" | "periodic"): void {
    const current = client;
    if (!current || status.state !== "ready") return;
    // A sweep of an earlier client does not hold this one's back.
    if (sweeping && sweeping.client === current) return;
    lastSweep = clock().getTime();
    if (reason === "ready") heldBack = [];
    const done = catchUp(current, (m) => lanes.run(m), {
      logger: log,
      onSeen: (chatId) => lanes.settled(chatId),
      notBefore: new Date(lastSweep - CATCH_UP_MAX_AGE_MS),
      quiet: reason === "periodic",
    })
      .then((counts) => {
        if (counts.messages > 0 || counts.failed > 0) log.info({ ...counts, reason }, "WhatsApp Web: unread messages handled");
      })
      .catch((error: unknown) => log.warn({ error: loggableError(error), reason }, "WhatsApp Web: could not read unread chats"))
      .finally(() => {
        if (sweeping?.client === current) sweeping = null;
        if (reason === "ready" && client === current) {
          const waiting = heldBack ?? [];
          heldBack = null;
          for (const message of waiting) void lanes.handle(message);
        }
      });
    sweeping = { client: current, done };
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
      readyAt = clock().getTime();
      const user = current.info?.wid?.user;
      const linkedNumber = user ? (toE164(`+${user}`) ?? `+${user}`) : undefined;
      setState("ready", linkedNumber ? { linkedNumber } : {});
      log.info({ linked: maskPhone(linkedNumber) }, "WhatsApp Web ready");
      sweep("ready");
    });
    current.on("message", (message) => {
      if (!live()) return;
      if (heldBack) heldBack.push(message);
      else void lanes.handle(message);
    });
    current.on("message_ack", (message, ack) => {
      if (!live()) return;
      void acknowledge(message.id._serialized, ack);
    });
    current.on("disconnected", (reason) => {
      if (!live()) return;
      if (LOGGED_OUT_STATES.has(reason)) void loggedOut(`disconnected: ${reason}`);
      else if (TERMINAL_STATES.has(reason)) void loggedOut(`disconnected: ${reason} (WhatsApp will not take this session back: see the README)`);
      else void failed(`disconnected: ${reason}`, mine);
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
        if (status.state === "starting") void failed(`no QR code and no session within ${Math.round(launchTimeoutMs / 1000)} s`, mine);
      }, launchTimeoutMs);
      launchTimer.unref?.();
      const init = current.initialize();
      const entry = { settled: false, done: Promise.resolve() };
      entry.done = init.then(
        () => void (entry.settled = true),
        () => void (entry.settled = true),
      );
      initializing.set(current, entry);
      await init;
    } catch (error) {
      await failed(loggableError(error).message, mine);
    }
  }

  /** The connection or the launch of client `mine` failed: a fresh client after the backoff (once per failure). */
  async function failed(detail: string, mine: number): Promise<void> {
    if (mine !== generation) return;
    const current = ++generation;
    await closeClient();
    if (stopped || !holding || current !== generation) return;
    if (readyAt !== null && clock().getTime() - readyAt >= STABLE_MS) failures = 0;
    readyAt = null;
    const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.min(failures, 30));
    failures++;
    const delay = base / 2 + (random() * base) / 2;
    const retryAt = new Date(clock().getTime() + delay);
    setState("disconnected", { detail, retryAt });
    log.warn({ detail, retryInMs: Math.round(delay) }, "WhatsApp Web disconnected: reconnecting");
    clearRetryTimer();
    retryTimer = setTimeout(() => {
      if (current === generation) void launch();
    }, delay);
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
    heldBack = null;
    const current = client;
    client = null;
    if (!current) return;
    current.removeAllListeners();
    await destroyClient(current);
  }

  /**
   * Closes a client's browser. One still starting has no browser to close yet: it is closed again
   * once its start settles, or Chromium would be left running with the linked session and no listener.
   */
  async function destroyClient(current: WhatsAppWebClient): Promise<void> {
    const destroy = async () => {
      try {
        await current.destroy();
      } catch (error) {
        log.debug({ error: loggableError(error) }, "closing WhatsApp Web's browser failed");
      }
    };
    const init = initializing.get(current);
    const starting = init !== undefined && !init.settled;
    await destroy();
    if (starting) void init.done.then(destroy);
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
    heldBack = null;
    readyAt = null;
    clearRetryTimer();
    clearLaunchTimer();
    setState("logged_out", { detail: "logged out by an admin" });
    let unlinked = false;
    if (current) {
      current.removeAllListeners();
      try {
        await withTimeout(current.logout(), 30_000, "logout");
        unlinked = true;
      } catch (error) {
        log.warn({ error: loggableError(error) }, "WhatsApp Web logout did not complete: the saved session is deleted instead");
      }
      await destroyClient(current);
    }
    // Without the phone's word (no browser, or it failed), the saved session goes: the next start shows a QR code.
    if (!unlinked) await deps.forgetSession?.().catch((error: unknown) => log.warn({ error: loggableError(error) }, "could not delete the saved WhatsApp Web session"));
    log.warn("WhatsApp Web logged out by an admin");
  }

  /** Lets go of the session: no browser, no sender (another instance holds it now, or may any moment). */
  async function letGo(reason: string): Promise<void> {
    if (!holding) return;
    holding = false;
    delete deps.senders[ROUTE];
    generation++;
    readyAt = null;
    clearRetryTimer();
    log.warn({ reason }, "letting go of the WhatsApp Web session");
    await closeClient();
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
      held = await withTimeout(deps.store.hold(now), Math.max(1000, leaseMs / 3), "renewing the lease");
      if (held) lastHeld = clock().getTime();
    } catch (error) {
      // The database is away: keep the session while the lease is surely still ours (see fence()).
      log.warn({ error: loggableError(error) }, "could not renew the WhatsApp Web lease");
      held = holding && clock().getTime() - lastHeld < leaseMs * FENCE_AT;
    }
    if (stopped) return;
    if (!held) {
      if (!holding) sawOtherHolder = true;
      else await letGo("another instance holds the WhatsApp Web session now");
      return;
    }
    if (!holding) {
      holding = true;
      deps.senders[ROUTE] = sender;
      setState("starting");
      log.info({ holder: options.holder }, "this instance holds the WhatsApp Web session");
      if (sawOtherHolder) {
        // The instance before us may still be closing its browser.
        setState("starting", { detail: "taking over from another instance" });
        const mine = generation;
        retryTimer = setTimeout(() => {
          if (mine === generation) void launch();
        }, takeoverGraceMs);
        retryTimer.unref?.();
      } else {
        void launch();
      }
    }
    let requests: SessionRequests;
    try {
      requests = await deps.store.publish(status, now);
    } catch (error) {
      log.warn({ error: loggableError(error) }, "could not publish the WhatsApp Web status");
      return;
    }
    const fresh = (request: { at: Date } | null) => request !== null && now.getTime() - request.at.getTime() < REQUEST_TTL_MS;
    const record = (kind: "logout" | "relink", request: { at: Date; by: number | null }, acted: boolean) =>
      deps.store.complete(kind, request, clock(), acted).catch((error: unknown) => log.warn({ error: loggableError(error), kind }, "could not record an admin's WhatsApp Web request"));
    const { logout: logoutRequest, relink } = requests;
    if (logoutRequest && !loggingOut) {
      const acted = fresh(logoutRequest) && status.state !== "logged_out";
      // Not awaited: a logout may take a while (the browser), and the lease must keep being renewed.
      loggingOut = (acted ? logout() : Promise.resolve())
        .then(() => record("logout", logoutRequest, acted))
        .then(() => deps.store.publish(status, clock()))
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          loggingOut = null;
        });
    } else if (relink && !logoutRequest) {
      const acted = fresh(relink) && status.state === "logged_out";
      if (acted) {
        failures = 0;
        log.info("an admin asked to link WhatsApp Web again: starting");
        void launch();
      }
      await record("relink", relink, acted);
    }
    if (status.state === "ready" && now.getTime() - lastSweep >= sweepMs) sweep("periodic");
  }

  /**
   * Runs on the heartbeat's timer, whatever the heartbeat is waiting for: a holder that could not
   * renew its lease for most of its length lets go before another instance may take it.
   */
  function fence(): void {
    if (holding && clock().getTime() - lastHeld > leaseMs * FENCE_AT) void letGo("the lease could not be renewed in time");
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


  async function send(request: OutboundRequest): Promise<SendResult> {
    const turn = reserved.get(request.outboxId);
    reserved.delete(request.outboxId);
    const haveTurn = turn !== undefined && clock().getTime() - turn < RESERVATION_MS;
    if (request.channel !== "whatsapp") return sendFailure(false, "unsupported_channel", "WhatsApp Web carries WhatsApp messages only");
    if (request.contentSid) return sendFailure(false, "template_unsupported", "WhatsApp Web sends no Twilio templates");
    const chatId = chatIdOf(request.to);
    if (!chatId) return sendFailure(false, "invalid_address", "the recipient is not a WhatsApp number");
    const current = client;
    if (stopped || !holding || !current || status.state !== "ready") return sendFailure(true, "not_ready", `WhatsApp Web is ${stopped ? "stopped" : holding ? status.state : "held by another instance"}`);
    // The turn pace() took for this row, or one taken now (a send without pace(): tools, tests).
    if (!haveTurn) await takeTurn();
    if (client !== current || status.state !== "ready") return sendFailure(true, "not_ready", `WhatsApp Web is ${status.state}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), sendTimeoutMs);
      timer.unref?.();
    });
    try {
      // Not marked seen: the chat's unread messages are the catch-up's to-do list.
      const sending = current.sendMessage(chatId, request.body, { linkPreview: false, sendSeen: false });
      const settled = sending.catch(() => undefined);
      inFlight.set(request.outboxId, settled);
      void settled.then(() => {
        if (inFlight.get(request.outboxId) === settled) inFlight.delete(request.outboxId);
      });
      const sent = await Promise.race([sending, timeout]);
      if (sent === "timeout") return sendFailure(true, "timeout", `no answer from WhatsApp Web within ${Math.round(sendTimeoutMs / 1000)} s`, true);
      // The library answers nothing when WhatsApp Web has no chat for the id.
      if (!sent?.id?._serialized) return sendFailure(false, "chat_not_found", "WhatsApp Web found no chat for this number");
      const id = sent.id._serialized;
      sends.set(id, { outboxId: request.outboxId, attempt: request.attempt });
      if (sends.size > MAX_SENDS_REMEMBERED) sends.delete(sends.keys().next().value as string);
      log.info({ outboxId: request.outboxId, to: maskPhone(request.to) }, "WhatsApp Web message sent");
      return { status: "sent", providerMessageId: id };
    } catch (error) {
      const { message } = loggableError(error);
      // Numbers WhatsApp does not know: sending again will not help.
      if (/no lid for user|invalid wid|wid error|not a valid/i.test(message)) return sendFailure(false, "not_on_whatsapp", message);
      // The page or the browser went away mid-send: the message may have left.
      const ambiguous = /session closed|target closed|protocol error|detached|execution context/i.test(message);
      return sendFailure(true, "send_error", message, ambiguous);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for the pacer, one caller after the other, and takes the turn; rejects (taking nothing) when `signal` aborts. */
  function takeTurn(signal?: AbortSignal): Promise<void> {
    const turn = turns.then(async () => {
      await pacer.ready(signal);
      pacer.take();
    });
    turns = turn.catch(() => undefined);
    return turn;
  }

  const sender: ChannelSender = {
    send,
    async pace(request, signal) {
      // Rows wait (unclaimed) while the session is not ready, then go at the number's pace: the turn
      // is taken here, so several workers' rows never pass at once.
      for (;;) {
        signal?.throwIfAborted();
        if (stopped) return;
        if (status.state === "ready" && client) break;
        await sleep(500, signal);
      }
      await takeTurn(signal);
      const now = clock().getTime();
      for (const [id, at] of reserved) if (now - at >= RESERVATION_MS) reserved.delete(id);
      reserved.set(request.outboxId, now);
    },
    async findAccepted(request, since, alreadyRecorded) {
      // The chat's own history says whether the message left: it survives a crash of ours.
      const chatId = chatIdOf(request.to);
      if (!chatId) return null;
      const current = client;
      if (!current || status.state !== "ready") throw new Error("WhatsApp Web is not ready: cannot look at the chat yet");
      // A send of this row still under way in the browser finishes first (or the answer would be "not sent").
      const pending = inFlight.get(request.outboxId);
      if (pending) await withTimeout(pending, sendTimeoutMs, "the earlier send");
      const chat = await withTimeout(current.getChatById(chatId), 30_000, "opening the chat");
      const recent = await withTimeout(chat.fetchMessages({ limit: 50, fromMe: true }), 30_000, "reading the chat");
      // WhatsApp's clock is in seconds; a minute of slack for clocks that differ.
      const from = since.getTime() - 60_000;
      // Not one WhatsApp refused (ack -1): that one did not leave.
      const match = recent.find((m) => m.fromMe && m.body === request.body && m.timestamp * 1000 >= from && (m.ack ?? 0) >= 0 && !alreadyRecorded.has(m.id._serialized));
      return match ? match.id._serialized : null;
    },
  };

  return {
    sender,
    start() {
      if (started || stopped) return;
      started = true;
      void tick();
      heartbeat = setInterval(() => {
        fence();
        void tick();
      }, heartbeatMs);
      heartbeat.unref?.();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (heartbeat) clearInterval(heartbeat);
      clearRetryTimer();
      await ticking?.catch(() => undefined);
      await loggingOut;
      delete deps.senders[ROUTE];
      await sweeping?.done;
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

/** `promise`, or a rejection naming `what` after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
