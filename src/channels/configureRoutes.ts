import { rm } from "node:fs/promises";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { Db } from "../db/createDb.js";
import type { Inbox } from "../inbox/handleInbound.js";
import { applyDeliveryStatus } from "../services/deliveryStatus.js";
import type { OutboxContext } from "../services/outbox.js";
import type { Route, RouteDirectory, RouteStatus } from "./routes.js";
import type { ChannelSender } from "./sender.js";
import type { WhatsAppWebClient } from "./whatsappWeb/client.js";
import type { MediaStore } from "./whatsappWeb/mediaStore.js";

/** The routes this process sends through, their state, and the lifecycle of the ones that hold a connection (SMPP). */
export interface ConfiguredRoutes extends RouteDirectory {
  senders: Partial<Record<Route, ChannelSender>>;
  /** How SMS reach a resident who never wrote by SMS: the first configured route. */
  smsRoute: Route | undefined;
  /** Connects what needs a connection (the SMPP bind, reconnecting until `stop`). */
  start(): void;
  /** Unbinds and closes: after the outbox worker has stopped. */
  stop(): Promise<void>;
}

export interface RouteDeps {
  logger: Logger;
  db: Db;
  inbox: Inbox;
  outbox: Omit<OutboxContext, "now">;
  /** Where WhatsApp Web keeps the media residents send (the staff media route serves it). */
  mediaStore?: MediaStore;
  /**
   * WhatsApp Web without Chromium (tests): a client standing in for whatsapp-web.js, and the gap
   * between sends and the heartbeat when not the defaults.
   */
  whatsappWeb?: { createClient?: () => Promise<WhatsAppWebClient>; gapMs?: { min: number; max: number }; heartbeatMs?: number };
  clock?: () => Date;
}

/**
 * Builds the configured routes from the configuration: Twilio (SMS and WhatsApp), the Android
 * gateway (SMS through a phone with the municipality's SIM), SMPP (an operator's short code). A
 * route's library is only loaded when it is configured. SMS to a resident go the way they last
 * wrote; to a resident who never wrote by SMS, the first of Twilio, Android, SMPP that is configured.
 */
export async function configureRoutes(config: Config, deps: RouteDeps): Promise<ConfiguredRoutes> {
  const clock = deps.clock ?? (() => new Date());
  const senders: Partial<Record<Route, ChannelSender>> = {};
  const statuses: Array<() => RouteStatus> = [];
  const lifecycles: Array<{ start(): void; stop(): Promise<void> }> = [];

  const { accountSid, authToken, smsFrom, whatsappFrom, apiUrl } = config.twilio;
  if (accountSid && authToken) {
    const { twilioSender } = await import("./twilio/twilioSender.js");
    senders.twilio = twilioSender({ accountSid, authToken, smsFrom, whatsappFrom, apiUrl, publicBaseUrl: config.server.publicBaseUrl });
    if (apiUrl) deps.logger.warn({ apiUrl }, "TWILIO_API_URL is set: messages go to this server, not to Twilio");
    statuses.push(() => ({ route: "twilio", state: "unknown" }));
  }

  const android = config.androidSms;
  if (android) {
    const { androidSender } = await import("./android/androidSender.js");
    senders.android = androidSender({
      url: android.url,
      username: android.username,
      password: android.password,
      ...(android.sim ? { simNumber: android.sim } : {}),
      perMinute: android.perMinute,
    });
    if (!android.signingKey) deps.logger.warn("ANDROID_SMS_SIGNING_KEY is not set: /webhooks/android-sms answers 503 until it is");
    statuses.push(() => ({ route: "android", state: "unknown" }));
  }

  const smpp = config.smpp;
  if (smpp) {
    const { smppChannel } = await import("./smpp/smppChannel.js");
    const channel = smppChannel(
      {
        url: smpp.url,
        systemId: smpp.systemId,
        password: smpp.password,
        ...(smpp.systemType ? { systemType: smpp.systemType } : {}),
        sourceAddr: smpp.sourceAddr,
        perSecond: smpp.perSecond,
        window: smpp.window,
      },
      {
        onMessage: async (message) => {
          await deps.inbox(message);
        },
        onReceipt: async (report) => {
          const matched = await deps.db.$transaction((tx) => applyDeliveryStatus(tx, { ...report, route: "smpp" }, clock(), deps.outbox));
          if (!matched) deps.logger.warn({ providerMessageId: report.providerMessageId, status: report.status }, "SMPP delivery receipt for an unknown message");
        },
      },
      { logger: deps.logger, clock },
    );
    senders.smpp = channel.sender;
    lifecycles.push(channel);
    statuses.push(() => {
      const state = channel.state();
      return {
        route: "smpp",
        state: state.status === "bound" ? "ready" : state.status === "connecting" ? "connecting" : "disconnected",
        since: state.since,
        detail: state.lastError,
      };
    });
  }

  const wweb = config.whatsappWeb;
  if (wweb.enabled) {
    const [{ whatsappWebChannel }, { createLibraryClient, profileDir }, { clearStaleLock }, session, { diskMediaStore }] = await Promise.all([
      import("./whatsappWeb/whatsappWebChannel.js"),
      import("./whatsappWeb/library.js"),
      import("./whatsappWeb/profileLock.js"),
      import("../services/whatsappWebSession.js"),
      import("./whatsappWeb/diskMediaStore.js"),
    ]);
    const municipalityId = config.municipality.id;
    const holder = `${hostname()}:${process.pid}`;
    const library = { chromiumPath: wweb.chromiumPath, dataDir: wweb.dataDir, clientId: municipalityId };
    const leaseMs = 30_000;
    const channel = whatsappWebChannel(
      {
        holder,
        perMinute: wweb.perMinute,
        leaseMs,
        ...(deps.whatsappWeb?.gapMs ? { gapMs: deps.whatsappWeb.gapMs } : {}),
        ...(deps.whatsappWeb?.heartbeatMs ? { heartbeatMs: deps.whatsappWeb.heartbeatMs } : {}),
      },
      {
        onMessage: async (message) => {
          await deps.inbox(message);
        },
        onReceipt: async (report) => {
          const matched = await deps.db.$transaction((tx) => applyDeliveryStatus(tx, { ...report, route: "whatsapp-web" }, clock(), deps.outbox));
          if (!matched) deps.logger.debug({ status: report.status }, "WhatsApp Web acknowledgement for a message we do not know");
        },
      },
      {
        // The library (and Chromium) only on the instance that holds the session, when it launches.
        createClient: deps.whatsappWeb?.createClient ?? (() => createLibraryClient(library)),
        store: {
          hold: (now) => session.holdSession(deps.db, municipalityId, holder, leaseMs, now),
          release: () => session.releaseSession(deps.db, municipalityId, holder),
          publish: (status, now) => session.publishStatus(deps.db, municipalityId, { ...status, holder }, now),
          complete: (kind, request, now, acted) => session.completeRequest(deps.db, municipalityId, kind, request, now, acted),
          lids: session.lidStore(deps.db, municipalityId),
        },
        media: deps.mediaStore ?? diskMediaStore(mediaDirOf(wweb.dataDir)),
        // Launched only while this instance holds the lease: no other instance drives the profile.
        clearLock: () => clearStaleLock(profileDir(library), true),
        forgetSession: () => rm(profileDir(library), { recursive: true, force: true }),
        senders,
        ...(process.stdout.isTTY ? { printQr: (qr: string) => void printTerminalQr(qr, deps.logger) } : {}),
        logger: deps.logger,
        clock,
      },
    );
    lifecycles.push(channel);
    statuses.push(() => {
      const { holding, status } = channel.state();
      if (!holding || !status) return { route: "whatsapp-web", state: "unknown", detail: "held by another instance" };
      const state = status.state === "ready" ? "ready" : status.state === "starting" ? "connecting" : "disconnected";
      return { route: "whatsapp-web", state, since: status.since, detail: status.state === "ready" ? undefined : (status.detail ?? status.state) };
    });
  }

  const configured = routesIn(config);
  return {
    senders,
    configured,
    smsRoute: smsRouteIn(config),
    statuses: () => statuses.map((status) => status()),
    start: () => lifecycles.forEach((l) => l.start()),
    stop: async () => {
      await Promise.allSettled(lifecycles.map((l) => l.stop()));
    },
  };
}

/** The routes the configuration sets up, in the order SMS to a resident who never wrote prefers them. */
export function routesIn(config: Pick<Config, "twilio" | "androidSms" | "smpp"> & { whatsappWeb?: Pick<Config["whatsappWeb"], "enabled"> }): Route[] {
  const routes: Route[] = [];
  if (config.twilio.accountSid && config.twilio.authToken) routes.push("twilio");
  if (config.androidSms) routes.push("android");
  if (config.smpp) routes.push("smpp");
  if (config.whatsappWeb?.enabled) routes.push("whatsapp-web");
  return routes;
}

/** Where WhatsApp Web keeps the photos, documents and voice notes residents send. */
export const mediaDirOf = (dataDir: string) => `${dataDir.replace(/\/+$/, "")}/media`;

/** The QR code in the terminal too, for whoever starts the server by hand. */
async function printTerminalQr(qr: string, logger: Logger): Promise<void> {
  const { default: QRCode } = await import("qrcode");
  process.stdout.write(await QRCode.toString(qr, { type: "terminal", small: true }));
  logger.info("scan the QR code above with the town's phone: WhatsApp → Linked devices → Link a device");
}

/**
 * How SMS reach a resident who never wrote by SMS (or whose last route is gone): the first route
 * that can send an SMS — Twilio only with an SMS number (TWILIO_SMS_FROM), not for WhatsApp alone.
 */
export function smsRouteIn(config: Pick<Config, "twilio" | "androidSms" | "smpp">): Route | undefined {
  return smsRoutesIn(config)[0];
}

/** The configured routes that can send an SMS, in order of preference: Twilio only with TWILIO_SMS_FROM. */
export function smsRoutesIn(config: Pick<Config, "twilio" | "androidSms" | "smpp">): Route[] {
  return routesIn(config).filter((route) => route !== "whatsapp-web" && (route !== "twilio" || Boolean(config.twilio.smsFrom)));
}

/** The configured routes that can send WhatsApp: Twilio with a WhatsApp sender (TWILIO_WHATSAPP_FROM), and the town's own phone. */
export function whatsappRoutesIn(config: Pick<Config, "twilio" | "whatsappWeb">): Route[] {
  const routes: Route[] = [];
  if (config.twilio.accountSid && config.twilio.authToken && config.twilio.whatsappFrom) routes.push("twilio");
  if (config.whatsappWeb.enabled) routes.push("whatsapp-web");
  return routes;
}
