import type { MediaStore } from "../channels/whatsappWeb/mediaStore.js";
import { STATUS_STALE_MS, type WhatsAppWebControl } from "../channels/whatsappWeb/status.js";
import express, { type Express } from "express";
import helmet from "helmet";
import type { i18n } from "i18next";
import type { RandomInt } from "../db/hot/tickets.js";
import type { Logger } from "pino";
import type { RouteDirectory } from "../channels/routes.js";
import { open311Defaults, type Config } from "../config.js";
import type { Db } from "../db/createDb.js";
import type { Hot } from "../db/hot/connect.js";
import type { Inbox } from "../inbox/handleInbound.js";
import { HttpError } from "../lib/httpError.js";
import type { CategoryCache } from "../services/categories.js";
import type { OutboxContext } from "../services/outbox.js";
import { apiRouter } from "./api/apiRouter.js";
import { errorHandler } from "./errorHandler.js";
import { open311Router } from "./open311/open311Router.js";
import { tileOrigin } from "./staff/map/mapFrame.js";
import { androidSmsWebhook } from "./routes/androidSmsWebhook.js";
import { twilioStatusWebhook } from "./routes/twilioStatus.js";
import { twilioWebhook } from "./routes/twilioWebhook.js";
import { staffRouter } from "./staff/staffRouter.js";

export interface AppDeps {
  /** The per-message query layer (src/db/hot), on the same database as `db`. */
  hot: Hot;
  db: Db;
  inbox: Inbox;
  logger: Logger;
  i18n: i18n;
  municipalityId: string;
  /** Resolves when the database answers; /healthz reports 503 otherwise. */
  checkDatabase: () => Promise<void>;
  twilio: {
    authToken: string | undefined;
    /** config.twilio.accountSid: when set, webhooks for another Twilio account are refused (403). */
    accountSid?: string | undefined;
    /** config.twilio.smsFrom / whatsappFrom: when set, inbound messages to another number are refused (403). */
    smsFrom?: string | undefined;
    whatsappFrom?: string | undefined;
    /** Fetches a resident's media for the staff pages (Twilio media URLs need the account's credentials). */
    fetchMedia?: (url: string) => Promise<Response>;
  };
  publicBaseUrl: string;
  /** express "trust proxy": whose X-Forwarded-For is believed (rate limits key on the client address). */
  trustProxy?: boolean | number | string;
  /** Signs staff session cookies. */
  sessionSecret: string;
  /** Keys the digest of imported bill codes (config.accounts.pinKey, else the session secret). */
  accountsPinKey?: string;
  /** Digits in amounts shown and sent (config AMOUNT_DIGITS). */
  amountDigits?: "western" | "arabic";
  /** Everything staff actions need to queue messages to residents, minus the clock. */
  outbox: Omit<OutboxContext, "now">;
  clock?: () => Date;
  /** The categories cache the inbox reads through; the category admin invalidates it on each save. */
  categories?: CategoryCache;
  /** ANDROID_SMS_SIGNING_KEY: checks the Android gateway's webhooks (503 without it). */
  androidSms?: { signingKey?: string | undefined };
  /** The map and the child zones (config.map); without it, no background tiles and 150 m zones. */
  map?: Config["map"];
  /** The SMS/WhatsApp routes this process sends through and their state (admin page, /healthz); none when unset. */
  routes?: RouteDirectory;
  /** The Open311 server's settings (config.open311); unset: open reading for the public host name. */
  open311?: Config["open311"];
  /** Picks the references of requests filed through Open311 (the inbox has its own); crypto's when unset. */
  randomInt?: RandomInt;
  /** Media kept by the server itself (WhatsApp Web's photos and documents), served by the staff media route. */
  mediaStore?: MediaStore;
  /** The WhatsApp Web channel (WHATSAPP_WEB_ENABLED): its admin page and /healthz entry; unset when off. */
  whatsappWeb?: WhatsAppWebControl;
}

/** The HTTP application, without `listen`: tests drive it with supertest, main.ts serves it. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  const clock = deps.clock ?? (() => new Date());
  app.disable("x-powered-by");
  // Only a configured proxy may say who the client is; otherwise anyone could pick a new
  // X-Forwarded-For per request and escape the sign-in rate limit. Default: a proxy on this host.
  app.set("trust proxy", deps.trustProxy ?? "loopback");
  // Served over plain http (a LAN address, the demo), upgrade-insecure-requests would make browsers
  // fetch the staff pages' CSS and JS over https, which is not there.
  const https = deps.publicBaseUrl.startsWith("https:");
  // Twilio's webhooks first: machine-to-machine, so without helmet's headers for HTML pages.
  const webhook = { logger: deps.logger, authToken: deps.twilio.authToken, accountSid: deps.twilio.accountSid, publicBaseUrl: deps.publicBaseUrl, clock };
  app.use(twilioWebhook({ ...webhook, inbox: deps.inbox, smsFrom: deps.twilio.smsFrom, whatsappFrom: deps.twilio.whatsappFrom }));
  app.use(twilioStatusWebhook({ ...webhook, db: deps.db, outbox: deps.outbox }));
  app.use(
    androidSmsWebhook({
      logger: deps.logger,
      inbox: deps.inbox,
      db: deps.db,
      hot: deps.hot,
      municipalityId: deps.municipalityId,
      signingKey: deps.androidSms?.signingKey,
      outbox: deps.outbox,
      clock,
    }),
  );
  // Open311 is for other programs (and the town's website, through CORS): XML and JSON only, with
  // its own error boundary, so no error there ever becomes the staff pages' HTML or the app's JSON.
  app.use(
    "/open311/v2",
    open311Router({
      db: deps.db,
      logger: deps.logger,
      municipalityId: deps.municipalityId,
      publicBaseUrl: deps.publicBaseUrl,
      settings: deps.open311 ?? open311Defaults(deps.publicBaseUrl),
      clock,
      i18n: deps.i18n,
      ...(deps.randomInt ? { randomInt: deps.randomInt } : {}),
      ...(deps.map ? { childZoneMetres: deps.map.childZoneMetres } : {}),
    }),
  );
  // Images: our own, data: URLs, and the map's background tiles (MAP_TILE_URL) when there are any.
  const tiles = tileOrigin(deps.map?.tileUrl ?? null);
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: https ? [] : null, imgSrc: ["'self'", "data:", ...(tiles ? [tiles] : [])] } } }));

  app.get("/healthz", async (_req, res) => {
    // The routes' state is information (an SMPP bind reconnecting), not a reason to take the instance out.
    const routes = deps.routes?.statuses().map((s) => ({ route: s.route, state: s.state, ...(s.since ? { since: s.since.toISOString() } : {}) })) ?? [];
    // WhatsApp Web's too: a phone to scan again is an admin's job, never a 503.
    const [database, whatsappWeb] = await Promise.all([
      Promise.resolve()
        .then(deps.checkDatabase)
        .then(
          () => true,
          () => false,
        ),
      deps.whatsappWeb ? whatsappWebHealth(deps.whatsappWeb, clock) : undefined,
    ]);
    const channels = { routes, ...(whatsappWeb ? { whatsappWeb } : {}) };
    if (database) res.json({ status: "ok", ...channels });
    else res.status(503).json({ status: "unavailable", error: "database not reachable", ...channels });
  });

  app.use("/staff", staffRouter({ ...deps, clock }));
  app.use("/api/v1", apiRouter({ ...deps, clock }));

  app.use((req, _res, next) => next(new HttpError(404, `Not found: ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}

/** How long /healthz waits for WhatsApp Web's status (a database read) before saying "unknown". */
const WHATSAPP_WEB_HEALTH_TIMEOUT_MS = 1_000;

/**
 * WhatsApp Web's line in /healthz: its state and since when, the linked number, and whether the
 * status is stale (no instance holds the session). Never the QR code or the technical detail, and
 * never a rejection: a status that fails or does not answer in time is `{ state: "unknown" }`.
 */
async function whatsappWebHealth(control: WhatsAppWebControl, clock: () => Date) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), WHATSAPP_WEB_HEALTH_TIMEOUT_MS);
  });
  try {
    const status = await Promise.race([control.status(), timeout]);
    if (status === "timeout") return { state: "unknown" };
    // Never held by any instance: nothing to report but that.
    if (status === null) return { state: "unknown", stale: true };
    return {
      state: status.state,
      since: status.since.toISOString(),
      ...(status.linkedNumber ? { linkedNumber: status.linkedNumber } : {}),
      stale: clock().getTime() - status.updatedAt.getTime() > STATUS_STALE_MS,
    };
  } catch {
    return { state: "unknown" };
  } finally {
    clearTimeout(timer);
  }
}

/** What the staff pages and the API receive: the app's dependencies with a definite clock. */
export type RouterDeps = AppDeps & { clock: () => Date };
