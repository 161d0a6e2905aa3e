import { randomBytes, randomInt } from "node:crypto";
import type { Logger } from "pino";
import { smsRouteIn, smsRoutesIn, whatsappRoutesIn } from "./channels/configureRoutes.js";
import type { Config } from "./config.js";
import { createDb, type Db } from "./db/createDb.js";
import { openHot } from "./db/hot/connect.js";
import { migrate } from "./db/migrate.js";
import type { AppDeps } from "./http/createApp.js";
import { createI18n } from "./i18n/createI18n.js";
import { renderNotification } from "./i18n/render.js";
import { createInbox, type Inbox } from "./inbox/handleInbound.js";
import { KeyedQueue } from "./lib/keyedQueue.js";
import { CategoryCache } from "./services/categories.js";
import { PlaceCache } from "./services/places/placeCache.js";
import { onPlacesChanged } from "./services/places/places.js";
import { twilioMediaFetcher } from "./channels/twilio/mediaFetch.js";
import { seedCannedReplies } from "./services/cannedReplies.js";
import { seedCategories, seedDemoAccounts, seedDemoData } from "./services/seed.js";
import { ensureInitialAdmin } from "./services/staff.js";

/**
 * Brings the database up to date and opens it: migrations applied, departments and categories
 * (and the starter canned replies) seeded on a new municipality, the first admin from ADMIN_USERNAME/ADMIN_PASSWORD when there is no
 * staff yet, demo data on an empty database when configured. Shared by the server and `npm run chat`.
 */
export async function prepareDatabase(config: Config, logger: Logger): Promise<Db> {
  await migrate(config.database.url);
  const db = await createDb(config.database.url, { sqliteSynchronous: config.database.sqliteSynchronous });
  const municipalityId = config.municipality.id;
  const categories = await seedCategories(db, municipalityId);
  if (categories > 0) logger.info({ categories }, "seeded categories");
  // A new town (its categories just seeded) starts with the canned replies in both languages; a town
  // that exists keeps its own, even none (an admin who deleted them all is not overruled at restart).
  if (categories > 0) {
    const canned = await seedCannedReplies(db, municipalityId);
    if (canned > 0) logger.info({ canned }, "seeded canned replies");
  }
  const admin = await ensureInitialAdmin(db, municipalityId, config.staff.initialAdmin);
  if (admin) logger.info({ username: admin.username }, "created the first admin from ADMIN_USERNAME");
  if (config.municipality.seedDemoData) {
    const demo = await seedDemoData(db, municipalityId, config.map.childZoneMetres);
    if (demo > 0) logger.info({ tickets: demo }, "seeded demo data");
    const accounts = await seedDemoAccounts(db, municipalityId, config.accounts.pinKey);
    if (accounts > 0) logger.info({ accounts }, "seeded demo accounts from samples/");
  }
  return db;
}

/**
 * The inbox wired to the real database, translations and clock; `categories` and `places` are
 * shared with the staff pages of the same process (they invalidate them on an edit).
 */
export function inboxFor(
  config: Config,
  db: Db,
  logger: Logger,
  categories: CategoryCache = new CategoryCache(),
  hot = openHot(db, config.database.url),
  places: PlaceCache = new PlaceCache(),
): Inbox {
  return createInbox({
    hot,
    i18n: createI18n(),
    municipalityId: config.municipality.id,
    randomInt: (n) => randomInt(n),
    logger,
    queue: new KeyedQueue(),
    clock: () => new Date(),
    amountDigits: config.accounts.digits,
    guard: config.inbox.guard,
    outboxDeadlineMs: config.outbox.deadlineHours * 3600_000,
    surveyOffer: config.surveys.offer,
    categories,
    places,
    childZoneMetres: config.map.childZoneMetres,
  });
}

/** Everything the HTTP app needs, from the configuration. */
export function appDepsFor(config: Config, db: Db, logger: Logger): AppDeps {
  const i18n = createI18n();
  let sessionSecret = config.staff.sessionSecret;
  if (!sessionSecret) {
    // Development only (config refuses production without one): sessions end when the process does.
    sessionSecret = randomBytes(32).toString("hex");
    logger.warn("SESSION_SECRET is not set: staff sessions end when the server restarts");
  }
  const { accountSid, authToken } = config.twilio;
  // One per process: the inbox reads through it, the category admin invalidates it.
  const categories = new CategoryCache();
  // Likewise for places and areas: the geocoding of new tickets reads through it.
  const places = new PlaceCache();
  // The places admin and the GeoJSON imports announce their changes: the next ticket sees them at once.
  onPlacesChanged((municipalityId) => places.invalidate(municipalityId));
  const hot = openHot(db, config.database.url);
  return {
    db,
    hot,
    inbox: inboxFor(config, db, logger, categories, hot, places),
    categories,
    logger,
    i18n,
    municipalityId: config.municipality.id,
    checkDatabase: async () => {
      await db.$queryRawUnsafe("SELECT 1");
    },
    twilio: {
      authToken,
      // Webhooks refuse another account's messages and messages to numbers that are not ours.
      accountSid,
      smsFrom: config.twilio.smsFrom,
      whatsappFrom: config.twilio.whatsappFrom,
      ...(accountSid && authToken
        ? { fetchMedia: twilioMediaFetcher({ accountSid, authToken, apiUrl: config.twilio.apiUrl }) }
        : {}),
    },
    androidSms: { signingKey: config.androidSms?.signingKey },
    publicBaseUrl: config.server.publicBaseUrl,
    map: config.map,
    open311: config.open311,
    trustProxy: config.server.trustProxy,
    amountDigits: config.accounts.digits,
    // Keys the digest of imported bill codes; the dev session secret is random, so re-hashes then.
    accountsPinKey: config.accounts.pinKey ?? sessionSecret,
    sessionSecret,
    outbox: {
      municipalityId: config.municipality.id,
      render: renderNotification(i18n),
      whatsappTemplateSid: config.twilio.whatsappTemplateSid,
      deliveryDeadlineMs: config.outbox.deadlineHours * 3600_000,
      smsRoute: smsRouteIn(config),
      smsRoutes: smsRoutesIn(config),
      whatsappRoutes: whatsappRoutesIn(config),
      whatsappWebBulk: config.whatsappWeb.bulk,
    },
  };
}
