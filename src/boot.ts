import { randomInt } from "node:crypto";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { createDb, isPostgresUrl, type Db } from "./db/createDb.js";
import { migrate } from "./db/migrate.js";
import { createI18n } from "./i18n/createI18n.js";
import { createInbox, type Inbox } from "./inbox/handleInbound.js";
import { KeyedQueue } from "./lib/keyedQueue.js";
import { seedCategories, seedDemoData } from "./services/seed.js";

/**
 * Brings the database up to date and opens it: migrations applied, categories seeded on a new
 * municipality, demo data on an empty database when configured. Shared by the server and `npm run chat`.
 */
export async function prepareDatabase(config: Config, logger: Logger): Promise<Db> {
  await migrate(config.database.url);
  const db = await createDb(config.database.url);
  const categories = await seedCategories(db, config.municipality.id);
  if (categories > 0) logger.info({ categories }, "seeded categories");
  if (config.municipality.seedDemoData) {
    const demo = await seedDemoData(db, config.municipality.id);
    if (demo > 0) logger.info({ tickets: demo }, "seeded demo data");
  }
  return db;
}

/** The inbox wired to the real database, translations and clock. */
export function inboxFor(config: Config, db: Db, logger: Logger): Inbox {
  return createInbox({
    db,
    dialect: isPostgresUrl(config.database.url) ? "postgres" : "sqlite",
    i18n: createI18n(),
    municipalityId: config.municipality.id,
    randomInt: (n) => randomInt(n),
    logger,
    queue: new KeyedQueue(),
    clock: () => new Date(),
  });
}
