import { existsSync } from "node:fs";
import { z } from "zod";

/** A value that looks like an E.164 number, optionally prefixed "whatsapp:". */
const twilioAddress = (prefix: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}\\+[1-9]\\d{6,14}$`), `must look like ${prefix}+9611234567`)
    .optional();

const booleanFlag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

const Env = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  TRUST_PROXY: z.string().min(1).default("loopback"),
  DATABASE_URL: z
    .string()
    .regex(/^(file:|postgres(ql)?:\/\/)/, "must start with file: (SQLite) or postgresql:// (PostgreSQL)")
    .default("file:./data/baladiya.db"),
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://baladiya.example.org" }).optional(),
  MUNICIPALITY_ID: z.string().regex(/^[a-z0-9-]+$/, "lowercase letters, digits and dashes").default("qab-elias"),
  DEMO_DATA: booleanFlag.optional(),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be AC followed by 32 hex digits").optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16, "looks too short for a Twilio auth token").optional(),
  TWILIO_SMS_FROM: twilioAddress(""),
  TWILIO_WHATSAPP_FROM: twilioAddress("(?:whatsapp:)?"),
  TWILIO_WHATSAPP_TEMPLATE_SID: z.string().regex(/^HX[0-9a-fA-F]{32}$/, "must be HX followed by 32 hex digits").optional(),
  TWILIO_API_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://api.twilio.com" }).optional(),
  ANDROID_SMS_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL: the phone's local API (http://192.168.1.50:8080) or the cloud API" }).optional(),
  ANDROID_SMS_USERNAME: z.string().regex(/^[\x21-\x7e]{1,200}$/, "must be printable ASCII without spaces (the app's username)").optional(),
  ANDROID_SMS_PASSWORD: z.string().regex(/^[\x20-\x7e]{1,200}$/, "must be printable ASCII (the app's password)").optional(),
  ANDROID_SMS_SIGNING_KEY: z.string().min(8, "must be at least 8 characters (the app's webhook signing key)").max(500).optional(),
  ANDROID_SMS_SIM: z.coerce.number().int().min(1).max(3).optional(),
  ANDROID_SMS_PER_MINUTE: z.coerce.number().int().min(1).max(600).default(25),
  SMPP_URL: z.string().regex(/^s?smpp:\/\/[^\s/:]+(:\d{1,5})?\/?$/, "must look like smpp://smsc.example.net:2775").optional(),
  SMPP_SYSTEM_ID: z.string().min(1).max(15, "is at most 15 characters in SMPP 3.4").optional(),
  SMPP_PASSWORD: z.string().min(1).max(8, "is at most 8 characters in SMPP 3.4").optional(),
  SMPP_SYSTEM_TYPE: z.string().max(12, "is at most 12 characters in SMPP 3.4").optional(),
  SMPP_SOURCE_ADDR: z.string().regex(/^[A-Za-z0-9 +]{1,20}$/, "must be the short code, number or sender name the operator gave you").optional(),
  SMPP_PER_SECOND: z.coerce.number().int().min(1).max(1000).default(10),
  SMPP_WINDOW: z.coerce.number().int().min(1).max(100).default(10),
  WHATSAPP_WEB_ENABLED: booleanFlag.default(false),
  CHROMIUM_PATH: z.string().regex(/^\//, "must be an absolute path such as /usr/bin/chromium").default("/usr/bin/chromium"),
  WHATSAPP_WEB_DATA_DIR: z.string().min(1).default("./data/whatsapp-web"),
  WHATSAPP_WEB_PER_MINUTE: z.coerce.number().int().min(1).max(60, "is at most 60: more is what gets numbers banned").default(20),
  WHATSAPP_WEB_BULK: booleanFlag.default(false),
  SQLITE_SYNCHRONOUS: z.enum(["normal", "full"], { error: 'must be "normal" or "full"' }).default("normal"),
  OUTBOX_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(4),
  OUTBOX_DEADLINE_HOURS: z.coerce.number().int().min(1).max(720).default(24),
  INBOUND_RATE_LIMIT: z.coerce.number().int().min(1).max(1000).default(20),
  INBOUND_RATE_WINDOW_MINUTES: z.coerce.number().int().min(1).max(1440).default(10),
  LOOP_REPEAT_LIMIT: z.coerce.number().int().min(2).max(100).default(5),
  LOOP_QUIET_MINUTES: z.coerce.number().int().min(1).max(10080).default(60),
  SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  ADMIN_USERNAME: z.string().regex(/^[a-z0-9._-]{3,40}$/, "3-40 lowercase letters, digits, dots, dashes or underscores").optional(),
  ADMIN_PASSWORD: z.string().min(10, "must be at least 10 characters").optional(),
  ACCOUNTS_DROP_DIR: z.string().min(1).optional(),
  ACCOUNTS_IMPORT_CRON: z.string().min(9, "must be a cron expression such as 0 2 * * *").default("0 2 * * *"),
  REMINDER_DAYS_BEFORE: z.coerce.number().int().min(1).max(90).default(7),
  AMOUNT_DIGITS: z.enum(["western", "arabic"]).default("western"),
  ACCOUNTS_PIN_KEY: z.string().min(32, "must be at least 32 characters").optional(),
  SURVEY_OFFER: booleanFlag.default(true),
  SURVEY_SMS_PER_MINUTE: z.coerce.number().int().min(1).max(6000).default(30),
  SURVEY_WHATSAPP_PER_SECOND: z.coerce.number().int().min(1).max(1000).default(20),
  TWILIO_WHATSAPP_SURVEY_TEMPLATE_SID: z.string().regex(/^HX[0-9a-fA-F]{32}$/, "must be HX followed by 32 hex digits").optional(),
  CHILD_ZONE_METRES: z.coerce.number().int("must be a whole number of metres").min(10, "must be at least 10 metres").max(2000, "must be at most 2000 metres").default(150),
  // The map's background tiles: an XYZ template ({z}/{x}/{y}, optional {s}) on https, or "off" for none.
  MAP_TILE_URL: z
    .string()
    .default("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    .refine((v) => v === "off" || isTileTemplate(v), {
      message:
        'must be an https URL template on one host ({s}. may start it) with {z}, {x} and {y} and no other placeholder than {s}, {r} or {-y}, such as https://tile.openstreetmap.org/{z}/{x}/{y}.png; or "off"',
    }),
  MAP_TILE_ATTRIBUTION: z.string().max(300).default("© OpenStreetMap contributors"),
  OPEN311_JURISDICTION_ID: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, "must be a host name such as baladiya.example.org (letters, digits, dots and dashes)").optional(),
  OPEN311_PUBLIC_READ: booleanFlag.default(true),
  OPEN311_READS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(120),
  OPEN311_WRITES_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(30),
  OPEN311_CONTACT: z
    .string()
    .max(500)
    .regex(/^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/, "must be plain text")
    .optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/**
 * An XYZ tile URL template the staff maps (Leaflet) and the Content-Security-Policy can both use:
 * https, one host name (optionally "{s}." in front, for a/b/c subdomains) and port, no user or
 * password, a path with {z}, {x} and {y} and no placeholder Leaflet would not fill in.
 */
export function isTileTemplate(value: string): boolean {
  const match = /^https:\/\/((?:\{s\}\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+(?::\d{1,5})?)(\/[^\s"'<>\\\x00-\x1f\x7f]*)$/i.exec(value);
  if (!match) return false;
  const path = match[2]!;
  const placeholders = path.match(/\{[^}]*\}/g) ?? [];
  const allowed = new Set(["{z}", "{x}", "{y}", "{s}", "{r}", "{-y}"]);
  return placeholders.every((p) => allowed.has(p)) && !/[{}]/.test(path.replace(/\{(?:z|x|y|s|r|-y)\}/g, "")) && ["{z}", "{x}"].every((p) => path.includes(p)) && /\{-?y\}/.test(path);
}

/** The service's configuration, grouped by concern. */
export interface Config {
  env: "development" | "production" | "test";
  /** `trustProxy`: which proxies' X-Forwarded-For to believe (express's "trust proxy"). */
  server: { port: number; host: string; publicBaseUrl: string; trustProxy: boolean | number | string };
  /** `sqliteSynchronous`: SQLite's `PRAGMA synchronous` in WAL mode (see createDb). */
  database: { url: string; sqliteSynchronous: "normal" | "full" };
  municipality: { id: string; seedDemoData: boolean };
  /** `apiUrl`: where the REST API is, when not Twilio's own (a local fake or mock server). */
  twilio: { accountSid?: string; authToken?: string; smsFrom?: string; whatsappFrom?: string; whatsappTemplateSid?: string; apiUrl?: string };
  /**
   * An Android phone running "SMS Gateway for Android" (null when ANDROID_SMS_URL is unset): `url` its
   * local API or the cloud API, `signingKey` checks its webhooks, `sim` the SIM slot to send from,
   * `perMinute` how many SMS it may send a minute.
   */
  androidSms: { url: string; username: string; password: string; signingKey?: string; sim?: number; perMinute: number } | null;
  /** An SMPP 3.4 bind to an operator or aggregator (null when SMPP_URL is unset). */
  smpp: { url: string; systemId: string; password: string; systemType?: string; sourceAddr: string; perSecond: number; window: number } | null;
  /**
   * The municipality's own WhatsApp number driven through whatsapp-web.js (WHATSAPP_WEB_ENABLED):
   * `chromiumPath` Debian's Chromium, `dataDir` the linked session and the media residents send,
   * `perMinute` messages sent a minute at most (with random gaps), `bulk` whether reminders and
   * survey invitations may go this way (off: unsolicited volume is what gets numbers banned).
   */
  whatsappWeb: { enabled: boolean; chromiumPath: string; dataDir: string; perMinute: number; bulk: boolean };
  outbox: {
    /** Messages sent at once per channel by one instance. */
    concurrency: number;
    /** After this long without getting through, a message is failed and staff can try again. */
    deadlineHours: number;
  };
  /**
   * The per-phone budget and loop breaker: more than `rateLimit` messages in `rateWindowMinutes` →
   * one notice, then silence; `loopRepeatLimit` echo-like answers in a row → silence and a flag for
   * staff, lifted by staff or after `loopQuietMinutes` without a message.
   */
  inbox: { guard: { rateLimit: number; rateWindowMinutes: number; loopRepeatLimit: number; loopQuietMinutes: number } };
  /** Signs staff session cookies; generated per process in development when unset (sessions then end at restart). */
  staff: { sessionSecret?: string; initialAdmin?: { username: string; password: string } };
  accounts: {
    /** Folder where the finance system drops its nightly CSV export (accounts*.csv, statement*.csv). */
    dropDir?: string;
    /** When the nightly import runs (node-cron, Asia/Beirut). */
    importCron: string;
    /** Remind linked residents this many days before a due date. */
    reminderDaysBefore: number;
    /** Digits in amounts sent to residents: Western 0-9 (compact in SMS) or Arabic-Indic ٠-٩ in Arabic. */
    digits: "western" | "arabic";
    /**
     * Keys the digest that tells an import whether a bill's code changed (ACCOUNTS_PIN_KEY, else
     * SESSION_SECRET). Without one, every import re-hashes every code.
     */
    pinKey?: string;
  };
  surveys: {
    /** Offer surveys once to a resident after their first request is filed. */
    offer: boolean;
    /** Invitations one run may queue per channel: SMS a minute, WhatsApp a second. */
    smsPerMinute: number;
    whatsappPerSecond: number;
    /** Content SID of the approved WhatsApp invitation (variable 1: the survey's title), for a closed 24-hour window. */
    whatsappTemplateSid?: string;
  };
  map: {
    /** A request this close (metres) to a child-related place (school, playground...) is child-related whatever its category. */
    childZoneMetres: number;
    /** The map's background tiles (an XYZ URL template), or null: areas, places and requests on a plain background. */
    tileUrl: string | null;
    /** Shown in the map's corner, as the tiles' licence asks (OpenStreetMap: "© OpenStreetMap contributors"). */
    tileAttribution: string;
  };
  /**
   * The Open311 GeoReport v2 server at /open311/v2: `jurisdictionId` the one jurisdiction_id
   * accepted (others get 404), `publicRead` whether reading needs no key, `readsPerMinute` the
   * per-address budget of reads, `writesPerMinute` each client key's budget of filed requests,
   * `contact` what Service Discovery tells client developers.
   */
  open311: { jurisdictionId: string; publicRead: boolean; readsPerMinute: number; writesPerMinute: number; contact: string };
  log: { level: z.infer<typeof Env>["LOG_LEVEL"] };
}

/** Start-up refuses to run with a bad value and says which variable is wrong. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Loads `.env` from the working directory into the environment when there is one (variables already
 * set win). Called by the entry points before `loadConfig`.
 */
export function loadDotEnv(file = ".env"): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

/**
 * Parses the environment once, at start-up. The only place that reads `process.env`; everything
 * else receives a `Config`. Empty strings count as unset, so `.env` files can list every key.
 */
export function loadConfig(environment: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(environment).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = Env.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new ConfigError(`Invalid configuration:\n${problems}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === "production" && !e.SESSION_SECRET) {
    throw new ConfigError("Invalid configuration:\n  SESSION_SECRET: is required in production (32+ random characters)");
  }
  if (e.NODE_ENV === "production" && e.TWILIO_API_URL && !secureOrLocal(e.TWILIO_API_URL)) {
    // Every request carries the auth token: over plain http only to this machine (a local mock).
    throw new ConfigError("Invalid configuration:\n  TWILIO_API_URL: must use https in production (plain http only to 127.0.0.1, ::1 or localhost)");
  }
  if (Boolean(e.ADMIN_USERNAME) !== Boolean(e.ADMIN_PASSWORD)) {
    throw new ConfigError("Invalid configuration:\n  ADMIN_USERNAME, ADMIN_PASSWORD: set both or neither");
  }
  const missing = (names: Array<[string, unknown]>) => names.filter(([, v]) => !v).map(([n]) => n);
  if (e.ANDROID_SMS_URL) {
    const absent = missing([["ANDROID_SMS_USERNAME", e.ANDROID_SMS_USERNAME], ["ANDROID_SMS_PASSWORD", e.ANDROID_SMS_PASSWORD]]);
    if (e.NODE_ENV === "production" && !e.ANDROID_SMS_SIGNING_KEY) absent.push("ANDROID_SMS_SIGNING_KEY");
    if (absent.length > 0) throw new ConfigError(`Invalid configuration:\n  ${absent.join(", ")}: required with ANDROID_SMS_URL`);
  }
  if (e.SMPP_URL) {
    const absent = missing([["SMPP_SYSTEM_ID", e.SMPP_SYSTEM_ID], ["SMPP_PASSWORD", e.SMPP_PASSWORD], ["SMPP_SOURCE_ADDR", e.SMPP_SOURCE_ADDR]]);
    if (absent.length > 0) throw new ConfigError(`Invalid configuration:\n  ${absent.join(", ")}: required with SMPP_URL`);
  }
  const whatsappFrom = e.TWILIO_WHATSAPP_FROM?.replace(/^(?!whatsapp:)/, "whatsapp:");
  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, "");
  return {
    env: e.NODE_ENV,
    server: {
      port: e.PORT,
      host: e.HOST,
      publicBaseUrl,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
    },
    database: { url: e.DATABASE_URL, sqliteSynchronous: e.SQLITE_SYNCHRONOUS },
    municipality: { id: e.MUNICIPALITY_ID, seedDemoData: e.DEMO_DATA ?? e.NODE_ENV !== "production" },
    twilio: {
      ...(e.TWILIO_ACCOUNT_SID ? { accountSid: e.TWILIO_ACCOUNT_SID } : {}),
      ...(e.TWILIO_AUTH_TOKEN ? { authToken: e.TWILIO_AUTH_TOKEN } : {}),
      ...(e.TWILIO_SMS_FROM ? { smsFrom: e.TWILIO_SMS_FROM } : {}),
      ...(whatsappFrom ? { whatsappFrom } : {}),
      ...(e.TWILIO_WHATSAPP_TEMPLATE_SID ? { whatsappTemplateSid: e.TWILIO_WHATSAPP_TEMPLATE_SID } : {}),
      ...(e.TWILIO_API_URL ? { apiUrl: e.TWILIO_API_URL.replace(/\/+$/, "") } : {}),
    },
    androidSms:
      e.ANDROID_SMS_URL && e.ANDROID_SMS_USERNAME && e.ANDROID_SMS_PASSWORD
        ? {
            url: e.ANDROID_SMS_URL.replace(/\/+$/, ""),
            username: e.ANDROID_SMS_USERNAME,
            password: e.ANDROID_SMS_PASSWORD,
            ...(e.ANDROID_SMS_SIGNING_KEY ? { signingKey: e.ANDROID_SMS_SIGNING_KEY } : {}),
            ...(e.ANDROID_SMS_SIM ? { sim: e.ANDROID_SMS_SIM } : {}),
            perMinute: e.ANDROID_SMS_PER_MINUTE,
          }
        : null,
    smpp:
      e.SMPP_URL && e.SMPP_SYSTEM_ID && e.SMPP_PASSWORD && e.SMPP_SOURCE_ADDR
        ? {
            url: e.SMPP_URL,
            systemId: e.SMPP_SYSTEM_ID,
            password: e.SMPP_PASSWORD,
            ...(e.SMPP_SYSTEM_TYPE ? { systemType: e.SMPP_SYSTEM_TYPE } : {}),
            sourceAddr: e.SMPP_SOURCE_ADDR,
            perSecond: e.SMPP_PER_SECOND,
            window: e.SMPP_WINDOW,
          }
        : null,
    whatsappWeb: {
      enabled: e.WHATSAPP_WEB_ENABLED,
      chromiumPath: e.CHROMIUM_PATH,
      dataDir: e.WHATSAPP_WEB_DATA_DIR,
      perMinute: e.WHATSAPP_WEB_PER_MINUTE,
      bulk: e.WHATSAPP_WEB_BULK,
    },
    outbox: { concurrency: e.OUTBOX_CONCURRENCY, deadlineHours: e.OUTBOX_DEADLINE_HOURS },
    inbox: {
      guard: { rateLimit: e.INBOUND_RATE_LIMIT, rateWindowMinutes: e.INBOUND_RATE_WINDOW_MINUTES, loopRepeatLimit: e.LOOP_REPEAT_LIMIT, loopQuietMinutes: e.LOOP_QUIET_MINUTES },
    },
    staff: {
      ...(e.SESSION_SECRET ? { sessionSecret: e.SESSION_SECRET } : {}),
      ...(e.ADMIN_USERNAME && e.ADMIN_PASSWORD ? { initialAdmin: { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD } } : {}),
    },
    accounts: {
      ...(e.ACCOUNTS_DROP_DIR ? { dropDir: e.ACCOUNTS_DROP_DIR } : {}),
      importCron: e.ACCOUNTS_IMPORT_CRON,
      reminderDaysBefore: e.REMINDER_DAYS_BEFORE,
      digits: e.AMOUNT_DIGITS,
      ...((e.ACCOUNTS_PIN_KEY ?? e.SESSION_SECRET) ? { pinKey: e.ACCOUNTS_PIN_KEY ?? e.SESSION_SECRET } : {}),
    },
    surveys: {
      offer: e.SURVEY_OFFER,
      smsPerMinute: e.SURVEY_SMS_PER_MINUTE,
      whatsappPerSecond: e.SURVEY_WHATSAPP_PER_SECOND,
      ...(e.TWILIO_WHATSAPP_SURVEY_TEMPLATE_SID ? { whatsappTemplateSid: e.TWILIO_WHATSAPP_SURVEY_TEMPLATE_SID } : {}),
    },
    map: { childZoneMetres: e.CHILD_ZONE_METRES, tileUrl: e.MAP_TILE_URL === "off" ? null : e.MAP_TILE_URL, tileAttribution: e.MAP_TILE_ATTRIBUTION },
    open311: {
      ...open311Defaults(publicBaseUrl),
      ...(e.OPEN311_JURISDICTION_ID ? { jurisdictionId: e.OPEN311_JURISDICTION_ID.toLowerCase() } : {}),
      publicRead: e.OPEN311_PUBLIC_READ,
      readsPerMinute: e.OPEN311_READS_PER_MINUTE,
      writesPerMinute: e.OPEN311_WRITES_PER_MINUTE,
      ...(e.OPEN311_CONTACT ? { contact: e.OPEN311_CONTACT } : {}),
    },
    log: { level: e.LOG_LEVEL },
  };
}

/**
 * Open311's settings when no OPEN311_* variable is set: the public host name (lowercased, without
 * "www.") as the jurisdiction, open reading, 120 reads a minute per address, 30 filed requests a
 * minute per client key, the site as contact.
 */
export function open311Defaults(publicBaseUrl: string): Config["open311"] {
  return {
    jurisdictionId: new URL(publicBaseUrl).hostname.toLowerCase().replace(/^www\./, ""),
    publicRead: true,
    readsPerMinute: 120,
    writesPerMinute: 30,
    contact: `The municipality's service requests (Baladiya): ${publicBaseUrl}`,
  };
}

/** An https URL, or an http one to this machine. */
function secureOrLocal(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === "https:" || hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** "true", "false", a hop count, or addresses/subnets ("loopback", "10.0.0.0/8, 127.0.0.1"). */
function parseTrustProxy(value: string): boolean | number | string {
  if (value === "true") return true;
  if (value === "false") return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
