import { once } from "node:events";
import { hostname } from "node:os";
import type { AddressInfo } from "node:net";
import { appDepsFor, prepareDatabase } from "./boot.js";
import { ConfigError, loadConfig, loadDotEnv } from "./config.js";
import { twilioSender } from "./channels/twilio/twilioSender.js";
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
  const deps = appDepsFor(config, db, logger);
  const app = createApp(deps);
  const { accountSid, authToken, smsFrom, whatsappFrom, apiUrl } = config.twilio;
  const sender = accountSid && authToken ? twilioSender({ accountSid, authToken, smsFrom, whatsappFrom, apiUrl, publicBaseUrl: config.server.publicBaseUrl }) : null;
  if (apiUrl) logger.warn({ apiUrl }, "TWILIO_API_URL is set: messages go to this server, not to Twilio");
  if (!sender) logger.warn("TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN are not set: staff replies stay queued until they are");
  // Without a sender nothing would leave the outbox: reminders would only pile up.
  const jobs = scheduleJobs({
    outbox: sender
      ? { db, sender, logger, outbox: deps.outbox, concurrency: config.outbox.concurrency, deadlineMs: config.outbox.deadlineHours * 3600_000, clock: () => new Date() }
      : null,
    reminders: sender
      ? { db, municipalityId: config.municipality.id, daysBefore: config.accounts.reminderDaysBefore, digits: config.accounts.digits, outbox: deps.outbox, logger }
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
  const shutdown = gracefulShutdown({
    server,
    jobs,
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
