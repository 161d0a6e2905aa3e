import { once } from "node:events";
import { hostname } from "node:os";
import type { AddressInfo } from "node:net";
import { appDepsFor, prepareDatabase } from "./boot.js";
import { ConfigError, loadConfig, loadDotEnv } from "./config.js";
import { configureRoutes, mediaDirOf } from "./channels/configureRoutes.js";
import { diskMediaStore } from "./channels/whatsappWeb/diskMediaStore.js";
import { createApp } from "./http/createApp.js";
import { scheduleJobs } from "./jobs/schedule.js";
import { gracefulShutdown } from "./lib/gracefulShutdown.js";
import { createLogger } from "./lib/logger.js";

/** Composition root: config → database → inbox → HTTP; SIGTERM/SIGINT stop it gracefully (src/lib/gracefulShutdown.ts). */
async function main() {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config.log.level);
  const db = await prepareDatabase(config, logger);
  const base = appDepsFor(config, db, logger);
  // Photos and documents WhatsApp Web residents sent stay viewable even if the channel is turned off.
  const mediaStore = diskMediaStore(mediaDirOf(config.whatsappWeb.dataDir));
  const routes = await configureRoutes(config, { logger, db, inbox: base.inbox, outbox: base.outbox, mediaStore });
  const whatsappWeb = config.whatsappWeb.enabled ? (await import("./services/whatsappWebSession.js")).whatsappWebControl(db, config.municipality.id) : undefined;
  const deps = { ...base, routes, mediaStore, ...(whatsappWeb ? { whatsappWeb } : {}) };
  const app = createApp(deps);
  const sending = routes.configured.length > 0;
  if (!sending) logger.warn("no route is configured (Twilio, ANDROID_SMS_URL, SMPP_URL or WHATSAPP_WEB_ENABLED): staff replies stay queued until one is");
  else logger.info({ routes: routes.configured }, "sending through these routes");
  if (config.whatsappWeb.enabled) {
    const { isLibraryRejection } = await import("./channels/whatsappWeb/library.js");
    process.on("unhandledRejection", (reason) => {
      if (isLibraryRejection(reason)) {
        logger.warn({ err: reason }, "whatsapp-web.js left a rejected promise behind (its page closed under it): ignored");
        return;
      }
      // Anything else crashes the process, as it would without this handler.
      throw reason;
    });
    logger.warn("WhatsApp Web is on: an unofficial client of WhatsApp; a number that sends unsolicited volume can be banned (Twilio's WhatsApp is the supported path at scale)");
  }
  // Without a sender nothing would leave the outbox: reminders would only pile up.
  const jobs = scheduleJobs({
    outbox: sending
      ? { db, senders: routes.senders, logger, outbox: deps.outbox, concurrency: config.outbox.concurrency, deadlineMs: config.outbox.deadlineHours * 3600_000, clock: () => new Date() }
      : null,
    reminders: sending
      ? { db, municipalityId: config.municipality.id, daysBefore: config.accounts.reminderDaysBefore, digits: config.accounts.digits, outbox: deps.outbox, logger }
      : null,
    surveys: sending
      ? {
          db,
          dialect: deps.hot.dialect,
          municipalityId: config.municipality.id,
          i18n: deps.i18n,
          outbox: deps.outbox,
          smsPerMinute: config.surveys.smsPerMinute,
          whatsappPerSecond: config.surveys.whatsappPerSecond,
          // Half the phone's pace: residents' own conversations on it are never queued behind a survey.
          whatsappWebPerMinute: Math.max(1, Math.floor(config.whatsappWeb.perMinute / 2)),
          whatsappSurveyTemplateSid: config.surveys.whatsappTemplateSid,
          logger,
        }
      : null,
    accountsImport: config.accounts.dropDir
      ? {
          cron: config.accounts.importCron,
          job: { db, municipalityId: config.municipality.id, dropDir: config.accounts.dropDir, logger, holder: `${hostname()}:${process.pid}`, digestKey: deps.accountsPinKey },
        }
      : null,
    logger,
  });
  if (!config.twilio.authToken) logger.warn("TWILIO_AUTH_TOKEN is not set: /webhooks/twilio answers 503 until it is");

  const server = app.listen(config.server.port, config.server.host);
  routes.start();
  const shutdown = gracefulShutdown({
    server,
    // The outbox worker stops first (its sends in flight are recorded), then the SMPP bind and WhatsApp Web close.
    jobs: {
      stop: async () => {
        await jobs.stop();
        await routes.stop();
      },
      running: () => jobs.running(),
    },
    closeDatabase: async () => {
      await deps.hot.close();
      await db.$disconnect();
    },
    logger,
  });
  // `on`, not `once`: a second signal forces the exit instead of killing the process unlogged.
  process.on("SIGINT", (signal) => void shutdown(signal));
  process.on("SIGTERM", (signal) => void shutdown(signal));
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  logger.info({ url: `http://${config.server.host}:${port}`, publicBaseUrl: config.server.publicBaseUrl }, "Baladiya is listening");
}

main().catch((error: unknown) => {
  // Configuration problems are the operator's to fix: say what is wrong, without a stack trace.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
