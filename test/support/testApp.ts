import { pino } from "pino";
import type { Resource } from "i18next";
import { createApp, type AppDeps } from "../../src/http/createApp.js";
import { renderNotification } from "../../src/i18n/render.js";
import { createI18n } from "../../src/i18n/createI18n.js";
import { createInbox, type Inbox, type InboxDeps } from "../../src/inbox/handleInbound.js";
import { KeyedQueue } from "../../src/lib/keyedQueue.js";
import type { CategoryCache } from "../../src/services/categories.js";
import type { PlaceCache } from "../../src/services/places/placeCache.js";
import { seedCategories } from "../../src/services/seed.js";
import { createTestDatabase, type TestDatabase } from "./testDb.js";
import { PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN } from "./twilio.js";

export const MUNICIPALITY = "qab-elias";

/** Picks references in order from a list, then counts up: tests know which reference comes next. */
export function predictableRandom(first: number[] = []) {
  const queue = [...first];
  let next = 427;
  return (n: number) => (queue.length > 0 ? queue.shift()! : next++) % n;
}

/** The real inbox's dependencies on a test database: its own queue, predictable references, a silent log. */
export function inboxDeps(world: { hot: TestDatabase["hot"] }, overrides: Partial<InboxDeps> = {}): InboxDeps {
  return {
    hot: world.hot,
    i18n: createI18n(),
    municipalityId: MUNICIPALITY,
    randomInt: predictableRandom(),
    logger: pino({ level: "silent" }),
    queue: new KeyedQueue(),
    clock: () => new Date(),
    // Scenarios that file requests do not expect the one-time survey offer; survey tests turn it on.
    surveyOffer: false,
    ...overrides,
  };
}

/**
 * A fresh database with the seeded categories, the real inbox and the real HTTP app around it.
 * References start at 10427 (five digits: 10000 + 427). With `categories`, the inbox and the staff
 * pages share that cache, as in production. `places` and `childZoneMetres` go to the inbox's
 * geocoding of new tickets (its own cache and 150 m unless given).
 */
export async function createTestWorld(
  options: {
    resources?: Resource;
    authToken?: string | null;
    whatsappTemplateSid?: string;
    categories?: CategoryCache;
    androidSigningKey?: string;
    surveyOffer?: boolean;
    places?: PlaceCache;
    childZoneMetres?: number;
  } = {},
) {
  const database: TestDatabase = await createTestDatabase();
  await seedCategories(database.db, MUNICIPALITY);
  const logger = pino({ level: "silent" });
  const inbox: Inbox = createInbox({
    hot: database.hot,
    i18n: createI18n(options.resources),
    municipalityId: MUNICIPALITY,
    randomInt: predictableRandom(),
    logger,
    queue: new KeyedQueue(),
    clock: () => new Date(),
    categories: options.categories,
    surveyOffer: options.surveyOffer ?? false,
    ...(options.places ? { places: options.places } : {}),
    ...(options.childZoneMetres !== undefined ? { childZoneMetres: options.childZoneMetres } : {}),
  });
  const i18n = createI18n(options.resources);
  const deps: AppDeps = {
    db: database.db,
    hot: database.hot,
    inbox,
    logger,
    i18n,
    municipalityId: MUNICIPALITY,
    checkDatabase: async () => {
      await database.db.$queryRawUnsafe("SELECT 1");
    },
    twilio: { authToken: options.authToken === null ? undefined : (options.authToken ?? TWILIO_AUTH_TOKEN) },
    publicBaseUrl: PUBLIC_BASE_URL,
    sessionSecret: "test-session-secret-0123456789abcdef",
    accountsPinKey: "test-pin-digest-key-0123456789abcdef",
    outbox: { municipalityId: MUNICIPALITY, render: renderNotification(i18n), whatsappTemplateSid: options.whatsappTemplateSid },
    categories: options.categories,
    ...(options.androidSigningKey ? { androidSms: { signingKey: options.androidSigningKey } } : {}),
  };
  const app = createApp(deps);
  return { ...database, inbox, app, logger, deps };
}
